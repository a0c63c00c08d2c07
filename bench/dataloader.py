"""DataLoader throughput: log-mel batches with FeatureCollate vs librosa per item vs torch.stft per batch.

Workload: ``--files`` (64) mono FLAC files at 44.1 kHz, 5 to 6 s long, made in a temporary folder;
each is read at 16 kHz (soxr, HQ) and cut to 5 s; batches of 16; log-mel features with
n_fft 512, hop 160, 80 mel bands from 0 to 8 kHz, float32; 2 worker processes (``fork``,
persistent, so worker start-up is not timed); shuffle off. Contenders:

* ``spectrograms``: ``AudioDataset`` + ``create_dataloader(features=plan)``, i.e. ``FeatureCollate``:
  one ``compute_batch`` call per batch, one engine thread per worker.
* ``torch.stft + mel``: ``AudioDataset`` + a collate that runs ``torch.stft`` on the padded batch,
  then a mel filterbank (``librosa.filters.mel``, built once) and ``10 log10`` (torchaudio-style).
  All three compute the same features: symmetric Hann window, zero padding, mel filters without
  normalisation, dB floored at -100 dB (checked on the first batch).
* ``librosa``: a dataset whose ``__getitem__`` runs ``librosa.load(sr=16000, duration=5)``,
  ``librosa.feature.melspectrogram`` and ``librosa.power_to_db``; the collate pads the features.
* ``waveforms only``: ``AudioDataset`` + ``collate_variable_length``: reading and resampling alone,
  the floor under every contender.

Each round runs one epoch of every contender (order rotating); the figures are medians over the
rounds, after one untimed warm-up epoch. CPU utilisation is the CPU time of this process and its
worker processes (psutil when installed, else ``/proc``; ``RUSAGE_CHILDREN`` for exited children)
divided by wall time, in cores: with 2 workers it should not exceed about 2 (no oversubscription).

Run: PYTHONPATH=src SPECTROGRAMS_DEV_BUILD=build/devext .venv/bin/python bench/dataloader.py [--quick]
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import _harness as H  # noqa: E402
import spectrograms as sg  # noqa: E402

try:
    import torch
    from torch.utils.data import DataLoader, Dataset
except ImportError:  # pragma: no cover
    sys.exit("bench/dataloader.py needs PyTorch: pip install spectrograms[torch]")
try:
    import librosa
except ImportError:  # pragma: no cover
    sys.exit("bench/dataloader.py needs librosa: pip install spectrograms[bench]")

from spectrograms.data import AudioDataset, collate_variable_length, create_dataloader  # noqa: E402

SR_FILE = 44100
SR = 16000
SECONDS = 5.0
N_FFT, HOP, N_MELS = 512, 160, 80
BATCH = 16
TARGET = 3.0
FLOOR_DB = -100.0
# The same features from every contender: symmetric Hann window, zero padding, mel filters without
# normalisation (librosa's norm=None, the engine's default), dB with a -100 dB floor and no top_db.
WINDOW = np.hanning(N_FFT)

# ------------------------------------------------------------------------------------------ data


def make_corpus(folder: Path, n_files: int, seed: int = 0) -> List[str]:
    """Mono 16-bit FLAC files at 44.1 kHz, 5 to 6 s: a few harmonic notes plus noise."""
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(n_files):
        n = int(SR_FILE * rng.uniform(5.0, 6.0))
        t = np.arange(n) / SR_FILE
        f0 = rng.uniform(100, 800)
        x = sum(0.3 / k * np.sin(2 * np.pi * k * f0 * t + rng.uniform(0, 6.3)) for k in range(1, 5))
        x = (x + 0.03 * rng.standard_normal(n)).astype(np.float32)
        path = folder / f"clip_{i:03d}.flac"
        sg.save(path, x, SR_FILE)
        paths.append(str(path))
    return paths


# ------------------------------------------------------------------------------------------ contenders


class LibrosaMelDataset(Dataset):
    """What users write today: librosa in ``__getitem__``."""

    def __init__(self, paths: Sequence[str]) -> None:
        self.paths = list(paths)

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> Dict[str, Any]:
        y, sr = librosa.load(self.paths[i], sr=SR, duration=SECONDS)
        mel = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=N_FFT, hop_length=HOP, n_mels=N_MELS, fmin=0.0,
                                             fmax=SR / 2, window=WINDOW, norm=None, pad_mode="constant")
        db = librosa.power_to_db(mel, ref=1.0, amin=10 ** (FLOOR_DB / 10), top_db=None)
        return {"features": torch.from_numpy(db), "label": 0, "length": len(y)}


def librosa_collate(items: List[Dict[str, Any]]) -> Dict[str, Any]:
    frames = [it["features"].shape[1] for it in items]
    out = torch.zeros(len(items), N_MELS, max(frames))
    for b, it in enumerate(items):
        out[b, :, : frames[b]] = it["features"]
    lengths = torch.tensor(frames)
    return {"features": out, "feature_lengths": lengths,
            "feature_mask": torch.arange(max(frames))[None, :] < lengths[:, None],
            "labels": torch.tensor([it["label"] for it in items])}


class TorchMelCollate:
    """torchaudio-style: ``torch.stft`` on the padded batch, a mel filterbank, dB."""

    def __init__(self) -> None:
        self.window = torch.from_numpy(WINDOW.astype(np.float32))
        self.fb = torch.from_numpy(librosa.filters.mel(sr=SR, n_fft=N_FFT, n_mels=N_MELS, fmin=0.0, fmax=SR / 2,
                                                       norm=None))

    def __call__(self, items: List[Dict[str, Any]]) -> Dict[str, Any]:
        out = collate_variable_length(items)
        spec = torch.stft(out["waveforms"], N_FFT, HOP, window=self.window, center=True, pad_mode="constant",
                          return_complex=True)
        power = spec.real.square() + spec.imag.square()
        db = 10.0 * torch.log10(torch.clamp(self.fb @ power, min=10 ** (FLOOR_DB / 10)))
        frames = out["lengths"] // HOP + 1
        mask = torch.arange(db.shape[-1])[None, :] < frames[:, None]
        out.update(features=db.masked_fill(~mask[:, None, :], 0.0), feature_lengths=frames, feature_mask=mask)
        return out


# ------------------------------------------------------------------------------------------ CPU time


def _live_children_cpu() -> float:
    """CPU seconds of this process's live child processes (the DataLoader workers)."""
    try:
        import psutil
    except ImportError:
        psutil = None
    if psutil is not None:
        total = 0.0
        for child in psutil.Process().children(recursive=True):
            try:
                t = child.cpu_times()
                total += t.user + t.system
            except psutil.Error:
                pass
        return total
    me, tick, total = str(os.getpid()), os.sysconf("SC_CLK_TCK"), 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == me:  # ppid
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def cpu_seconds() -> float:
    """CPU time of this process (all threads), its exited children, and its live children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    gone = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + gone.ru_utime + gone.ru_stime + _live_children_cpu()


# ------------------------------------------------------------------------------------------ timing


class Contender:
    def __init__(self, name: str, loader: DataLoader) -> None:
        self.name = name
        self.loader = loader
        self.walls: List[float] = []
        self.cpus: List[float] = []
        self.items = 0

    def epoch(self, timed: bool = True) -> None:
        c0, t0 = cpu_seconds(), time.perf_counter()
        n = 0
        for batch in self.loader:
            n += batch["features"].shape[0] if "features" in batch else batch["waveforms"].shape[0]
        wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
        if timed:
            self.walls.append(wall)
            self.cpus.append(cpu)
        self.items = n

    @property
    def rate(self) -> float:
        return self.items / statistics.median(self.walls)

    @property
    def util(self) -> float:
        return statistics.median(c / w for c, w in zip(self.cpus, self.walls))

    @property
    def cpu_per_item(self) -> float:
        return statistics.median(self.cpus) / self.items


def check_features(loaders: Dict[str, DataLoader]) -> float:
    """Max |dB difference| between the contenders' first batches on real frames (all compute the same features)."""
    ref = next(iter(loaders["spectrograms"]))
    worst = 0.0
    for name in ("torch.stft + mel", "librosa"):
        other = next(iter(loaders[name]))
        assert torch.equal(other["feature_lengths"], ref["feature_lengths"]), name
        a, b = ref["features"], other["features"]
        m = ref["feature_mask"][:, None, :].expand_as(a)
        worst = max(worst, float((a[m] - b[m]).abs().max()))
    return worst


def main() -> None:
    ap = H.arg_parser(__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=64, help="audio files (default 64)")
    ap.add_argument("--workers", type=int, default=2, help="DataLoader workers (default 2)")
    args = ap.parse_args()
    rounds = args.rounds or (3 if args.quick else 7)
    cores = len(os.sched_getaffinity(0))
    tmp = tempfile.TemporaryDirectory(prefix="sg-bench-dataloader-")
    folder = Path(tmp.name)
    t0 = time.perf_counter()
    paths = make_corpus(folder, args.files)
    print(f"made {len(paths)} FLAC files in {time.perf_counter() - t0:.1f} s", file=sys.stderr)

    table = {"path": [os.path.basename(p) for p in paths], "label": [i % 2 for i in range(len(paths))]}
    ds = AudioDataset(table, root=folder, target="label", resample_rate=SR, max_length_sec=SECONDS)
    params = sg.SpectrogramParams(sg.StftParams(N_FFT, HOP, sg.WindowType.hanning), SR)
    plan = sg.SpectrogramPlanner().mel_db_plan(params, sg.MelParams(N_MELS, 0.0, SR / 2), sg.LogParams(FLOOR_DB),
                                               dtype="float32")
    common = dict(batch_size=BATCH, shuffle=False, num_workers=args.workers, pin_memory=False,
                  multiprocessing_context="fork" if args.workers else None)
    loaders = {
        "spectrograms": create_dataloader(ds, features=plan, **common),
        "torch.stft + mel": create_dataloader(ds, **common, collate_fn=TorchMelCollate()),
        "librosa": create_dataloader(LibrosaMelDataset(paths), **common, collate_fn=librosa_collate),
        "waveforms only": create_dataloader(ds, **common),
    }
    contenders = [Contender(name, loader) for name, loader in loaders.items()]
    diff = check_features(loaders)  # before the warm-up, which absorbs the abandoned epochs' work
    print("warm-up epoch (starts the workers) ...", file=sys.stderr)
    for c in contenders:
        c.epoch(timed=False)
    for r in range(rounds):
        k = r % len(contenders)
        for c in contenders[k:] + contenders[:k]:
            c.epoch()
        print(f"  round {r + 1}/{rounds}", file=sys.stderr, end="\r")
    print(file=sys.stderr)

    by = {c.name: c for c in contenders}
    lib = by["librosa"].rate
    rows = []
    for c in contenders:
        vs = c.name != "waveforms only"
        rows.append([c.name, f"{c.rate:.1f}", H.fmt_time(BATCH / c.rate), f"{c.util:.2f}",
                     H.fmt_time(c.cpu_per_item), H.fmt_ratio(c.rate / lib) if vs else "—",
                     H.fmt_ratio(by["librosa"].cpu_per_item / c.cpu_per_item) if vs else "—"])
    speedup = by["spectrograms"].rate / lib
    util_ok = by["spectrograms"].util <= args.workers + 0.25
    info = H.machine_info()
    out = [
        "# DataLoader: log-mel batches from 44.1 kHz FLAC files", "", H.machine_md(info), "",
        f"{len(paths)} mono FLAC files (5-6 s, 44.1 kHz) read at {SR} Hz and cut to {SECONDS:g} s, batches of "
        f"{BATCH}, log-mel {N_MELS} bands (n_fft {N_FFT}, hop {HOP}), {args.workers} workers (fork, persistent), "
        f"{cores} cores available. Medians over {rounds} epochs after a warm-up epoch. CPU util = CPU time of "
        "the main process and its workers / wall time, in cores.", "",
        H.md_table(["loader", "samples/s", "per batch", "CPU util (cores)", "CPU per sample",
                    "samples/s vs librosa", "CPU per sample vs librosa"], rows),
        "",
        "On a machine shared with other work the wall-clock figures move with the load; CPU per sample "
        "(the CPU time one sample costs, whatever else runs) is the steadier comparison.",
        "",
        H.md_table(["target", "value", "verdict"], [
            [f"spectrograms ≥ {TARGET:g}× librosa (samples/s)", H.fmt_ratio(speedup), H.verdict(speedup, TARGET, True)],
            [f"no oversubscription (CPU util ≤ {args.workers} workers + 0.25)", f"{by['spectrograms'].util:.2f}",
             "met" if util_ok else "**not met**"],
        ], "lrl"),
        "",
        f"All contenders compute the same features (symmetric Hann, zero padding, mel without normalisation, "
        f"dB floored at {FLOOR_DB:g} dB): the largest difference from spectrograms' on real frames of the first "
        f"batch is {diff:.2g} dB.",
    ]
    payload = {"machine": info, "rounds": rounds, "files": len(paths), "workers": args.workers,
               "results": {c.name: {"samples_per_s": c.rate, "cpu_util": c.util, "cpu_s_per_sample": c.cpu_per_item,
                                    "walls": c.walls, "cpus": c.cpus} for c in contenders}}
    loaders.clear()  # shuts the persistent workers down
    contenders.clear()
    H.save("dataloader", "\n".join(out), args, payload)
    tmp.cleanup()


if __name__ == "__main__":
    main()
