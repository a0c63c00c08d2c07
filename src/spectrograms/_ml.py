"""Framework-neutral helpers shared by :mod:`spectrograms.torch` and :mod:`spectrograms.jax`.

Validation of the items of a batch, the shape of the batched output, and the metadata that
travels with a converted result. Nothing here imports a framework.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from .results import SpectrogramBatch, _ArrayResult

__all__ = ["as_items", "batch_shape", "metadata", "db_range", "complex_to_real_error"]


def as_items(specs: Any) -> List[_ArrayResult]:
    """The results of a batch as a list; ValueError when empty, TypeError for anything else.

    Parameters
    ----------
    specs : sequence of results
        ``Spectrogram``, ``StftResult`` or any other ``spectrograms`` result.

    Returns
    -------
    list
    """
    if isinstance(specs, _ArrayResult):
        # A single result is iterable (over its rows): refuse it rather than batch its rows.
        raise TypeError(
            f"specs must be a sequence of spectrograms or a SpectrogramBatch, got a single "
            f"{type(specs).__name__}; wrap it in a list: [spec]"
        )
    if isinstance(specs, (str, bytes, np.ndarray)) or not hasattr(specs, "__iter__"):
        raise TypeError(
            "specs must be a sequence of spectrograms (Spectrogram, StftResult, ...) or a "
            f"SpectrogramBatch, got {type(specs).__name__}"
        )
    items = list(specs)
    if not items:
        raise ValueError("cannot batch an empty sequence of spectrograms; pass at least one")
    for i, item in enumerate(items):
        if not isinstance(item, _ArrayResult):
            raise TypeError(
                f"specs[{i}] is a {type(item).__name__}, not a spectrograms result "
                "(Spectrogram, StftResult, ...); compute it with a spectrograms function or plan"
            )
    return items


def batch_shape(items: Sequence[_ArrayResult], pad: bool) -> Tuple[int, ...]:
    """Shape of the batched output, ``(B, *item_shape)``, with the time (last) axis padded.

    Parameters
    ----------
    items : sequence of results
        Already checked by :func:`as_items`.
    pad : bool
        Whether items may differ in their number of frames (the last axis).

    Returns
    -------
    tuple of int

    Raises
    ------
    ValueError
        When two items differ in shape (without ``pad``), or in more than the time axis.
    """
    first = tuple(items[0].shape)
    max_frames = first[-1] if first else 0
    for i, item in enumerate(items[1:], start=1):
        shape = tuple(item.shape)
        if shape == first:
            continue
        if not pad:
            raise ValueError(
                f"spectrograms of different shapes cannot be stacked: specs[0] has shape {first} "
                f"but specs[{i}] has shape {shape}; pass pad=True to zero-pad the time axis"
            )
        if len(shape) != len(first) or shape[:-1] != first[:-1]:
            raise ValueError(
                f"spectrograms differ in more than their number of frames: specs[0] has shape {first} "
                f"but specs[{i}] has shape {shape}; pad=True pads only the time (last) axis"
            )
        max_frames = max(max_frames, shape[-1])
    return (len(items),) + first[:-1] + (max_frames,)


def complex_to_real_error(source: Any, target: Any, what: str) -> TypeError:
    """The TypeError for complex data that would be cast to a real dtype (dropping the imaginary part).

    Parameters
    ----------
    source, target : dtype
        The complex source dtype and the requested real dtype (any object with a readable ``str``).
    what : str
        Names the offending object in the message.

    Returns
    -------
    TypeError
    """
    return TypeError(
        f"{what} is complex ({source}) and cannot be converted to the real dtype {target} without "
        "dropping the imaginary part; convert explicitly (e.g. take the magnitude) or pick a complex dtype"
    )


def db_range(obj: Any) -> Optional[Tuple[float, float]]:
    """(min, max) in dB of a dB result, else None. A batch ignores its padding frames."""
    fn = getattr(obj, "db_range", None)
    if callable(fn):
        value = fn()
        return None if value is None else (float(value[0]), float(value[1]))
    if isinstance(obj, SpectrogramBatch) and obj.quantity == "db":
        valid = np.moveaxis(obj.data, 2, 1)[obj.frame_mask()]  # (valid frames, n_bins)
        if valid.size == 0:
            return None
        return (float(np.min(valid)), float(np.max(valid)))
    return None


def metadata(obj: Any) -> Dict[str, Any]:
    """The per-item metadata dict of ``batch_with_metadata``.

    Keys: ``shape`` (the item's shape before padding), ``n_frames`` (frames before padding),
    ``frequencies``, ``times`` (numpy arrays, or None for results without them), ``params`` and
    ``db_range`` (``(min, max)`` for dB spectrograms, else None).
    """
    shape = tuple(int(n) for n in obj.shape)
    return {
        "shape": shape,
        "n_frames": shape[-1] if shape else 0,
        "frequencies": getattr(obj, "frequencies", None),
        "times": getattr(obj, "times", None),
        "params": getattr(obj, "params", None),
        "db_range": db_range(obj),
    }
