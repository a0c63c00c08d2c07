"""Shared benchmark helpers: interleaved-median timing, the C floor, markdown tables, machine info.

Timing model (for noisy, shared machines):

* every contender is warmed up first (untimed), then calibrated: a *block* is as many calls as
  fit in ``block_time`` seconds (at least one);
* the run is a series of *rounds*; each round times a few blocks (``round_time`` worth) of every
  contender in turn (the order rotates from round to round, so no contender always follows the
  same neighbour);
* a block's time divided by its calls is one sample; the reported figure is the **median** of all
  samples (so a block disturbed by another process, or a round on a busy machine, moves a few
  samples, not the result).

Nothing here imports ``spectrograms``: the scripts import it themselves (dev build or installed).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"

# --------------------------------------------------------------------------------------------------
# Workloads shared by the scripts


@dataclass(frozen=True)
class Workload:
    key: str
    label: str
    length: int  # samples per clip
    sr: int
    n_fft: int
    hop: int
    n_mels: int
    clips: int = 1

    def signals(self, dtype: Any = "float64", seed: int = 0) -> Any:
        """(clips, length) white noise in [-0.5, 0.5), seeded."""
        import numpy as np

        rng = np.random.default_rng(seed)
        return (rng.random((self.clips, self.length)) - 0.5).astype(dtype)


W0 = Workload("W0", "W0: 512 samples, 512/256, 128 mels", 512, 16000, 512, 256, 128)
W1 = Workload("W1", "W1: 1 s @ 16 kHz, 512/256, 128 mels", 16000, 16000, 512, 256, 128)
W2 = Workload("W2", "W2: 10 s @ 22.05 kHz, 2048/512, 128 mels", 220500, 22050, 2048, 512, 128)
W3 = Workload("W3", "W3: 64 x 4 s @ 16 kHz, 400/160, 80 mels", 64000, 16000, 400, 160, 80, clips=64)
WORKLOADS = {w.key: w for w in (W0, W1, W2, W3)}

# --------------------------------------------------------------------------------------------------
# Interleaved timing


@dataclass
class Contender:
    """A callable to time. ``calls`` is how many logical units one call covers (e.g. 64 clips):
    samples are reported per unit. ``before`` runs (untimed) before each block, e.g. to set
    torch's thread count."""

    name: str
    fn: Callable[[], Any]
    units: int = 1
    before: Optional[Callable[[], Any]] = None
    reps: int = 0  # calls per block, set by calibration
    blocks: int = 1  # blocks per round, set by calibration
    samples: List[float] = field(default_factory=list)  # seconds per unit, one per block
    faults: List[float] = field(default_factory=list)  # minor page faults per unit, one per block
    cores: List[float] = field(default_factory=list)  # process CPU time / wall time, one per block

    @property
    def median(self) -> float:
        return statistics.median(self.samples) if self.samples else float("nan")

    @property
    def median_cores(self) -> float:
        """Cores this process kept busy while the contender ran (all its threads), median."""
        return statistics.median(self.cores) if self.cores else float("nan")

    @property
    def median_faults(self) -> float:
        return statistics.median(self.faults) if self.faults else float("nan")

    def spread(self) -> float:
        """Interquartile range / median: how noisy the samples were."""
        if len(self.samples) < 4:
            return float("nan")
        q = statistics.quantiles(self.samples, n=4)
        return (q[2] - q[0]) / statistics.median(self.samples)


def _faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _block(c: Contender, reps: int, record: bool = False) -> float:
    if c.before is not None:
        c.before()
    fn = c.fn
    f0 = _faults()
    p0 = time.process_time()
    t0 = time.perf_counter()
    for _ in range(reps):
        fn()
    t = time.perf_counter() - t0
    if record:
        c.samples.append(t / (reps * c.units))
        c.faults.append((_faults() - f0) / (reps * c.units))
        c.cores.append((time.process_time() - p0) / t)
    return t


def interleaved(contenders: Sequence[Contender], rounds: int = 30, block_time: float = 0.02,
                warmup: float = 0.05, verbose: bool = False, resume: bool = False,
                external: Sequence[Any] = (), round_time: float = 0.0) -> Dict[str, Contender]:
    """Times the contenders in interleaved rounds; returns them by name with ``samples`` filled.

    A block is ~``block_time`` of calls (at least one); each round runs ``round_time`` worth of
    blocks of each contender (at least one). Short blocks keep the median clear of the time
    slices lost to other processes on a busy machine.

    ``external``: objects with a ``block()`` method (e.g. :class:`Floor`, a separate process that
    times itself) run once per round, in the same rotation as the contenders.
    ``resume=True`` adds rounds to contenders timed before (no new warm-up or calibration)."""
    for c in contenders if not resume else ():  # warm-up (caches, plans, lazy imports), calibration
        first = _block(c, 1)
        n, spent = 0, 0.0
        while n < 1 or (spent < warmup and first < warmup):  # slow calls: one warm-up, one calibration
            spent += _block(c, 1)
            n += 1
        per_call = spent / n
        c.reps = max(1, int(round(block_time / max(per_call, 1e-9))))
        c.blocks = max(1, int(round(round_time / (c.reps * max(per_call, 1e-9)))))
        c.samples, c.faults, c.cores = [], [], []
    order: List[Any] = list(contenders) + list(external)
    start = len(contenders[0].samples) if contenders else 0
    for r in range(start, start + rounds):
        k = r % len(order)
        for c in order[k:] + order[:k]:
            if isinstance(c, Contender):
                for _ in range(c.blocks):
                    _block(c, c.reps, record=True)
            else:
                c.block()
        if verbose:
            print(f"  round {r + 1}/{start + rounds}", file=sys.stderr, end="\r")
    if verbose:
        print(file=sys.stderr)
    return {c.name: c for c in contenders}


# --------------------------------------------------------------------------------------------------
# Formatting


def fmt_time(s: Optional[float]) -> str:
    if s is None or s != s:
        return "n/a"
    if s < 1e-3:
        return f"{s * 1e6:.1f} µs"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def fmt_ratio(r: Optional[float], digits: int = 2) -> str:
    if r is None or r != r:
        return "n/a"
    return f"{r:.{digits}f}×"


def verdict(value: Optional[float], target: float, higher_is_better: bool) -> str:
    if value is None or value != value:
        return "n/a"
    ok = value >= target if higher_is_better else value <= target
    return "met" if ok else "**not met**"


def md_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], align: Optional[str] = None) -> str:
    """A markdown table; ``align`` is one letter per column (l/r), default: first l, rest r."""
    align = align or "l" + "r" * (len(headers) - 1)
    sep = ["---" if a == "l" else "---:" for a in align]
    lines = ["| " + " | ".join(str(h) for h in headers) + " |", "| " + " | ".join(sep) + " |"]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
# The C floor (a plain C FFTW program; see shared/perf/README.md)


def _floor_sources() -> List[Path]:
    env = os.environ.get("SPECTROGRAMS_FLOOR_SRC")
    cands = [Path(env)] if env else []
    cands += [ROOT.parent / "shared" / "perf" / "floor.c", ROOT / "bench" / "floor.c"]
    return [p for p in cands if p.is_file()]


def floor_binary(build: bool = True) -> Optional[Path]:
    """The floor executable: $SPECTROGRAMS_FLOOR, build/floor, or built from floor.c (no -march=native,
    compiled from its own directory because it #includes __FILE__). None when unavailable."""
    env = os.environ.get("SPECTROGRAMS_FLOOR")
    if env and Path(env).is_file():
        return Path(env)
    exe = ROOT / "build" / "floor"
    if exe.is_file():
        return exe
    if not build or shutil.which("gcc") is None:
        return None
    for src in _floor_sources():
        exe.parent.mkdir(parents=True, exist_ok=True)
        cmd = ["gcc", "-O3", "-fopenmp", src.name, "-o", str(exe), "-lfftw3", "-lfftw3f", "-lm"]
        if subprocess.run(cmd, cwd=src.parent, capture_output=True).returncode == 0:
            return exe
    return None


def run_floor(w: Workload, min_time: float = 0.2, threads: int = 1, exe: Optional[Path] = None,
              timeout: float = 120.0, wisdom: Optional[str] = None) -> Optional[dict]:
    """Runs the floor on workload ``w`` with zero padding; returns its JSON, or None.

    ``threads`` > 1 adds the floor's OpenMP rows; on an oversubscribed machine those can take
    minutes (spinning OpenMP threads), hence the timeout."""
    exe = exe or floor_binary()
    if exe is None:
        return None
    cmd = [str(exe), "--len", str(w.length), "--nfft", str(w.n_fft), "--hop", str(w.hop), "--mels",
           str(w.n_mels), "--sr", str(w.sr), "--clips", str(w.clips), "--threads", str(threads),
           "--pad", "zero", "--min-time", str(min_time), "--json"]
    if wisdom:
        cmd += ["--wisdom", wisdom]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        print(f"floor timed out after {timeout:g} s (machine busy?)", file=sys.stderr)
        return None
    if p.returncode != 0:
        print(f"floor failed: {p.stderr.strip()}", file=sys.stderr)
        return None
    return json.loads(p.stdout)


def floor_value(runs: Sequence[Optional[dict]], prec: str, threads: int, stage: str) -> Optional[float]:
    """Seconds per clip of one floor row, the median over the runs that produced it."""
    vals = [r["s_per_clip"] for run in runs if run for r in run["results"]
            if r["prec"] == prec and r["threads"] == threads and r["stage"] == stage]
    return statistics.median(vals) if vals else None


class Floor:
    """The C floor as an interleaved contender: each ``block()`` is one short floor run (its own
    medians over a few repetitions, FFTW wisdom reused so that no run re-plans); the reported
    value of a row is the median over the runs."""

    def __init__(self, w: Workload, min_time: float = 0.03, threads: int = 1, timeout: float = 120.0) -> None:
        import tempfile

        self.name = "C floor"
        self.w, self.min_time, self.threads, self.timeout = w, min_time, threads, timeout
        self._dir = tempfile.TemporaryDirectory(prefix="floor-wisdom-")
        self.wisdom = str(Path(self._dir.name) / "wisdom")
        self.runs: List[dict] = []
        self.available = run_floor(w, 0.0, threads, timeout=timeout, wisdom=self.wisdom) is not None  # plans

    def block(self) -> None:
        if self.available:
            run = run_floor(self.w, self.min_time, self.threads, timeout=self.timeout, wisdom=self.wisdom)
            if run is not None:
                self.runs.append(run)

    def value(self, prec: str, threads: int, stage: str) -> Optional[float]:
        return floor_value(self.runs, prec, threads, stage)


def fftw_version() -> str:
    """FFTW's version string as the floor reports it (the same libfftw3 the engine links)."""
    exe = floor_binary()
    if exe is None:
        return "unknown"
    p = subprocess.run([str(exe), "--len", "512", "--nfft", "16", "--hop", "8", "--mels", "4",
                        "--min-time", "0", "--threads", "1", "--json"], capture_output=True, text=True)
    try:
        return json.loads(p.stdout)["fftw"]
    except (ValueError, KeyError):
        return "unknown"


# --------------------------------------------------------------------------------------------------
# Machine and environment


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


class ForeignLoad:
    """CPU used by *other* processes while this one ran: machine busy time (/proc/stat) minus our
    own CPU time (this process and its children), averaged over the wall time, in cores. A value
    well above 0 means the figures of that run were taken on a busy machine."""

    def __init__(self) -> None:
        self.start = self._snap()

    @staticmethod
    def _snap():
        try:
            f = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
            v = [int(x) for x in f[:8]]
            busy = (sum(v) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            busy = float("nan")
        t = os.times()
        return time.perf_counter(), busy, t.user + t.system + t.children_user + t.children_system

    def cores(self) -> float:
        w0, b0, o0 = self.start
        w1, b1, o1 = self._snap()
        return max(0.0, ((b1 - b0) - (o1 - o0)) / max(w1 - w0, 1e-9))


FOREIGN = ForeignLoad()  # started when the harness is imported, i.e. at the start of a script


def machine_info() -> Dict[str, Any]:
    info: Dict[str, Any] = {
        "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": cpu_model(),
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "fftw": fftw_version(),
    }
    info["foreign_load_cores"] = round(FOREIGN.cores(), 2)
    try:
        info["loadavg"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        pass
    for mod in ("spectrograms", "numpy", "scipy", "librosa", "torch"):
        m = sys.modules.get(mod)
        if m is not None:
            info[mod] = getattr(m, "__version__", "?")
    core = getattr(sys.modules.get("spectrograms"), "_core", None)
    if core is not None and getattr(core, "__file__", None):
        f = Path(core.__file__)
        info["extension"] = f"{f} (built {_dt.datetime.fromtimestamp(f.stat().st_mtime).isoformat(timespec='seconds')})"
    try:
        info["git"] = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                     capture_output=True, text=True).stdout.strip()
    except OSError:
        pass
    return info


def machine_md(info: Dict[str, Any]) -> str:
    libs = ", ".join(f"{k} {info[k]}" for k in ("spectrograms", "numpy", "scipy", "librosa", "torch") if k in info)
    return (f"{info['date']} · {info['cpu']}, {info['cores']} cores · {info['fftw']} · "
            f"Python {info['python']} · {libs} · git {info.get('git', '?')}"
            + (f" · extension {Path(info['extension'].split(' (')[0]).name} {info['extension'].split(' (')[1][:-1]}"
               if "extension" in info else "")
            + f" · load average at the end "
            f"{info.get('loadavg', '?')}; other processes used {info.get('foreign_load_cores', float('nan')):.2f} "
            "cores on average during the run")


# --------------------------------------------------------------------------------------------------
# Command line


def arg_parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="a ~30 s run (fewer rounds, shorter blocks)")
    p.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 30, quick 8)")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    p.add_argument("--no-save", action="store_true", help="do not write bench/results/*.md")
    return p


def save(name: str, markdown: str, args: argparse.Namespace, payload: Dict[str, Any]) -> None:
    """Prints the markdown, writes bench/results/<name>.md and, with --json, the JSON payload."""
    print(markdown)
    if not args.no_save:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / f"{name}.md").write_text(markdown + "\n")
        print(f"\n(saved to {(RESULTS / f'{name}.md').relative_to(ROOT)})", file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps(payload, indent=2, default=str) + "\n")


def results_payload(timed: Dict[str, Contender]) -> Dict[str, Any]:
    return {name: {"median_s": c.median, "iqr_over_median": c.spread(), "blocks": len(c.samples),
                   "median_page_faults_per_unit": c.median_faults, "median_cores_used": c.median_cores,
                   "calls_per_block": c.reps, "units_per_call": c.units} for name, c in timed.items()}
