"""spectrograms.ray and ``spectrograms extract --scheduler ray``: one Ray instance with 2 CPUs.

The same features bit for bit as a local run (Ray tasks, Ray Data and the CLI), read-only
arrays from Ray used without copies, and a Ray address that does not answer is a quick error.
"""

from __future__ import annotations

import os
import pathlib
import socket
import time
import tracemalloc

import numpy as np
import pytest

import spectrograms as sg
from spectrograms import audio, cli

pytest.importorskip("soundfile")
pytest.importorskip("soxr")
ray = pytest.importorskip("ray")
pytest.importorskip("ray.data")

import spectrograms.ray as sgr  # noqa: E402

SR = 16000
N_FILES = 40


# --------------------------------------------------------------------------- fixtures

def make_corpus(root: pathlib.Path, n: int = N_FILES) -> list:
    """``n`` WAV files of 0.2-2 s at 16 kHz (PCM16 and float), a third of them in a subfolder."""
    rng = np.random.default_rng(1234)
    files = []
    for i in range(n):
        seconds = 0.2 + 1.8 * rng.random()
        t = np.arange(int(SR * seconds)) / SR
        f0 = 100 + 900 * rng.random()
        x = 0.3 * np.sin(2 * np.pi * f0 * t) + 0.05 * rng.standard_normal(t.size)
        sub = root / "sub" if i % 3 == 0 else root
        sub.mkdir(parents=True, exist_ok=True)
        path = sub / f"clip{i:02d}.wav"
        audio.save(path, x.astype(np.float32), SR, subtype="FLOAT" if i % 2 else "PCM_16")
        files.append(path)
    return files


def npz_tree(out: pathlib.Path) -> dict:
    found = {}
    for p in sorted(out.rglob("*")):
        if p.is_file():
            rel = str(p.relative_to(out))
            if p.suffix == ".npz":
                with np.load(p) as z:
                    found[rel] = z["data"].copy()
            else:
                found[rel] = None
    return found


def assert_same_tree(actual: dict, expected: dict) -> None:
    assert sorted(actual) == sorted(expected)
    for rel, data in expected.items():
        got = actual[rel]
        assert got is not None and got.dtype == data.dtype and got.shape == data.shape, rel
        assert np.array_equal(got, data), f"{rel}: not bit for bit (max diff {np.abs(got - data).max()})"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    return root, make_corpus(root)


@pytest.fixture(scope="module")
def local_run(corpus, tmp_path_factory):
    root, _ = corpus
    out = tmp_path_factory.mktemp("local")
    assert cli.main(["extract", str(root), "--out", str(out)]) == 0
    return npz_tree(out)


@pytest.fixture(scope="module")
def ray_cluster():
    """Ray with 2 CPUs, started once for the module (it takes seconds)."""
    if ray.is_initialized():
        ray.shutdown()
    env = {k: v for k, v in os.environ.items() if k in ("PYTHONPATH", "SPECTROGRAMS_DEV_BUILD") and v}
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": env} if env else None)
    try:
        from ray.data import DataContext

        DataContext.get_current().enable_progress_bars = False
    except Exception:  # pragma: no cover - older Ray
        pass
    yield
    ray.shutdown()


def mel_plan(sample_rate=SR, dtype="float32"):
    params = sg.SpectrogramParams(sg.StftParams(2048, 512, sg.WindowType.hanning, True), sample_rate)
    return sg.SpectrogramPlanner().mel_db_plan(params, sg.MelParams(128), sg.LogParams(-80.0), dtype=dtype)


# --------------------------------------------------------------------------- files

def test_extract_files_same_bits(corpus, local_run, ray_cluster, tmp_path):
    root, files = corpus
    seen = []
    outcomes = sgr.extract_files(files, mel_plan(), tmp_path / "out", root=root, files_per_task=3,
                                 on_outcome=lambda i, o: seen.append(i))
    assert sorted(seen) == list(range(N_FILES))
    assert all(o.error is None for o in outcomes)
    assert {o.n_threads for o in outcomes} == {1}  # num_cpus=1 per task: one engine thread
    assert_same_tree(npz_tree(tmp_path / "out"), local_run)


def test_cli_ray_scheduler_same_bits(corpus, local_run, ray_cluster, tmp_path, capsys):
    root, files = corpus
    (root / "zz_broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEnothing")
    try:
        rc = cli.main(["extract", str(root), "--out", str(tmp_path / "out"), "--scheduler", "ray", "--progress"])
    finally:
        (root / "zz_broken.wav").unlink()
    captured = capsys.readouterr()
    assert rc == 1  # the broken file is reported, the others are written
    assert f"{N_FILES} written, 1 failed" in captured.out
    assert "zz_broken.wav" in captured.err.split("1 file failed")[1]
    assert "extract: 100%" in captured.err
    assert ray.is_initialized()  # the CLI used the running Ray and left it running
    assert_same_tree(npz_tree(tmp_path / "out"), local_run)


# --------------------------------------------------------------------------- Ray Data

def test_ray_data_same_bits(corpus, local_run, ray_cluster):
    root, files = corpus

    def _load(batch):  # defined here: shipped by value (the workers cannot import this file)
        from spectrograms import audio as sg_audio

        out = np.empty(len(batch["path"]), dtype=object)
        for i, p in enumerate(batch["path"]):
            out[i] = sg_audio.load(str(p), dtype="float32")[0]
        return {"path": batch["path"], "audio": out}

    plan = mel_plan()
    ds = ray.data.from_items([{"path": str(f)} for f in files])
    ds = ds.map_batches(_load, batch_size=8, batch_format="numpy")
    rows = sgr.map_spectrograms(ds, plan, batch_size=8).take_all()
    assert len(rows) == N_FILES
    for row in rows:
        rel = str(pathlib.Path(row["path"]).relative_to(root).with_suffix(".npz"))
        features = np.asarray(row["features"])
        expected = local_run[rel]
        assert features.dtype == expected.dtype and features.shape == expected.shape, rel
        assert np.array_equal(features, expected), rel


def test_ray_data_read_only_columns_without_copies(ray_cluster):
    plan = mel_plan()
    rng = np.random.default_rng(5)
    clips = [rng.standard_normal(int(n)).astype(np.float32) for n in rng.integers(2000, 20000, size=12)]
    expected = [plan.compute(c).data for c in clips]
    mapper = sgr.Spectrograms(plan)

    def probe(batch):  # a closure: shipped by value. Records what Ray handed over.
        from spectrograms._input import as_signal

        col = batch["audio"]
        items = list(col)
        out = mapper(batch)
        out["writeable"] = np.array([a.flags.writeable for a in items])
        out["shared"] = np.array([np.shares_memory(as_signal(a, plan.dtype), a) for a in items])
        out["kind"] = np.array([f"{col.ndim}-D {col.dtype}"] * len(items))
        # the same column as read-only arrays (what zero-copy batches from the object store are)
        ro = np.empty(len(items), dtype=object)
        for i, a in enumerate(items):
            ro[i] = a.view()
            ro[i].setflags(write=False)
        again = mapper({"audio": ro})["features"]
        out["ro_same"] = np.array([np.array_equal(f, g) for f, g in zip(out["features"], again)])
        out["ro_shared"] = np.array([np.shares_memory(as_signal(a, plan.dtype), a) for a in ro])
        return out

    # clips of different lengths: Ray hands over a numpy object array of 1-D arrays
    ds = ray.data.from_items([{"i": i, "audio": c} for i, c in enumerate(clips)])
    rows = ds.map_batches(probe, batch_size=4, batch_format="numpy", zero_copy_batch=True).take_all()
    assert len(rows) == len(clips)
    assert {r["kind"] for r in rows} == {"1-D object"}
    assert all(r["shared"] and r["ro_shared"] and r["ro_same"] for r in rows), "an input was copied"
    for r in rows:
        assert np.array_equal(r["features"], expected[r["i"]])

    # equal lengths from numpy: a read-only 2-D block straight from the object store
    block = np.stack([c[:2000] for c in clips])
    ds = ray.data.from_numpy(block).rename_columns({"data": "audio"})
    rows = ds.map_batches(probe, batch_size=4, batch_format="numpy", zero_copy_batch=True).take_all()
    assert {r["kind"] for r in rows} == {"2-D float32"}
    assert not any(r["writeable"] for r in rows), "expected read-only rows from a zero-copy batch"
    assert all(r["shared"] for r in rows)
    want = {plan.compute(b).data.tobytes() for b in block}
    assert {np.asarray(r["features"]).tobytes() for r in rows} == want

    # pad=True: one (n_bins, max_frames) slice per row plus its frame count
    rows = sgr.map_spectrograms(ray.data.from_items([{"i": i, "audio": c} for i, c in enumerate(clips)]), plan,
                                pad=True, batch_size=4).take_all()
    for r in rows:
        n = expected[r["i"]].shape[1]
        assert r["features_frames"] == n
        assert np.array_equal(r["features"][:, :n], expected[r["i"]])
        assert not r["features"][:, n:].any()


def test_read_only_input_is_not_copied():
    """A read-only float32 signal goes to the engine as it is: no numpy copy of it, let alone per frame."""
    plan = mel_plan()
    x = np.random.default_rng(0).standard_normal(SR * 30).astype(np.float32)
    expected = plan.compute(x).data
    x.setflags(write=False)
    plan.compute(x[:100])  # warm up
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        spec = plan.compute(x)
        batch = plan.compute_batch(np.array([x, x[: SR]], dtype=object), n_threads=2)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert np.array_equal(spec.data, expected) and np.array_equal(batch[0].data, expected)
    assert peak < x.nbytes // 4, f"{peak} bytes allocated for a {x.nbytes}-byte read-only input"


def test_mapper_direct_call_and_empty_batch():
    plan = mel_plan()
    mapper = sgr.Spectrograms(plan, column="wave", output_column="mel")
    clips = np.empty(2, dtype=object)
    clips[0] = np.zeros(3000, np.float32)
    clips[1] = np.ones(5000, np.float32)
    out = mapper({"wave": clips, "id": np.array([1, 2])})
    assert set(out) == {"wave", "id", "mel"}
    assert out["mel"][1].shape == plan.compute(clips[1]).shape
    empty = mapper({"wave": np.empty(0, dtype=object), "id": np.empty(0)})
    assert len(empty["mel"]) == 0
    with pytest.raises(TypeError, match="plan"):
        sgr.Spectrograms(object())


# --------------------------------------------------------------------------- bad input

def test_cli_unreachable_ray_is_quick_clear_error(corpus, tmp_path, capsys):
    _, files = corpus
    s = socket.socket()
    s.bind(("127.0.0.1", 0))  # bound, not listening
    port = s.getsockname()[1]
    try:
        start = time.monotonic()
        rc = cli.main(["extract", str(files[0]), "--out", str(tmp_path / "o"),
                       "--scheduler", f"ray://127.0.0.1:{port}"])
        elapsed = time.monotonic() - start
    finally:
        s.close()
    err = capsys.readouterr().err
    assert rc == 2
    assert elapsed < 10
    assert f"cannot reach the Ray cluster at 127.0.0.1:{port}" in err
