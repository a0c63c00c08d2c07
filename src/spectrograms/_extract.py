"""Per-file extraction shared by ``spectrograms extract`` and the Dask and Ray engines.

One file is read, computed with a plan and written as one ``.npz`` by :func:`process_file`,
whether the call comes from the command line's thread pool, a Dask task or a Ray task, so
every engine writes the very same files. :class:`FileProcessor` is the picklable bundle a
cluster worker receives: the plan itself (pickled once on the driver, FFTW wisdom included;
never rebuilt from parameters), and how to read the audio.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pathlib
import pickle
import socket
import tempfile
import threading
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

__all__ = [
    "Job", "Outcome", "FileProcessor", "AudioReader", "process_file", "write_npz", "npz_arrays", "params_json",
    "atomic_write", "db_range", "reason", "describe", "assign_outputs", "jobs_for_paths", "engine_threads",
    "Scheduler", "parse_scheduler", "SchedulerError", "cleanup_temporaries", "CONNECT_TIMEOUT",
]

CONNECT_TIMEOUT = 5.0  # seconds to reach a cluster scheduler before giving up
AUDIO_EXTENSIONS = (".flac", ".mp3", ".ogg", ".wav")


# --------------------------------------------------------------------------- jobs and outcomes

@dataclass
class Job:
    """One input file and where its outputs go."""

    source: pathlib.Path
    display: str
    npz: pathlib.Path
    png: Optional[pathlib.Path] = None
    label: Optional[str] = None  # how the summary names it (default: display)


@dataclass
class Outcome:
    """What became of one :class:`Job`: the output's shape and files written, or ``error``."""

    job: Job
    shape: Tuple[int, int] = (0, 0)
    sample_rate: float = 0.0
    duration: float = 0.0
    db_range: Optional[Tuple[float, float]] = None
    error: Optional[str] = None
    written: List[pathlib.Path] = field(default_factory=list)
    n_threads: int = 0  # engine threads the computation was allowed (sg.get_num_threads() in the task)
    worker: Optional[str] = None  # the cluster worker that ran it (None when run in this process)


def assign_outputs(entries: Sequence[Tuple[pathlib.Path, str, pathlib.Path]], out: pathlib.Path,
                   plot: bool) -> List[Job]:
    """Jobs for ``(source, display, relative path)`` entries; the outputs mirror the relative paths.

    ``song.wav`` and ``song.flac`` side by side would both become ``song.npz``: they keep their
    extensions then (``song.wav.npz``, ``song.flac.npz``). The same file given twice is done once;
    two different files that would still collide raise :class:`ValueError`.
    """
    by_stem: Dict[pathlib.Path, List[int]] = {}
    for i, (_, _, rel) in enumerate(entries):
        by_stem.setdefault(rel.with_suffix(""), []).append(i)
    jobs: List[Job] = []
    seen: Dict[pathlib.Path, str] = {}
    for source, display, rel in entries:
        base = rel.with_suffix("") if len(by_stem[rel.with_suffix("")]) == 1 else rel
        npz = out / base.parent / (base.name + ".npz")
        if npz in seen:
            if os.path.realpath(seen[npz]) == os.path.realpath(display):
                continue  # the same file given twice
            raise ValueError(f"{display} and {seen[npz]} would both be written to {npz}; run them separately")
        seen[npz] = display
        png = out / base.parent / (base.name + ".png") if plot else None
        jobs.append(Job(source, display, npz, png))
    return jobs


def jobs_for_paths(paths: Union[str, os.PathLike, Iterable[Union[str, os.PathLike]]],
                   output_dir: Union[str, os.PathLike],
                   root: Optional[Union[str, os.PathLike]] = None, plot: bool = False) -> List[Job]:
    """The jobs of ``extract_files``: one per file, output mirrored relative to ``root``.

    ``paths`` is an iterable of audio files, or one folder (searched recursively for
    wav/flac/ogg/mp3 files, hidden ones skipped, as the command line does; it is then also the
    default ``root``). Without ``root`` every output goes at the top of ``output_dir``.
    """
    out = pathlib.Path(output_dir)
    if isinstance(paths, (str, os.PathLike)):
        single = pathlib.Path(paths)
        if not single.is_dir():
            paths = [single]
        else:
            root = single if root is None else root
            found: List[pathlib.Path] = []
            for dirpath, dirs, files in os.walk(single):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found.extend(pathlib.Path(dirpath) / f for f in sorted(files)
                             if not f.startswith(".") and os.path.splitext(f)[1].lower() in AUDIO_EXTENSIONS)
            paths = found
    base = None if root is None else pathlib.Path(root)
    entries = []
    for p in paths:
        path = pathlib.Path(p)
        if base is None:
            rel = pathlib.Path(path.name)
        else:
            try:
                rel = path.relative_to(base)
            except ValueError:
                raise ValueError(f"{path} is not inside root {base}") from None
        entries.append((path, str(p), rel))
    return assign_outputs(entries, out, plot)


# --------------------------------------------------------------------------- writing

_UMASK: Optional[int] = None


def umask() -> int:
    """The process umask (read once; call it before starting threads)."""
    global _UMASK
    if _UMASK is None:
        mask = os.umask(0o022)
        os.umask(mask)
        _UMASK = mask
    return _UMASK


def atomic_write(path: pathlib.Path, write: Callable[[Any], None]) -> None:
    """Write through ``write(fileobj)`` into a temporary file next to ``path``, then rename it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.chmod(tmp, 0o666 & ~umask())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def cleanup_temporaries(jobs: Iterable[Job]) -> int:
    """Remove the temporary files a killed worker may have left next to the jobs' outputs.

    Call it only once every task of these jobs has finished. Returns how many were removed.
    """
    removed = 0
    for job in jobs:
        for target in (job.npz, job.png):
            if target is None or not target.parent.is_dir():
                continue
            for tmp in target.parent.glob(f".{target.name}.*.tmp"):
                try:
                    tmp.unlink()
                    removed += 1
                except OSError:
                    pass
    return removed


def describe(spec: Any) -> str:
    """``"mel dB spectrogram, 128 bands, n_fft 2048, hop 512"`` for a result."""
    what = {"db": "dB", "power": "power", "magnitude": "magnitude"}[spec.quantity]
    bands = f", {spec.n_bins} bands" if spec.scale == "mel" else ""
    stft = spec.params.stft
    return f"{spec.scale} {what} spectrogram{bands}, n_fft {stft.n_fft}, hop {stft.hop_size}"


def params_json(spec: Any, source: str, resampled_to: Optional[float]) -> str:
    """Every parameter of a result as the JSON stored in the ``.npz`` under ``params``."""
    from . import __version__

    stft = spec.params.stft
    sample_rate = spec.params.sample_rate
    p: Dict[str, Any] = {
        "kind": spec.scale, "scale": spec.quantity, "n_fft": stft.n_fft, "hop_size": stft.hop_size,
        "window": repr(stft.window).replace("WindowType.", ""), "centre": stft.centre,
        "sample_rate": sample_rate, "resampled_to": resampled_to, "dtype": spec.dtype.name,
    }
    mel = spec.filter_params
    if mel is not None:
        p.update(n_mels=mel.n_mels, f_min=mel.f_min, f_max=mel.resolved_f_max(sample_rate),
                 mel_norm=mel.norm.value, htk=mel.htk)
    if spec.db_params is not None:
        p["floor_db"] = spec.db_params.floor_db
    p["source"] = source
    p["spectrograms_version"] = __version__
    return json.dumps(p, sort_keys=True)


def npz_arrays(spec: Any, source: str, resampled_to: Optional[float]) -> Dict[str, Any]:
    """The arrays of one ``.npz``: ``data``, ``frequencies``, ``times``, ``sample_rate``, ... (see the CLI)."""
    stft = spec.params.stft
    arrays: Dict[str, Any] = dict(
        data=spec.data, frequencies=np.asarray(spec.frequencies), times=np.asarray(spec.times),
        sample_rate=np.float64(spec.params.sample_rate), n_fft=np.int64(stft.n_fft),
        hop_size=np.int64(stft.hop_size), kind=np.str_(spec.scale), scale=np.str_(spec.quantity),
        params=np.str_(params_json(spec, source, resampled_to)), source=np.str_(source),
    )
    if spec.filter_params is not None:
        arrays["n_mels"] = np.int64(spec.filter_params.n_mels)
    return arrays


def write_npz(path: pathlib.Path, spec: Any, source: str, resampled_to: Optional[float]) -> None:
    """Write one result as ``.npz`` atomically (a temporary file renamed into place)."""
    arrays = npz_arrays(spec, source, resampled_to)
    atomic_write(path, lambda f: np.savez(f, **arrays))


def db_range(spec: Any) -> Optional[Tuple[float, float]]:
    """(min, max) in dB as the plot shows them (the conversions are monotonic: convert the extremes)."""
    data = spec.data
    finite = np.isfinite(data)
    if not finite.any():
        return None
    values = data if finite.all() else data[finite]
    lo, hi = float(values.min()), float(values.max())
    if spec.quantity == "power":
        return (10 * np.log10(max(lo, 1e-10)), 10 * np.log10(max(hi, 1e-10)))
    if spec.quantity == "magnitude":
        return (20 * np.log10(max(lo, 1e-5)), 20 * np.log10(max(hi, 1e-5)))
    return (lo, hi)


def reason(exc: BaseException) -> str:
    """A one-line reason for a failed file."""
    from ._errors import AudioReadError

    if isinstance(exc, AudioReadError) and getattr(exc, "strerror", None):
        return str(exc.strerror)
    text = str(exc) or type(exc).__name__
    if isinstance(exc, (ValueError, TypeError, OSError)):
        return text
    return f"{type(exc).__name__}: {text}"


_PLOT_LOCK = threading.Lock()


def plot_png(spec: Any, job: Job) -> None:
    """Save ``job.png``: the spectrogram drawn with matplotlib (one figure at a time per process)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    assert job.png is not None
    png = job.png
    with _PLOT_LOCK:  # matplotlib is not thread-safe; figures are made one at a time
        fig = Figure(figsize=(10, 4), layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        spec.plot(ax=ax, title=f"{job.source.name}: {describe(spec)}")
        atomic_write(png, lambda f: fig.savefig(f, format="png", dpi=100))


# --------------------------------------------------------------------------- computing one file

def compute(plan: Any, samples: np.ndarray) -> Any:
    """``plan.compute(samples)``, on ``sg.get_num_threads()`` engine threads when that is above 1.

    One long file is then split over blocks of frames; the result is the same bit for bit.
    """
    from ._threads import get_num_threads

    n = get_num_threads()
    if n > 1:
        return plan.compute_batch([samples], n_threads=n)[0]
    return plan.compute(samples)


def process_file(job: Job, read: Callable[[pathlib.Path], Tuple[np.ndarray, float]],
                 plan_for: Callable[[float], Any], *, resampled_to: Optional[float] = None,
                 plot: Optional[Callable[[Any, Job], None]] = None) -> Outcome:
    """Read, compute and write one file; every failure is reported in the outcome, never raised.

    Parameters
    ----------
    job : Job
        The input and its output paths.
    read : callable
        ``read(path) -> (samples, sample_rate)``.
    plan_for : callable
        ``plan_for(sample_rate) -> plan``.
    resampled_to : float, optional
        The rate every file was resampled to (recorded in the ``params`` JSON).
    plot : callable, optional
        ``plot(spec, job)`` writes ``job.png``; :func:`plot_png` when None.
    """
    from ._threads import get_num_threads

    outcome = Outcome(job, n_threads=get_num_threads())
    try:
        samples, sr = read(job.source)
        if samples.size == 0:
            raise ValueError("no audio samples in the file")
        plan = plan_for(float(sr))
        spec = compute(plan, samples)
        outcome.shape = spec.shape
        outcome.sample_rate = float(sr)
        outcome.duration = samples.shape[-1] / float(sr)
        outcome.db_range = db_range(spec)
        write_npz(job.npz, spec, job.display, resampled_to)
        outcome.written.append(job.npz)
        if job.png is not None:
            (plot or plot_png)(spec, job)
            outcome.written.append(job.png)
    except Exception as exc:  # noqa: BLE001 - every failure is reported per file
        outcome.error = reason(exc)
    return outcome


# --------------------------------------------------------------------------- what workers receive

class AudioReader:
    """``audio.load`` with fixed options (picklable); the stdlib WAV reader when soundfile is missing."""

    def __init__(self, sample_rate: Optional[float], dtype: str) -> None:
        self.sample_rate = sample_rate
        self.dtype = dtype

    def __call__(self, path: pathlib.Path) -> Tuple[np.ndarray, float]:
        from . import audio

        try:
            audio._import_soundfile()
        except ImportError:
            if self.sample_rate is None and pathlib.Path(path).suffix.lower() == ".wav":
                x, sr = audio.read_wav_pcm16(path)
                return x.astype(self.dtype, copy=False), sr
            raise
        return audio.load(path, sample_rate=self.sample_rate, mono=True, dtype=self.dtype)

    def __repr__(self) -> str:
        return f"AudioReader(sample_rate={self.sample_rate}, dtype={self.dtype!r})"


_PLAN_CACHE: Dict[Tuple[str, float], Any] = {}
_PLAN_CACHE_LOCK = threading.Lock()
_PLAN_CACHE_MAX = 32


def _cached(key: Tuple[str, float], make: Callable[[], Any]) -> Any:
    with _PLAN_CACHE_LOCK:
        plan = _PLAN_CACHE.get(key)
        if plan is None:
            plan = make()
            if len(_PLAN_CACHE) >= _PLAN_CACHE_MAX:
                _PLAN_CACHE.pop(next(iter(_PLAN_CACHE)))
            _PLAN_CACHE[key] = plan
        return plan


class ShippedPlan:
    """A plan pickled once on the driver and unpickled once per worker process.

    The pickle is the plan's own (its parameters plus the driver's FFTW wisdom), so workers
    compute the same bits as the driver. Tasks carry these bytes (a few KB); a process that
    has seen them before reuses its plan instead of planning again.
    """

    __slots__ = ("payload", "token", "_plan")

    def __init__(self, plan: Any) -> None:
        self.payload = pickle.dumps(plan, protocol=pickle.HIGHEST_PROTOCOL)
        self.token = hashlib.sha1(self.payload).hexdigest()
        self._plan = plan
        with _PLAN_CACHE_LOCK:
            _PLAN_CACHE.setdefault((self.token, -1.0), plan)

    def get(self) -> Any:
        if self._plan is None:
            self._plan = _cached((self.token, -1.0), lambda: pickle.loads(self.payload))
        return self._plan

    def __reduce__(self) -> Any:
        return (_shipped_plan, (self.payload, self.token))

    def __dask_tokenize__(self) -> str:
        return self.token


def _shipped_plan(payload: bytes, token: str) -> ShippedPlan:
    shipped = ShippedPlan.__new__(ShippedPlan)
    shipped.payload = payload
    shipped.token = token
    shipped._plan = None
    return shipped


def check_plan(plan: Any) -> None:
    """TypeError unless ``plan`` is a spectrogram plan (``{linear,mel}_{power,magnitude,db}``)."""
    from .planner import _BasePlan, StftPlan

    if not isinstance(plan, _BasePlan) or isinstance(plan, StftPlan):
        raise TypeError(
            "plan must be a spectrogram plan from SpectrogramPlanner (e.g. planner.mel_db_plan(...)), "
            f"got {type(plan).__name__}"
        )


def plan_like(plan: Any, sample_rate: float) -> Any:
    """A plan of the same kind, parameters and dtype as ``plan`` for another sample rate."""
    params = replace(plan.params, sample_rate=float(sample_rate))
    filter_params = plan._filter_params
    extra = () if filter_params is None else (filter_params,)
    return type(plan)(params, *extra, plan._db_params, dtype=plan.dtype)


class FileProcessor:
    """Computes and writes one file on a worker: ``processor(job) -> Outcome`` (picklable).

    Parameters
    ----------
    plan : spectrogram plan
        Shipped to the workers as it is (pickled with its FFTW wisdom), not rebuilt.
    resample : bool
        True: every file is resampled to the plan's sample rate (soxr) and computed with the plan.
        False: each file keeps its rate; files at another rate than the plan's get a plan with the
        same parameters for their rate, made on the worker after the shipped plan has brought the
        driver's FFTW wisdom (the FFT size is the same, so the algorithms are too).

    A job with a ``png`` path also gets a picture (matplotlib is then needed on the workers).
    """

    def __init__(self, plan: Any, *, resample: bool = True) -> None:
        check_plan(plan)
        self.shipped = ShippedPlan(plan)
        self.plan_rate = float(plan.params.sample_rate)
        self.resample = bool(resample)
        self.reader = AudioReader(self.plan_rate if resample else None, plan.dtype.name)

    @property
    def plan(self) -> Any:
        return self.shipped.get()

    @property
    def resampled_to(self) -> Optional[float]:
        return self.plan_rate if self.resample else None

    def plan_for(self, sample_rate: float) -> Any:
        template = self.shipped.get()
        if self.resample or sample_rate == self.plan_rate:
            return template
        return _cached((self.shipped.token, float(sample_rate)), lambda: plan_like(template, sample_rate))

    def __call__(self, job: Job) -> Outcome:
        return process_file(job, self.reader, self.plan_for, resampled_to=self.resampled_to)

    def __repr__(self) -> str:
        return f"FileProcessor({self.shipped.get()!r}, resample={self.resample})"


# --------------------------------------------------------------------------- engine threads

_budget_lock = threading.Lock()
_budget_users = 0
_budget_cm: Any = None


@contextlib.contextmanager
def engine_threads(n: int) -> Iterator[int]:
    """``sg.num_threads(n)`` for tasks that may run concurrently in one process.

    The first task to enter sets the count and the last to leave restores it, so concurrent
    tasks never leave the process with a count that one of them restored too early.
    """
    from ._threads import _check, num_threads

    global _budget_users, _budget_cm
    n = _check(n)
    with _budget_lock:
        if _budget_users == 0:
            _budget_cm = num_threads(n)
            _budget_cm.__enter__()
        _budget_users += 1
    try:
        yield n
    finally:
        with _budget_lock:
            _budget_users -= 1
            if _budget_users == 0:
                cm, _budget_cm = _budget_cm, None
                cm.__exit__(None, None, None)


def for_workers(job: Job) -> Job:
    """``job`` with absolute paths: a worker's working directory need not be the driver's."""
    return replace(job, source=job.source.absolute(), npz=job.npz.absolute(),
                   png=None if job.png is None else job.png.absolute())


def as_submitted(outcome: Outcome, job: Job) -> Outcome:
    """``outcome`` of ``for_workers(job)`` told in the driver's terms (the paths as ``job`` has them)."""
    paths = {job.npz.absolute(): job.npz}
    if job.png is not None:
        paths[job.png.absolute()] = job.png
    outcome.written = [paths.get(p, p) for p in outcome.written]
    outcome.job = job
    return outcome


def run_in_task(processor: Callable[[Job], Outcome], jobs: Sequence[Job], n_threads: int,
                worker: Optional[str] = None) -> List[Outcome]:
    """What a cluster task does: ``processor(job)`` for each job, with ``n_threads`` engine threads."""
    with engine_threads(n_threads):
        outcomes = [processor(job) for job in jobs]
    for outcome in outcomes:
        outcome.worker = worker
    return outcomes


def auto_files_per_task(n_files: int, slots: int) -> int:
    """Files per task when not given: about 8 tasks per slot (for balance and progress), at most 16.

    Every task costs the scheduler milliseconds, so short files are grouped; 200 files on 2
    slots give 12 per task, 40 files give 2.
    """
    return max(1, min(16, n_files // (8 * max(1, slots))))


def chunks(n: int, size: int) -> List[range]:
    """``range(n)`` cut into consecutive pieces of ``size`` (the last may be shorter)."""
    return [range(start, min(n, start + size)) for start in range(0, n, size)]


def threads_per_task(cores_and_threads: Iterable[Tuple[str, int, int]]) -> int:
    """Engine threads per task so that no host runs more threads than it has cores.

    ``cores_and_threads`` holds ``(host, cores, task_slots)`` for every worker; a host's budget is
    its cores divided by the task slots of all its workers; the smallest budget is used (>= 1).
    """
    cores: Dict[str, int] = {}
    slots: Dict[str, int] = {}
    for host, c, s in cores_and_threads:
        cores[host] = max(cores.get(host, 0), int(c))
        slots[host] = slots.get(host, 0) + max(1, int(s))
    if not cores:
        return 1
    return max(1, min(cores[h] // slots[h] for h in cores))


def worker_cores() -> Tuple[str, int]:
    """``(host, cores)`` of this process: the cores ``sg.get_num_threads()`` would use."""
    from ._threads import get_num_threads

    return (socket.gethostname(), get_num_threads())


# --------------------------------------------------------------------------- schedulers

class SchedulerError(Exception):
    """A scheduler address that is malformed, a cluster that cannot be reached, or workers that cannot run our tasks."""


@dataclass(frozen=True)
class Scheduler:
    """Where ``spectrograms extract`` runs: ``local``, ``dask`` (address) or ``ray`` (address or None)."""

    kind: str
    address: Optional[str] = None

    def __str__(self) -> str:
        if self.kind == "local":
            return "local"
        if self.kind == "dask":
            return f"the Dask scheduler at {self.address}"
        return "Ray" if self.address is None else f"the Ray cluster at {self.address}"


def parse_scheduler(text: str) -> Scheduler:
    """``local``, ``dask://HOST:PORT`` (also ``tcp://``/``tls://``), ``ray`` or ``ray://HOST:PORT``."""
    value = text.strip()
    lower = value.lower()
    if lower in ("", "local"):
        return Scheduler("local")
    if lower == "ray":
        return Scheduler("ray")
    scheme, sep, rest = value.partition("://")
    scheme = scheme.lower()
    if sep and rest and scheme in ("dask", "tcp", "tls", "ray"):
        host, colon, port = rest.rstrip("/").rpartition(":")
        if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise SchedulerError(f"bad scheduler address {text!r}: expected {scheme}://HOST:PORT")
        if scheme == "ray":
            return Scheduler("ray", f"ray://{host}:{port}")
        return Scheduler("dask", f"{'tls' if scheme == 'tls' else 'tcp'}://{host}:{port}")
    raise SchedulerError(
        f"unknown scheduler {text!r}; use local, dask://HOST:PORT, ray or ray://HOST:PORT"
    )


def check_reachable(host: str, port: int, what: str, timeout: float = CONNECT_TIMEOUT) -> None:
    """SchedulerError unless a TCP connection to ``host:port`` opens within ``timeout`` seconds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        detail = "timed out" if isinstance(exc, socket.timeout) else (exc.strerror or str(exc))
        raise SchedulerError(f"cannot reach {what} at {host}:{port} within {timeout:g} s: {detail}") from None


def open_engine(scheduler: Scheduler, *, n_cpus: Optional[int] = None, timeout: float = CONNECT_TIMEOUT) -> Any:
    """Connect to the cluster of ``scheduler``; SchedulerError if its package is missing or it does not answer.

    The engine is a context manager with ``run(processor, jobs, on_outcome)``.
    """
    if scheduler.kind == "dask":
        try:
            from .dask import _Engine as DaskEngine
        except ImportError as exc:
            raise SchedulerError(
                f"--scheduler dask needs dask and distributed: pip install 'spectrograms[dask]' ({exc})"
            ) from None
        return DaskEngine(scheduler.address or "", timeout)
    if scheduler.kind == "ray":
        try:
            from .ray import _Engine as RayEngine
        except ImportError as exc:
            raise SchedulerError(f"--scheduler ray needs ray: pip install 'spectrograms[ray]' ({exc})") from None
        return RayEngine(scheduler.address, n_cpus, timeout)
    raise SchedulerError(f"no engine for scheduler {scheduler.kind!r}")


def _probe_rates(jobs: Sequence[Job], limit: int = 8) -> List[float]:
    """Sample rates of the first readable files (headers only)."""
    rates: List[float] = []
    try:
        from .audio import _import_soundfile

        sf = _import_soundfile()
    except ImportError:
        return rates
    for job in jobs[:limit]:
        try:
            rate = float(sf.info(str(job.source)).samplerate)
        except Exception:  # noqa: BLE001 - the worker will report this file
            continue
        if rate > 0 and rate not in rates:
            rates.append(rate)
    return rates


def cli_processor(make_plan: Callable[[float], Any], jobs: Sequence[Job], sample_rate: Optional[float],
                  f_min: float = 0.0, f_max: Optional[float] = None) -> FileProcessor:
    """The FileProcessor of ``spectrograms extract --scheduler ...``.

    With ``--sample-rate`` the plan for that rate is shipped and every file is resampled to it.
    Without, the plan for the rate of the first readable file is shipped (files at that rate use
    it; files at other rates get a plan with the same parameters made on the worker, after the
    shipped plan has brought this process's FFTW wisdom for the FFT size).
    """
    if sample_rate is not None:
        return FileProcessor(make_plan(float(sample_rate)), resample=True)
    fallback = max(48000.0, 2.0 * max(f_min, f_max or 0.0) + 2.0)
    error: Optional[Exception] = None
    for rate in _probe_rates(jobs) + [fallback]:
        try:
            return FileProcessor(make_plan(rate), resample=False)
        except (ValueError, TypeError) as exc:
            error = exc
    assert error is not None
    raise error
