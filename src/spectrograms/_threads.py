"""How many engine threads batch calls use: set_num_threads, the environment, or the cores we may use."""

from __future__ import annotations

import contextlib
import os
from typing import Iterator, Optional

from ._errors import InvalidInputError

__all__ = ["get_num_threads", "set_num_threads", "num_threads"]

_override: Optional[int] = None


def _check(n: object, name: str = "n_threads") -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"{name} must be a positive integer, got {type(n).__name__} {n!r}")
    if n < 1:
        raise InvalidInputError(f"{name} must be >= 1, got {n}")
    return n


def _available_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def get_num_threads() -> int:
    """Engine threads used by batch calls when ``n_threads`` is not given.

    In order: the value of :func:`set_num_threads` (or an enclosing :func:`num_threads`), then the
    ``SPECTROGRAMS_NUM_THREADS`` environment variable, then the number of cores this process may
    run on (``os.sched_getaffinity``, which respects taskset, cgroups and DataLoader workers'
    affinity, unlike ``os.cpu_count``).
    """
    if _override is not None:
        return _override
    env = os.environ.get("SPECTROGRAMS_NUM_THREADS", "").strip()
    if env:
        try:
            value = int(env)
        except ValueError:
            value = 0
        if value >= 1:
            return value
    return _available_cores()


def set_num_threads(n: Optional[int]) -> None:
    """Set the default engine thread count; ``None`` restores the environment/cores default."""
    global _override
    _override = None if n is None else _check(n, "n")


@contextlib.contextmanager
def num_threads(n: int) -> Iterator[int]:
    """Context manager that sets the default engine thread count for its body.

    Examples
    --------
    >>> import spectrograms as sg
    >>> with sg.num_threads(1):
    ...     sg.get_num_threads()
    1
    """
    global _override
    previous = _override
    _override = _check(n, "n")
    try:
        yield _override
    finally:
        _override = previous
