"""Dask integration: spectrograms of Dask collections, and ``extract_files`` on a Dask cluster.

Import it explicitly (``import spectrograms.dask``); it needs the ``dask`` extra
(``pip install spectrograms[dask]``: ``dask[distributed]``, plus soundfile and soxr to read audio).

- :func:`compute_batch` computes a Dask bag of 1-D signals (a bag of :class:`~spectrograms.Spectrogram`,
  one engine call per partition), or a list of delayed signals (a list of delayed results, one
  engine call per group of ``batch_size`` signals).
- :func:`extract_files` writes one ``.npz`` per audio file on a ``distributed`` cluster, exactly
  as ``spectrograms extract`` does (the same function writes them), with per-file failures
  reported and a lost worker's files retried elsewhere.

The plan travels to the workers as itself (its pickle holds its parameters and the driver's
FFTW wisdom, a few KB) and is unpickled once per worker process, so every worker computes the
same bits as the driver. See ``docs/scaling-out.md``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import operator
import os
import uuid
from typing import Any, Callable, Iterable, List, Optional, Sequence, Union

import dask
import dask.bag as db
import distributed
from dask.delayed import Delayed

from ._extract import (
    CONNECT_TIMEOUT,
    FileProcessor,
    Job,
    Outcome,
    SchedulerError,
    ShippedPlan,
    as_submitted,
    auto_files_per_task,
    chunks,
    cleanup_temporaries,
    for_workers,
    jobs_for_paths,
    reason,
    run_in_task,
    threads_per_task as _threads_per_task,
    umask,
    worker_cores,
)
from ._threads import _check

__all__ = ["compute_batch", "extract_files", "threads_per_task", "check_workers", "connect", "SchedulerError"]

DEFAULT_BATCH_SIZE = 16


# --------------------------------------------------------------------------- threads

def _ask_workers(client: distributed.Client, workers: Optional[List[str]] = None) -> dict:
    """``worker_cores()`` on each worker: its answer, or the exception it raised (unpickling our
    function there imports spectrograms, so a worker without a working install answers with that error)."""
    try:
        return client.run(worker_cores, workers=workers, on_error="return")
    except TypeError:  # distributed without on_error: a failing worker raises here instead
        return client.run(worker_cores, workers=workers)


def threads_per_task(client: distributed.Client) -> int:
    """Engine threads per task for ``client``'s cluster: a host's cores over its Dask worker threads.

    2 workers x 1 thread on a 2-core machine give 1; 1 worker x 2 threads on 8 cores give 4.
    Never less than 1.
    """
    slots = client.nthreads()
    if not slots:
        return 1
    # a worker that is leaving (or failing) just drops out of the count
    cores = {a: c for a, c in _ask_workers(client, list(slots)).items() if not isinstance(c, BaseException)}
    if not cores:
        return 1
    return _threads_per_task((cores[a][0], cores[a][1], slots.get(a, 1)) for a in cores)


def check_workers(client: distributed.Client) -> None:
    """Raise :class:`SchedulerError` if a worker of ``client``'s cluster cannot import spectrograms.

    A Dask worker that cannot unpickle a task (the package missing or broken where it runs) drops
    its connection's handler and never runs the task, so the driver would wait forever. Asking
    every worker to run a small function of ours first turns that into an error naming the worker
    and the reason.
    """
    answers = _ask_workers(client)
    broken = sorted((a, answer) for a, answer in answers.items() if isinstance(answer, BaseException))
    if broken:
        address, error = broken[0]
        raise SchedulerError(
            f"{len(broken)} of {len(answers)} Dask workers cannot import spectrograms, so tasks sent to them would "
            f"never run; {address}: {reason(error)}. Install the same spectrograms where the workers run."
        )


def _default_threads() -> int:
    try:
        client = distributed.default_client()
    except ValueError:  # no distributed client: dask's local schedulers run one task per core
        return 1
    return threads_per_task(client)


async def _identity(address: str, timeout: float) -> dict:
    from distributed.comm import connect as comm_connect

    comm = await asyncio.wait_for(comm_connect(address, timeout=timeout), timeout)
    try:
        await asyncio.wait_for(comm.write({"op": "identity", "reply": True}), timeout)
        return await asyncio.wait_for(comm.read(), timeout)
    finally:
        comm.abort()


def connect(address: str, timeout: float = CONNECT_TIMEOUT) -> distributed.Client:
    """A ``distributed.Client`` for ``address``; :class:`SchedulerError` within ``timeout`` s if none answers.

    The scheduler is asked who it is first, with a deadline: ``Client(address, timeout=...)``
    alone waits forever on a port that accepts connections but never answers.
    """
    try:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:  # its own event loop, whatever the caller runs
            info = pool.submit(asyncio.run, _identity(address, timeout)).result()
        if not isinstance(info, dict) or info.get("type") != "Scheduler":
            raise OSError(f"something answers there, but not a Dask scheduler ({str(info)[:80]})")
        return distributed.Client(address, timeout=f"{timeout}s", set_as_default=False)
    except Exception as exc:  # OSError/TimeoutError, or something else answering on that port
        detail = "no answer" if isinstance(exc, (asyncio.TimeoutError, TimeoutError)) and not str(exc) else reason(exc)
        raise SchedulerError(
            f"cannot connect to the Dask scheduler at {address} within {timeout:g} s: {detail}"
        ) from None


# --------------------------------------------------------------------------- collections

def _partition(items: Iterable[Any], shipped: ShippedPlan, n_threads: int, pad: bool, batches: bool) -> List[Any]:
    items = list(items)
    if not items:
        return []
    batch = shipped.get().compute_batch(items, n_threads=n_threads, pad=pad)
    return [batch] if batches else list(batch)


def _group(shipped: ShippedPlan, n_threads: int, pad: bool, *items: Any) -> Any:
    return shipped.get().compute_batch(list(items), n_threads=n_threads, pad=pad)


def compute_batch(plan: Any, signals: Union[db.Bag, Sequence[Any]], *, batch_size: Optional[int] = None,
                  n_threads: Optional[int] = None, pad: bool = True, batches: bool = False) -> Any:
    """Spectrograms of many signals on Dask, with one engine call per partition or group.

    Parameters
    ----------
    plan : plan
        Any plan of :class:`spectrograms.SpectrogramPlanner`; it is pickled once and unpickled
        once per worker process.
    signals : dask.bag.Bag or list of dask.delayed.Delayed
        1-D float signals of any lengths. A list may mix delayed objects and arrays.
    batch_size : int, optional
        For a list: signals per task (default 16). A bag keeps its partitions.
    n_threads : int, optional
        Engine threads per task. Default: with a ``distributed`` client, the host's cores over
        its Dask worker threads (:func:`threads_per_task`, so no oversubscription); else 1.
    pad : bool
        As :meth:`plan.compute_batch <spectrograms.MelDbPlan.compute_batch>`: with False, signals
        of one task must give the same number of frames.
    batches : bool
        Return :class:`~spectrograms.SpectrogramBatch` objects (one per partition or group,
        ``(B, n_bins, max_frames)`` zero-padded, with ``lengths``) instead of one result per signal.

    Returns
    -------
    dask.bag.Bag or list of dask.delayed.Delayed
        For a bag: a bag with one :class:`~spectrograms.Spectrogram` per signal, in order and in
        the same partitions (or one ``SpectrogramBatch`` per partition). For a list: one delayed
        ``Spectrogram`` per signal (or one delayed ``SpectrogramBatch`` per group). Each
        ``Spectrogram`` is a view of its task's batch; pickled, it carries only its own frames.
        Each equals ``plan.compute(signal)`` bit for bit.
    """
    if not hasattr(plan, "compute_batch"):
        raise TypeError(f"plan must be a plan from SpectrogramPlanner, got {type(plan).__name__}")
    threads = _default_threads() if n_threads is None else _check(n_threads)
    shipped = ShippedPlan(plan)
    if isinstance(signals, db.Bag):
        return signals.map_partitions(_partition, shipped, threads, bool(pad), bool(batches))
    if isinstance(signals, (list, tuple)):
        if not signals:
            return []
        size = DEFAULT_BATCH_SIZE if batch_size is None else _check(batch_size, "batch_size")
        make = dask.delayed(_group, pure=True)
        out: List[Delayed] = []
        for start in range(0, len(signals), size):
            chunk = list(signals[start:start + size])
            group = make(shipped, threads, bool(pad), *chunk,
                         dask_key_name=f"spectrograms-batch-{uuid.uuid4().hex}")
            if batches:
                out.append(group)
            else:
                out.extend(dask.delayed(operator.getitem, pure=True)(group, i) for i in range(len(chunk)))
        return out
    raise TypeError(
        "signals must be a dask.bag.Bag or a list of dask.delayed objects (or arrays), "
        f"got {type(signals).__name__}"
    )


# --------------------------------------------------------------------------- files

def _task(jobs: List[Job], processor: FileProcessor, n_threads: int) -> List[Outcome]:
    try:
        worker = distributed.get_worker().address
    except ValueError:  # pragma: no cover - run outside a worker
        worker = None
    return run_in_task(processor, jobs, n_threads, worker)


def run_jobs(client: distributed.Client, processor: Callable[[Job], Outcome], jobs: Sequence[Job],
             on_outcome: Optional[Callable[[int, Outcome], None]] = None, *, retries: int = 3,
             n_threads: Optional[int] = None, files_per_task: Optional[int] = 1) -> List[Outcome]:
    """Run ``processor`` on every job, ``files_per_task`` jobs per Dask task; outcomes in job order.

    ``files_per_task=None`` chooses the group size (:func:`~spectrograms._extract.auto_files_per_task`).

    ``on_outcome(index, outcome)`` is called in this thread as each task finishes. A task that
    fails for good (its workers kept dying) gives its files an outcome with ``error`` set; the
    run goes on. Temporary files left by killed workers are removed at the end.
    """
    check_workers(client)
    threads = threads_per_task(client) if n_threads is None else _check(n_threads)
    if files_per_task is None:
        files_per_task = auto_files_per_task(len(jobs), sum(client.nthreads().values()))
    pieces = chunks(len(jobs), _check(files_per_task, "files_per_task"))
    umask()
    run = uuid.uuid4().hex[:12]
    futures = client.map(_task, [[for_workers(jobs[i]) for i in piece] for piece in pieces], processor=processor,
                         n_threads=threads, retries=retries, pure=False,
                         key=[f"spectrograms-extract-{run}-{piece.start}" for piece in pieces])
    index = {f.key: piece for f, piece in zip(futures, pieces)}
    outcomes: List[Optional[Outcome]] = [None] * len(jobs)
    try:
        for future in distributed.as_completed(futures):
            piece = index[future.key]
            try:
                done = future.result()
            except Exception as exc:  # noqa: BLE001 - KilledWorker, lost dependencies, ...
                done = [Outcome(jobs[i], error=f"failed on the cluster: {reason(exc)}") for i in piece]
            future.release()
            for i, outcome in zip(piece, done):
                outcomes[i] = outcome = as_submitted(outcome, jobs[i])
                if on_outcome is not None:
                    on_outcome(i, outcome)
    except BaseException:
        client.cancel(futures)
        raise
    cleanup_temporaries(jobs)
    return [o for o in outcomes if o is not None]


def extract_files(paths: Union[str, os.PathLike, Iterable[Union[str, os.PathLike]]], plan: Any,
                  output_dir: Union[str, os.PathLike], client: Optional[distributed.Client] = None,
                  root: Optional[Union[str, os.PathLike]] = None, *, resample: bool = True, plot: bool = False,
                  retries: int = 3, n_threads: Optional[int] = None, files_per_task: Optional[int] = None,
                  on_outcome: Optional[Callable[[int, Outcome], None]] = None) -> List[Outcome]:
    """Write one ``.npz`` per audio file on a Dask cluster, as ``spectrograms extract`` does.

    Parameters
    ----------
    paths : iterable of path, or one folder
        Audio files (the workers must see the same paths). A folder is searched recursively for
        wav/flac/ogg/mp3 files and is then also the default ``root``.
    plan : spectrogram plan
        ``planner.{linear,mel}_{power,magnitude,db}_plan(...)``; shipped to the workers as it is.
    output_dir : path
        Where the ``.npz`` files go (created on the workers).
    client : distributed.Client, optional
        Default: the current default client (``distributed.default_client()``).
    root : path, optional
        Outputs mirror each file's path relative to ``root``; without it they all go at the top
        of ``output_dir`` (``a/x.wav`` becomes ``x.npz``).
    resample : bool
        True (default): every file is resampled to the plan's sample rate with soxr. False: files
        keep their rates; a file at another rate gets a plan with the same parameters for its
        rate, made on the worker.
    plot : bool
        Also write a ``.png`` picture next to each ``.npz`` (matplotlib needed on the workers).
    retries : int
        Retries of a task that raises (files that fail to read or compute are not retried: they
        are reported). A task whose worker dies is rerun elsewhere anyway, up to
        ``distributed.scheduler.allowed-failures`` times.
    n_threads : int, optional
        Engine threads per task; default :func:`threads_per_task` (no oversubscription).
    files_per_task : int, optional
        Files per Dask task. Each task costs the scheduler milliseconds, so by default files are
        grouped: about 8 tasks per worker thread, at most 16 files per task (1 for few files).
        Outcomes are still per file; a lost worker's task is redone whole.
    on_outcome : callable, optional
        ``on_outcome(index, outcome)``, called as each file finishes (e.g. to drive a progress bar).

    Returns
    -------
    list of Outcome
        One per file, in order: ``job.npz`` (where it went), ``shape``, ``written``, ``n_threads``
        (engine threads the task had), ``worker`` and ``error`` (None, or why that file failed).
    """
    processor = FileProcessor(plan, resample=resample)
    jobs = jobs_for_paths(paths, output_dir, root, plot)
    if not jobs:
        return []
    if client is None:
        try:
            client = distributed.default_client()
        except ValueError:
            raise ValueError("no Dask client: pass client=, or create one first (distributed.Client(...))") from None
    return run_jobs(client, processor, jobs, on_outcome, retries=retries, n_threads=n_threads,
                    files_per_task=files_per_task)


class _Engine:
    """``spectrograms extract --scheduler dask://HOST:PORT``: connect, run, close."""

    def __init__(self, address: str, timeout: float = CONNECT_TIMEOUT) -> None:
        self.client = connect(address, timeout)

    def run(self, processor: FileProcessor, jobs: Sequence[Job], on_outcome: Callable[[int, Outcome], None]) -> None:
        run_jobs(self.client, processor, jobs, on_outcome, files_per_task=None)

    def __enter__(self) -> "_Engine":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.client.close()
