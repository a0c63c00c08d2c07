"""Ray integration: a ``map_batches`` class for Ray Data, and ``extract_files`` with Ray tasks.

Import it explicitly (``import spectrograms.ray``); it needs the ``ray`` extra
(``pip install spectrograms[ray]``: ``ray[data]``, plus soundfile and soxr to read audio).

- :class:`Spectrograms` is a callable class for ``ray.data.Dataset.map_batches``: it takes the
  audio column as Ray hands it over (a numpy object array of read-only 1-D arrays, or a 2-D
  array when every clip has the same length), computes the whole batch in one engine call
  (the read-only arrays are used in place, never copied) and adds a features column.
  :func:`map_spectrograms` calls ``map_batches`` with it and sensible resources.
- :func:`extract_files` writes one ``.npz`` per audio file with Ray tasks, exactly as
  ``spectrograms extract`` does (the same function writes them).

The plan travels to the actors and tasks as itself (its pickle holds its parameters and the
driver's FFTW wisdom), so every worker computes the same bits as the driver.
See ``docs/scaling-out.md``.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Union
from urllib.parse import urlsplit

import numpy as np
import ray

from ._extract import (
    CONNECT_TIMEOUT,
    FileProcessor,
    Job,
    Outcome,
    SchedulerError,
    as_submitted,
    auto_files_per_task,
    check_reachable,
    chunks,
    cleanup_temporaries,
    for_workers,
    jobs_for_paths,
    reason,
    run_in_task,
    umask,
)
from ._threads import _check

__all__ = ["Spectrograms", "map_spectrograms", "extract_files"]


def _assigned_cpus() -> int:
    """Whole CPUs Ray gave this task or actor (1 outside Ray or for fractional CPUs)."""
    try:
        if ray.is_initialized():
            cpus = ray.get_runtime_context().get_assigned_resources().get("CPU", 1.0)
            return max(1, int(cpus))
    except Exception:  # noqa: BLE001 - the driver, or an older Ray
        pass
    return 1


class Spectrograms:
    """A ``map_batches`` callable class that adds a spectrogram column to each batch.

    Parameters
    ----------
    plan : plan
        Any plan of :class:`spectrograms.SpectrogramPlanner`. Ray pickles it once for each actor.
    column : str
        The audio column: 1-D float signals (float32 for a float32 plan avoids a conversion).
    output_column : str
        The column added (default ``"features"``).
    pad : bool
        False (default): each row gets its own ``(n_bins, n_frames)`` array, equal bit for bit to
        ``plan.compute(signal).data``. True: the column is the batch's ``(B, n_bins, max_frames)``
        zero-padded array and ``<output_column>_frames`` holds each row's frame count.
    n_threads : int, optional
        Engine threads per batch; default the CPUs Ray assigned to the actor (its ``num_cpus``).

    Use with ``batch_format="numpy"`` (the default format), e.g. through :func:`map_spectrograms`.
    """

    def __init__(self, plan: Any, column: str = "audio", output_column: str = "features", *, pad: bool = False,
                 n_threads: Optional[int] = None) -> None:
        if not hasattr(plan, "compute_batch"):
            raise TypeError(f"plan must be a plan from SpectrogramPlanner, got {type(plan).__name__}")
        self.plan = plan
        self.column = column
        self.output_column = output_column
        self.pad = bool(pad)
        self.n_threads = _assigned_cpus() if n_threads is None else _check(n_threads)

    def __call__(self, batch: Dict[str, Any]) -> Dict[str, Any]:
        signals = batch[self.column]
        out = dict(batch)
        if len(signals) == 0:
            out[self.output_column] = np.empty(0, dtype=object)
            if self.pad:
                out[self.output_column + "_frames"] = np.empty(0, dtype=np.int64)
            return out
        result = self.plan.compute_batch(signals, n_threads=self.n_threads, pad=True)
        if self.pad:
            out[self.output_column] = result.data
            out[self.output_column + "_frames"] = np.array(result.lengths)
        else:
            features = np.empty(len(result), dtype=object)
            for i, item in enumerate(result):
                features[i] = item.data  # a view of the batch; Ray copies it into its block
            out[self.output_column] = features
        return out


def map_spectrograms(ds: "ray.data.Dataset", plan: Any, column: str = "audio", output_column: str = "features", *,
                     num_cpus: int = 1, max_actors: Optional[int] = None, batch_size: int = 16,
                     pad: bool = False) -> "ray.data.Dataset":
    """``ds.map_batches(Spectrograms, ...)`` with resources set for a CPU-bound engine.

    Each actor reserves ``num_cpus`` CPUs and runs the engine on that many threads, so actors x
    threads never exceed the cluster's CPUs. The actor pool autoscales from 1 to ``max_actors``
    (default: the cluster's CPUs // ``num_cpus``). ``num_cpus=1`` (default) suits many short
    clips; raise it for few long ones, which the engine then splits over frames.
    """
    num_cpus = _check(num_cpus, "num_cpus")
    if max_actors is None:
        total = int(ray.cluster_resources().get("CPU", 1)) if ray.is_initialized() else (os.cpu_count() or 1)
        max_actors = max(1, total // num_cpus)
    return ds.map_batches(
        Spectrograms,
        fn_constructor_args=(plan, column, output_column),
        fn_constructor_kwargs={"pad": pad, "n_threads": num_cpus},
        batch_size=_check(batch_size, "batch_size"),
        batch_format="numpy",
        zero_copy_batch=True,
        num_cpus=num_cpus,
        compute=ray.data.ActorPoolStrategy(min_size=1, max_size=_check(max_actors, "max_actors")),
    )


# --------------------------------------------------------------------------- files

def _task(processor: Callable[[Job], Outcome], jobs: List[Job], n_threads: int) -> List[Outcome]:
    try:
        ctx = ray.get_runtime_context()
        worker: Optional[str] = f"{ctx.get_node_id()[:8]}/{ctx.get_worker_id()[:8]}"
    except Exception:  # noqa: BLE001
        worker = None
    return run_in_task(processor, jobs, n_threads, worker)


def run_jobs(processor: Callable[[Job], Outcome], jobs: Sequence[Job],
             on_outcome: Optional[Callable[[int, Outcome], None]] = None, *, num_cpus: int = 1,
             max_retries: int = 3, files_per_task: Optional[int] = 1,
             max_in_flight: Optional[int] = None) -> List[Outcome]:
    """Run ``processor`` on every job, ``files_per_task`` jobs per Ray task; outcomes in job order.

    ``files_per_task=None`` chooses the group size (``_extract.auto_files_per_task``).

    ``on_outcome(index, outcome)`` is called in this thread as each task finishes. A task whose
    worker dies is retried ``max_retries`` times, then reported as its files' error. At most
    ``max_in_flight`` tasks are submitted at once (default: 8 per CPU of the cluster, >= 64).
    """
    num_cpus = _check(num_cpus, "num_cpus")
    cpus = int(ray.cluster_resources().get("CPU", 1))
    if files_per_task is None:
        files_per_task = auto_files_per_task(len(jobs), cpus // num_cpus)
    pieces = chunks(len(jobs), _check(files_per_task, "files_per_task"))
    if max_in_flight is None:
        max_in_flight = max(64, 8 * cpus)
    umask()
    remote = ray.remote(_task).options(num_cpus=num_cpus, max_retries=max_retries)
    processor_ref = ray.put(processor)
    outcomes: List[Optional[Outcome]] = [None] * len(jobs)
    pending: Dict[Any, range] = {}
    next_piece = 0
    try:
        while next_piece < len(pieces) or pending:
            while next_piece < len(pieces) and len(pending) < max_in_flight:
                piece = pieces[next_piece]
                pending[remote.remote(processor_ref, [for_workers(jobs[i]) for i in piece], num_cpus)] = piece
                next_piece += 1
            ready, rest = ray.wait(list(pending), num_returns=1)
            if rest:
                more, _ = ray.wait(rest, num_returns=len(rest), timeout=0)
                ready += more
            for ref in ready:
                piece = pending.pop(ref)
                try:
                    done = ray.get(ref)
                except Exception as exc:  # noqa: BLE001 - WorkerCrashedError after the retries, ...
                    done = [Outcome(jobs[i], error=f"failed on the cluster: {reason(exc)}") for i in piece]
                for i, outcome in zip(piece, done):
                    outcomes[i] = outcome = as_submitted(outcome, jobs[i])
                    if on_outcome is not None:
                        on_outcome(i, outcome)
    except BaseException:
        for ref in pending:
            ray.cancel(ref, force=True)
        raise
    cleanup_temporaries(jobs)
    return [o for o in outcomes if o is not None]


def extract_files(paths: Union[str, os.PathLike, Iterable[Union[str, os.PathLike]]], plan: Any,
                  output_dir: Union[str, os.PathLike], root: Optional[Union[str, os.PathLike]] = None, *,
                  resample: bool = True, plot: bool = False, num_cpus: int = 1, max_retries: int = 3,
                  files_per_task: Optional[int] = None,
                  on_outcome: Optional[Callable[[int, Outcome], None]] = None) -> List[Outcome]:
    """Write one ``.npz`` per audio file with Ray tasks, as ``spectrograms extract`` does.

    Uses the connected Ray (``ray.init(...)`` first; otherwise Ray starts a local instance).
    ``paths``, ``plan``, ``output_dir``, ``root``, ``resample``, ``plot`` and ``on_outcome`` are
    as in :func:`spectrograms.dask.extract_files`. Each task reserves ``num_cpus`` CPUs and runs
    the engine on that many threads; a task whose worker dies is retried ``max_retries`` times.
    ``files_per_task`` files share one task; by default about 8 tasks per CPU slot, at most 16
    files per task (each task costs Ray about a millisecond or more). Outcomes are still per file.

    Returns
    -------
    list of Outcome
        One per file, in order, with ``error`` None or why that file failed.
    """
    processor = FileProcessor(plan, resample=resample)
    jobs = jobs_for_paths(paths, output_dir, root, plot)
    if not jobs:
        return []
    return run_jobs(processor, jobs, on_outcome, num_cpus=num_cpus, max_retries=max_retries,
                    files_per_task=files_per_task)


class _Engine:
    """``spectrograms extract --scheduler ray`` / ``ray://HOST:PORT``: connect, run, disconnect."""

    def __init__(self, address: Optional[str], num_cpus: Optional[int] = None,
                 timeout: float = CONNECT_TIMEOUT) -> None:
        target = address or os.environ.get("RAY_ADDRESS") or None
        if target and target != "auto" and not target.startswith("local"):
            parts = urlsplit(target if "://" in target else f"tcp://{target}")
            if parts.hostname and parts.port:
                check_reachable(parts.hostname, parts.port, "the Ray cluster", timeout)
        self._started = not ray.is_initialized()
        if self._started:
            kwargs: Dict[str, Any] = {}
            if address is not None:
                kwargs["address"] = address
            elif not os.environ.get("RAY_ADDRESS"):  # a local instance of our own
                kwargs.update(include_dashboard=False, log_to_driver=False)
                if num_cpus is not None:
                    kwargs["num_cpus"] = num_cpus
            try:
                ray.init(**kwargs)
            except (ConnectionError, ValueError, RuntimeError, OSError) as exc:
                raise SchedulerError(f"cannot start or connect to Ray ({target or 'local'}): {reason(exc)}") from None

    def run(self, processor: FileProcessor, jobs: Sequence[Job], on_outcome: Callable[[int, Outcome], None]) -> None:
        run_jobs(processor, jobs, on_outcome, files_per_task=None)

    def __enter__(self) -> "_Engine":
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._started:
            ray.shutdown()
