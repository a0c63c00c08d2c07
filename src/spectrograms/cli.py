"""The ``spectrograms`` command line: ``spectrograms extract`` turns audio files into ``.npz`` spectrograms.

Run ``spectrograms extract --help`` (or ``python -m spectrograms extract --help``) for the options.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import pathlib
import sys
import threading
from typing import Any, Callable, Dict, List, Optional, Sequence, TextIO, Tuple

import numpy as np

__all__ = ["main", "build_parser"]

PROG = "spectrograms"
DEFAULT_EXTENSIONS = "wav,flac,ogg,mp3"
WINDOWS = ("hanning", "hann", "hamming", "blackman", "rectangular", "kaiser:BETA", "gaussian:STD")

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """A problem with the command line itself (exit status 2)."""


# --------------------------------------------------------------------------- argument parsing

def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    value = _finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def _window(text: str) -> Any:
    from .params import WindowType

    name, _, arg = text.strip().lower().partition(":")
    if name == "hann":
        name = "hanning"
    try:
        if name in ("hanning", "hamming", "blackman", "rectangular") and not arg:
            return getattr(WindowType, name)
        if name == "kaiser" and arg:
            return WindowType.kaiser(float(arg))
        if name == "gaussian" and arg:
            return WindowType.gaussian(float(arg))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"bad window {text!r}: {exc}") from None
    raise argparse.ArgumentTypeError(f"unknown window {text!r}; choose from {', '.join(WINDOWS)}")


def _extensions(text: str) -> Tuple[str, ...]:
    exts = tuple(sorted({"." + e.strip().lower().lstrip(".") for e in text.split(",") if e.strip()}))
    if not exts:
        raise argparse.ArgumentTypeError("expected a comma-separated list of extensions, e.g. wav,flac")
    return exts


_EXTRACT_DESCRIPTION = """\
Compute a spectrogram of each INPUT audio file and save it as a NumPy .npz file
under --out.

INPUT may be files and folders. Folders are searched for audio files by extension
(hidden files skipped) and their tree is mirrored under --out; a file given
directly goes at the top of --out. With no INPUT, the example clip shipped with
the package is used. Audio is read with soundfile (mixed down to mono) and
resampled with soxr when --sample-rate is given.

Each .npz holds 'data' (n_bins x n_frames) and 'frequencies' (Hz), 'times' (s),
'sample_rate', 'n_fft', 'hop_size', 'kind', 'scale', 'n_mels' (mel only),
'params' (all the parameters as JSON) and 'source' (the input path).
Load one with numpy.load(path)."""

_EXTRACT_EPILOG = f"""\
exit status:
  0 every file was written; 1 some files could not be read or computed (the
  others are still written and the failures are listed on stderr); 2 usage error.

examples:
  {PROG} extract --out specs --plot           # the built-in example clip
  {PROG} extract music/ --out specs --n-mels 64 --sample-rate 16000 --jobs 4
  {PROG} extract a.wav b.flac --out specs --kind linear --scale magnitude"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``spectrograms`` command."""
    from . import __version__

    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Compute spectrograms of audio files with the spectrograms library.",
        epilog=f"Run '{PROG} extract --help' for the options of the extract command.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    ex = sub.add_parser(
        "extract",
        help="compute a spectrogram of each audio file and save it as .npz (and optionally .png)",
        description=_EXTRACT_DESCRIPTION,
        epilog=_EXTRACT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ex.add_argument("inputs", nargs="*", metavar="INPUT", help="audio files and/or folders (default: the example clip)")
    ex.add_argument("-o", "--out", required=True, metavar="DIR", help="output folder (created if needed)")

    g = ex.add_argument_group("spectrogram")
    g.add_argument("--kind", choices=("mel", "linear"), default="mel", help="frequency scale (default: mel)")
    g.add_argument("--scale", choices=("db", "power", "magnitude"), default="db",
                   help="values: dB of power (floored at --floor-db), power |X|^2, or magnitude (default: db)")
    g.add_argument("--n-fft", type=_positive_int, default=2048, metavar="N", help="FFT and frame length (default: 2048)")
    g.add_argument("--hop", type=_positive_int, default=512, metavar="N",
                   help="samples between frames, <= --n-fft (default: 512)")
    g.add_argument("--window", type=_window, default="hanning", metavar="NAME",
                   help="hanning (hann), hamming, blackman, rectangular, kaiser:BETA or gaussian:STD "
                        "(std in samples); default: hanning")
    g.add_argument("--no-centre", "--no-center", dest="centre", action="store_false",
                   help="do not pad n_fft//2 zeros at each end (frames start at 0 instead of being centred)")
    g.add_argument("--floor-db", type=_finite_float, default=-80.0, metavar="DB",
                   help="lowest dB value for --scale db (default: -80)")
    g.add_argument("--dtype", choices=("float32", "float64"), default="float32",
                   help="compute and storage precision (default: float32)")

    m = ex.add_argument_group("mel filterbank (--kind mel)")
    m.add_argument("--n-mels", type=_positive_int, default=128, metavar="N", help="mel bands (default: 128)")
    m.add_argument("--f-min", type=_finite_float, default=0.0, metavar="HZ", help="lowest frequency (default: 0)")
    m.add_argument("--f-max", type=_positive_float, default=None, metavar="HZ",
                   help="highest frequency, <= sample_rate/2 (default: the Nyquist frequency)")
    m.add_argument("--mel-norm", choices=("none", "slaney", "l1", "l2"), default="none",
                   help="filterbank normalisation (default: none)")

    a = ex.add_argument_group("audio and files")
    a.add_argument("--sample-rate", type=_positive_float, default=None, metavar="HZ",
                   help="resample every file to this rate with soxr (default: keep each file's rate)")
    a.add_argument("--ext", type=_extensions, default=_extensions(DEFAULT_EXTENSIONS), metavar="LIST",
                   help=f"audio extensions searched for in folders (default: {DEFAULT_EXTENSIONS})")
    a.add_argument("--recursive", action=argparse.BooleanOptionalAction, default=True,
                   help="search folders recursively (default: yes)")
    a.add_argument("--plot", action="store_true", help="also save a PNG image of each spectrogram")

    r = ex.add_argument_group("running")
    r.add_argument("-j", "--jobs", type=_positive_int, default=None, metavar="N",
                   help="files processed in parallel (default: spectrograms.get_num_threads())")
    r.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="show a progress bar on stderr (default: only when stderr is a terminal)")
    r.add_argument("--scheduler", default="local", metavar="WHERE",
                   help="local (default: threads in this process), dask://HOST:PORT (a Dask scheduler; "
                        "needs spectrograms[dask]), ray (RAY_ADDRESS, else a local Ray with --jobs CPUs) or "
                        "ray://HOST:PORT (Ray Client); needs spectrograms[ray]. Workers must see the same "
                        "paths; a file whose worker dies is retried on another one")
    ex.set_defaults(func=_extract)

    from . import _export_cli  # the export subcommand (torch is imported only when it runs)

    _export_cli.add_parser(sub)
    return parser


# --------------------------------------------------------------------------- finding the inputs

from ._extract import Job, Outcome  # noqa: E402  (shared with the Dask and Ray engines)


def _walk(folder: pathlib.Path, exts: Tuple[str, ...], recursive: bool) -> List[pathlib.Path]:
    found: List[pathlib.Path] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")) if recursive else []
        for name in sorted(files):
            if not name.startswith(".") and os.path.splitext(name)[1].lower() in exts:
                found.append(pathlib.Path(root) / name)
    return found


def _plan_jobs(inputs: Sequence[str], out: pathlib.Path, exts: Tuple[str, ...], recursive: bool,
               plot: bool) -> Tuple[List[Job], List[str]]:
    """Files to process and their outputs; folders mirror their tree under ``out``."""
    entries: List[Tuple[pathlib.Path, str, pathlib.Path]] = []  # (source, display, relative path)
    warnings: List[str] = []
    for text in inputs:
        path = pathlib.Path(text)
        if path.is_dir():
            files = _walk(path, exts, recursive)
            if not files:
                warnings.append(f"no audio files ({', '.join(e[1:] for e in exts)}) found in {text}")
            for f in files:
                entries.append((f, str(f), f.relative_to(path)))
        elif path.exists() or path.is_symlink():
            entries.append((path, text, pathlib.Path(path.name)))
        else:
            raise UsageError(f"input not found: {text}")

    # song.wav and song.flac side by side would both become song.npz: keep their extensions then.
    try:
        return _assign_outputs(entries, out, plot), warnings
    except ValueError as exc:
        raise UsageError(str(exc)) from None


# --------------------------------------------------------------------------- computing

# Reading, computing and writing one file is shared with the Dask and Ray engines (_extract.py).
from ._extract import assign_outputs as _assign_outputs  # noqa: E402
from ._extract import atomic_write as _atomic_write  # noqa: E402,F401  (kept name)
from ._extract import db_range as _db_range  # noqa: E402,F401  (kept name)
from ._extract import reason as _reason  # noqa: E402,F401  (kept name)
from ._extract import umask as _umask  # noqa: E402


class Extractor:
    """Reads, computes and writes one file at a time; shared by the worker threads."""

    def __init__(self, args: argparse.Namespace, read: Callable[[pathlib.Path], Tuple[np.ndarray, float]]) -> None:
        import spectrograms as sg

        self.sg = sg
        self.args = args
        self.read = read
        self.planner = sg.SpectrogramPlanner()
        self.stft = sg.StftParams(args.n_fft, args.hop, args.window, args.centre)
        self.mel = (sg.MelParams(args.n_mels, args.f_min, args.f_max, args.mel_norm)
                    if args.kind == "mel" else None)
        self.log = sg.LogParams(args.floor_db) if args.scale == "db" else None
        self._plans: Dict[float, Any] = {}
        self._plan_lock = threading.Lock()
        self._plot_lock = threading.Lock()

    def plan(self, sample_rate: float) -> Any:
        """The plan for one sample rate (made once, shared by all threads)."""
        with self._plan_lock:
            plan = self._plans.get(sample_rate)
            if plan is None:
                params = self.sg.SpectrogramParams(self.stft, sample_rate)
                make = getattr(self.planner, f"{self.args.kind}_{self.args.scale}_plan")
                extra = [] if self.mel is None else [self.mel]
                plan = make(params, *extra, self.log, dtype=self.args.dtype)
                self._plans[sample_rate] = plan
            return plan

    def params_json(self, spec: Any, source: str) -> str:
        from ._extract import params_json

        return params_json(spec, source, self.args.sample_rate)

    def __call__(self, job: Job) -> Outcome:
        from ._extract import process_file

        return process_file(job, self.read, self.plan, resampled_to=self.args.sample_rate)


def _describe(args: argparse.Namespace) -> str:
    what = {"db": "dB", "power": "power", "magnitude": "magnitude"}[args.scale]
    bands = f", {args.n_mels} bands" if args.kind == "mel" else ""
    return f"{args.kind} {what} spectrogram{bands}, n_fft {args.n_fft}, hop {args.hop}"


# --------------------------------------------------------------------------- the extract command

def _reader(args: argparse.Namespace, jobs: List[Job]) -> Callable[[pathlib.Path], Tuple[np.ndarray, float]]:
    """audio.load with the run's options; the stdlib WAV reader when soundfile is missing."""
    from . import audio

    dtype = args.dtype
    try:
        audio._import_soundfile()
    except ImportError as exc:
        if args.sample_rate is None and all(j.source.suffix.lower() == ".wav" for j in jobs):
            def read_wav(path: pathlib.Path) -> Tuple[np.ndarray, float]:
                x, sr = audio.read_wav_pcm16(path)
                return x.astype(dtype, copy=False), sr
            return read_wav
        raise UsageError(str(exc)) from None

    def read(path: pathlib.Path) -> Tuple[np.ndarray, float]:
        return audio.load(path, sample_rate=args.sample_rate, mono=True, dtype=dtype)
    return read


def _extract(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    import spectrograms as sg

    from . import audio

    out = pathlib.Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {args.out} exists and is not a folder")
    if args.hop > args.n_fft:
        raise UsageError(f"--hop ({args.hop}) must be <= --n-fft ({args.n_fft})")
    if args.f_max is not None and args.f_max <= args.f_min:
        raise UsageError(f"--f-max ({args.f_max:g}) must be > --f-min ({args.f_min:g})")
    if args.f_min < 0:
        raise UsageError(f"--f-min must be >= 0, got {args.f_min:g}")
    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise UsageError("--plot needs matplotlib: pip install spectrograms[plot]") from None
    from ._extract import SchedulerError, parse_scheduler

    try:
        scheduler = parse_scheduler(getattr(args, "scheduler", "local"))
    except SchedulerError as exc:
        raise UsageError(str(exc)) from None
    inputs = list(args.inputs) or [str(audio.example_path())]
    jobs, warnings = _plan_jobs(inputs, out, args.ext, args.recursive, args.plot)
    if not args.inputs:
        jobs[0].label = f"{jobs[0].source.name} (the built-in example clip)"
    for w in warnings:
        print(f"{PROG}: warning: {w}", file=stderr)
    if not jobs:
        raise UsageError("no audio files to process")
    try:
        extractor = Extractor(args, _reader(args, jobs))
    except (ValueError, TypeError) as exc:
        raise UsageError(str(exc)) from None

    from tqdm import tqdm

    _umask()  # read the process umask once, before the worker threads start

    engine = None
    if scheduler.kind != "local":  # a cluster: ship the plan to its workers, which call the same process_file
        from ._extract import cli_processor, open_engine

        try:
            processor = cli_processor(extractor.plan, jobs, args.sample_rate, args.f_min, args.f_max)
            engine = open_engine(scheduler, n_cpus=args.jobs)
        except (SchedulerError, ValueError, TypeError) as exc:
            raise UsageError(str(exc)) from None

    show = args.progress if args.progress is not None else _isatty(stderr)
    n_jobs = min(args.jobs or sg.get_num_threads(), len(jobs))
    outcomes: List[Optional[Outcome]] = [None] * len(jobs)
    with tqdm(total=len(jobs), unit="file", file=stderr, disable=not show, dynamic_ncols=True,
              desc="extract") as bar:
        def report(i: int, outcome: Outcome) -> None:
            outcomes[i] = outcome
            if outcome.error is not None:
                bar.write(f"{PROG}: error: {outcome.job.display}: {outcome.error}", file=stderr)
            bar.update(1)

        if engine is not None:
            try:
                with engine:
                    engine.run(processor, jobs, report)
            except SchedulerError as exc:  # e.g. workers that cannot import spectrograms
                raise UsageError(str(exc)) from None
        else:
            from ._extract import engine_threads

            # n_jobs files at once, each on its share of the cores (one long file uses them all)
            with engine_threads(max(1, sg.get_num_threads() // n_jobs)), \
                    concurrent.futures.ThreadPoolExecutor(max_workers=n_jobs, thread_name_prefix="extract") as pool:
                futures = {pool.submit(extractor, job): i for i, job in enumerate(jobs)}
                try:
                    for future in concurrent.futures.as_completed(futures):
                        report(futures[future], future.result())
                except KeyboardInterrupt:
                    for f in futures:
                        f.cancel()
                    raise
    done = [o for o in outcomes if o is not None]
    _summary(done, out, args, stdout, stderr)
    return EXIT_FAILED if any(o.error is not None for o in done) else EXIT_OK


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _summary(outcomes: List[Outcome], out: pathlib.Path, args: argparse.Namespace, stdout: TextIO,
             stderr: TextIO) -> None:
    good = [o for o in outcomes if o.error is None]
    bad = [o for o in outcomes if o.error is not None]
    if len(outcomes) == 1 and good:
        o = good[0]
        print(o.job.label or o.job.display, file=stdout)
        rows = "bands" if args.kind == "mel" else "bins"
        print(f"  {_describe(args)}", file=stdout)
        print(f"  shape {o.shape} ({rows} x frames), {args.dtype}; audio {o.sample_rate:g} Hz, {o.duration:.2f} s",
              file=stdout)
        if o.db_range is not None:
            print(f"  dB range {o.db_range[0]:.1f} to {o.db_range[1]:.1f}", file=stdout)
        for path in o.written:
            print(f"  wrote {path}", file=stdout)
    elif good:
        shapes = sorted({o.shape[0] for o in good})
        frames = [o.shape[1] for o in good]
        n_frames = f"{min(frames)}" if min(frames) == max(frames) else f"{min(frames)}-{max(frames)}"
        rows = "bands" if args.kind == "mel" else "bins"
        print(f"{len(good)} files: {_describe(args)}; shape ({'/'.join(map(str, shapes))} {rows}, {n_frames} "
              f"frames), {args.dtype}; output in {out}", file=stdout)
        limit = 50
        width = min(48, max(len(o.job.display) for o in good[:limit]))
        for o in good[:limit]:
            paths = "  ".join(str(p) for p in o.written)
            print(f"  {o.job.display:<{width}}  {str(o.shape):<12}  {paths}", file=stdout)
        if len(good) > limit:
            print(f"  ... and {len(good) - limit} more", file=stdout)
    print(f"{len(good)} written, {len(bad)} failed", file=stdout)
    if bad:
        print(f"{PROG}: {len(bad)} file{'s' if len(bad) != 1 else ''} failed:", file=stderr)
        for o in bad:
            print(f"  {o.job.display}: {o.error}", file=stderr)


# --------------------------------------------------------------------------- entry point

def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the ``spectrograms`` command line.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after the program name; ``sys.argv[1:]`` when None.

    Returns
    -------
    int
        The exit status: 0 success, 1 when some files failed, 2 for usage errors.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(None if argv is None else list(argv))
    except SystemExit as exc:  # --help, --version and argparse's usage errors
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_USAGE)
    stdout, stderr = sys.stdout, sys.stderr
    try:
        return int(args.func(args, stdout, stderr))
    except UsageError as exc:
        print(f"{PROG} {args.command}: error: {exc}", file=stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
