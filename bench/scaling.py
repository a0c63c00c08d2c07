"""Scaling out: files per second for 200 x 5 s files at 16 kHz, local pool vs Dask vs Ray.

Every contender turns the same 200 WAV files (5 s, 16 kHz, PCM16) into features with the
``spectrograms extract`` defaults (mel dB, 128 bands, n_fft 2048, hop 512, float32):

* local pool: ``spectrograms extract --jobs 2`` (threads in this process), reading and writing .npz;
* Dask: ``spectrograms.dask.extract_files`` on a LocalCluster of 2 workers x 1 thread, with one
  file per task and with the default grouping of files into tasks; the latter once more with
  Dask's ``MALLOC_TRIM_THRESHOLD_`` unset in the workers;
* Ray tasks: ``spectrograms.ray.extract_files`` on ``ray.init(num_cpus=2)``, with one file per
  task and with the default grouping;
* Ray Data: ``from_items(paths) -> map_batches(load) -> map_spectrograms``, features streamed back
  to the driver (Ray Data does not write one .npz per file), compared with a local pool doing the
  same reading and computing without writing;
* librosa in Dask tasks (and, for reference, in the local pool): ``librosa.feature.melspectrogram``
  + ``power_to_db`` with matched settings, one task per file, each writing an .npz.

Cluster start-up is timed separately. Each contender first runs once on 16 files (workers import
everything and unpickle the plan), then REPEATS timed runs on all files; the table shows the
median. The overhead of an engine is ``1 - (its files/s) / (the local pool's files/s)``.

Run: PYTHONPATH=src SPECTROGRAMS_DEV_BUILD=build/devext .venv/bin/python bench/scaling.py
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import _harness as H  # noqa: E402
import spectrograms as sg  # noqa: E402
from spectrograms import audio, cli  # noqa: E402
from spectrograms._extract import auto_files_per_task  # noqa: E402

N_FILES = 200
SECONDS = 5.0
SR = 16000
N_FFT, HOP, N_MELS = 2048, 512, 128
WORKERS = 2
REPEATS = 3
WARMUP_FILES = 16
GROUP = auto_files_per_task(N_FILES, WORKERS)  # what extract_files chooses for 200 files on 2 slots


def make_files(root: Path) -> list:
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    t = np.arange(int(SR * SECONDS)) / SR
    files = []
    for i in range(N_FILES):
        x = 0.3 * np.sin(2 * np.pi * (100 + 10 * i) * t) + 0.05 * rng.standard_normal(t.size)
        path = root / f"clip{i:03d}.wav"
        audio.save(path, x.astype(np.float32), SR, subtype="PCM_16")
        files.append(path)
    return files


def make_plan():
    params = sg.SpectrogramParams(sg.StftParams(N_FFT, HOP, sg.WindowType.hanning, True), float(SR))
    return sg.SpectrogramPlanner().mel_db_plan(params, sg.MelParams(N_MELS), sg.LogParams(-80.0), dtype="float32")


def librosa_file(path: str, out: str) -> tuple:
    """One file with librosa (mel dB as the engine computes it) written as .npz; returns the shape."""
    import librosa

    x, sr = audio.load(path, dtype="float32")
    mel = librosa.feature.melspectrogram(y=x, sr=sr, n_fft=N_FFT, hop_length=HOP, n_mels=N_MELS,
                                         window=np.hanning(N_FFT), center=True, pad_mode="constant",
                                         power=2.0, htk=False, norm=None)
    db = librosa.power_to_db(mel, ref=1.0, amin=1e-8, top_db=None).astype(np.float32)
    np.savez(out, data=db)
    return db.shape


def load_and_compute(path: Path, plan) -> tuple:
    x, _ = audio.load(path, dtype="float32")
    return plan.compute(x).shape


def timed(run, files: list, out: Path) -> float:
    """Seconds for one run over ``files`` writing under ``out`` (emptied first)."""
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    n = run(files, out)
    elapsed = time.perf_counter() - start
    assert n == len(files), f"{n} of {len(files)} files done"
    return elapsed


def main() -> None:
    args = H.arg_parser(__doc__.splitlines()[0]).parse_args()
    repeats = 1 if args.quick else REPEATS
    work = Path(tempfile.mkdtemp(prefix="sg-scaling-"))
    results: dict = {}
    startup: dict = {}
    try:
        files = make_files(work / "in")
        plan = make_plan()
        out = work / "out"
        # the workers of the engines must find spectrograms the way this process did
        env = {k: v for k, v in os.environ.items() if k in ("PYTHONPATH", "SPECTROGRAMS_DEV_BUILD") and v}

        def local_cli(fs, o):
            with contextlib.redirect_stdout(io.StringIO()):
                rc = cli.main(["extract", *map(str, fs), "--out", str(o), "--jobs", str(WORKERS)])
            assert rc == 0
            return len(list(o.glob("*.npz")))

        def local_features(fs, o):
            with ThreadPoolExecutor(WORKERS) as pool, sg.num_threads(1):
                return len(list(pool.map(lambda f: load_and_compute(f, plan), fs)))

        def local_librosa(fs, o):
            o.mkdir(parents=True, exist_ok=True)
            with ThreadPoolExecutor(WORKERS) as pool:
                return len(list(pool.map(lambda f: librosa_file(str(f), str(o / (f.stem + ".npz"))), fs)))

        contenders = [("local pool (spectrograms extract --jobs 2)", "write", local_cli),
                      ("local pool, features only (load + compute)", "features", local_features),
                      ("local pool, librosa", "write", local_librosa)]

        def measure(name, kind, run):
            run(files[:WARMUP_FILES], out)
            times = [timed(run, files, out) for _ in range(repeats)]
            results[name] = (kind, statistics.median(times), times)
            print(f"{name}: {N_FILES / statistics.median(times):.0f} files/s", file=sys.stderr)

        for name, kind, run in contenders:
            measure(name, kind, run)

        # ---- Dask (a LocalCluster sets MALLOC_TRIM_THRESHOLD_ and OMP_NUM_THREADS in this process's
        # environment for its workers; restore it afterwards so that Ray's workers do not inherit them)
        import dask
        from distributed import Client, LocalCluster

        import spectrograms.dask as sgd

        saved_env = dict(os.environ)
        for trim in (True, False):
            cfg = {} if trim else {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}
            label = "" if trim else ", MALLOC_TRIM_THRESHOLD_ unset"
            t0 = time.perf_counter()
            with dask.config.set(cfg), LocalCluster(n_workers=WORKERS, threads_per_worker=1, processes=True,
                                                    host="127.0.0.1", dashboard_address=None) as lc, \
                    Client(lc) as client:
                if trim:
                    startup["Dask LocalCluster (2 workers)"] = time.perf_counter() - t0

                def dask_sg(fs, o, per_task=1):
                    outcomes = sgd.extract_files(fs, plan, o, client=client, files_per_task=per_task)
                    if per_task is None:
                        assert len({x.worker for x in outcomes}) == WORKERS
                    assert all(x.error is None for x in outcomes) and {x.n_threads for x in outcomes} == {1}
                    return len(outcomes)

                def dask_librosa(fs, o):
                    o.mkdir(parents=True, exist_ok=True)
                    tasks = [dask.delayed(librosa_file)(str(f), str(o / (f.stem + ".npz"))) for f in fs]
                    return len(dask.compute(*tasks))

                if trim:
                    measure("Dask, 1 file per task", "write", dask_sg)
                measure(f"Dask, default ({GROUP} files per task){label}", "write",
                        lambda fs, o: dask_sg(fs, o, None))
                if trim:
                    measure("Dask, librosa in tasks", "write", dask_librosa)
            os.environ.clear()
            os.environ.update(saved_env)

        # ---- Ray
        import ray
        import ray.data

        import spectrograms.ray as sgr

        t0 = time.perf_counter()
        ray.init(num_cpus=WORKERS, include_dashboard=False, log_to_driver=False,
                 runtime_env={"env_vars": env} if env else None)
        startup["Ray (num_cpus=2)"] = time.perf_counter() - t0
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False
        try:
            def ray_tasks(fs, o, per_task=1):
                outcomes = sgr.extract_files(fs, plan, o, files_per_task=per_task)
                assert all(x.error is None for x in outcomes)
                return len(outcomes)

            def load_batch(batch):
                from spectrograms import audio as sg_audio

                col = np.empty(len(batch["path"]), dtype=object)
                for i, p in enumerate(batch["path"]):
                    col[i] = sg_audio.load(str(p), dtype="float32")[0]
                return {"path": batch["path"], "audio": col}

            def ray_data(fs, o):
                ds = ray.data.from_items([{"path": str(f)} for f in fs])
                ds = ds.map_batches(load_batch, batch_size=8, batch_format="numpy")
                ds = sgr.map_spectrograms(ds, plan, batch_size=8)
                n = 0
                for batch in ds.select_columns(["features"]).iter_batches(batch_size=32, batch_format="numpy"):
                    n += len(batch["features"])
                return n

            measure("Ray tasks, 1 file per task", "write", ray_tasks)
            measure(f"Ray tasks, default ({GROUP} files per task)", "write",
                    lambda fs, o: ray_tasks(fs, o, None))
            measure("Ray Data (load -> map_spectrograms), features only", "features", ray_data)
        finally:
            ray.shutdown()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    base = {"write": results["local pool (spectrograms extract --jobs 2)"][1],
            "features": results["local pool, features only (load + compute)"][1]}
    rows = []
    for name, (kind, median, times) in results.items():
        fps = N_FILES / median
        ref = N_FILES / base[kind]
        lost = 100 * (1 - fps / ref)
        overhead = "—" if median == base[kind] else (f"{lost:.0f} %" if lost >= 0 else f"{-lost:.0f} % faster")
        what = "read, compute, write .npz" if kind == "write" else "read, compute"
        rows.append([name, what, f"{fps:.0f}", f"{median:.2f}", overhead])
    info = H.machine_info()
    md = "\n".join([
        f"## Scaling out: {N_FILES} files x {SECONDS:g} s at {SR} Hz, mel dB ({N_MELS} bands, n_fft {N_FFT}, "
        f"hop {HOP}, float32), {WORKERS} workers",
        "",
        H.md_table(["engine (2 workers x 1 thread, or 2 CPUs)", "work per file", "files/s",
                    f"s (median of {repeats})", "overhead vs local pool"], rows, "llrrr"),
        "",
        "Overhead: 1 - files/s over the local pool's doing the same work (the first row for rows that "
        "write .npz, the features-only local row for the others). Start-up, not in the table: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in startup.items()) + ".",
        "",
        H.machine_md(info),
    ])
    H.save("scaling", md, args, {"results": {k: {"kind": v[0], "median_s": v[1], "runs_s": v[2]}
                                            for k, v in results.items()},
                                 "startup_s": startup, "machine": info})


if __name__ == "__main__":
    main()
