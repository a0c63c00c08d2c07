"""Input normalisation: dtypes and signals, checked once, converted without copies where possible."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ._errors import InvalidInputError

_DTYPE_NAMES = {
    None: np.dtype(np.float64),
    "float64": np.dtype(np.float64),
    "f64": np.dtype(np.float64),
    "double": np.dtype(np.float64),
    "float32": np.dtype(np.float32),
    "f32": np.dtype(np.float32),
    "single": np.dtype(np.float32),
}


def resolve_dtype(dtype: Any) -> np.dtype:
    """The compute dtype: float64 (default) or float32, from a name, alias or numpy dtype."""
    if isinstance(dtype, str) or dtype is None:
        key = dtype.lower() if isinstance(dtype, str) else None
        if key in _DTYPE_NAMES:
            return np.dtype(_DTYPE_NAMES[key])
    else:
        try:
            d = np.dtype(dtype)
        except TypeError:
            d = None
        if d is not None and d in (np.dtype(np.float32), np.dtype(np.float64)):
            return d
        # torch.float32 and the like: their str() ends with the numpy name
        name = str(dtype).rsplit(".", 1)[-1]
        if name in ("float32", "float64"):
            return np.dtype(name)
    raise InvalidInputError(
        "dtype must be None, 'float64' ('f64', 'double'), 'float32' ('f32', 'single') or a numpy "
        f"float dtype; got {dtype!r}"
    )


def _from_dlpack(obj: Any, what: str) -> np.ndarray:
    device = obj.__dlpack_device__() if hasattr(obj, "__dlpack_device__") else (1, 0)
    if int(device[0]) != 1:
        raise TypeError(
            f"{what} lives on a device of DLPack type {int(device[0])} (not the CPU); "
            "move it to the CPU first, e.g. tensor.cpu() or jax.device_get(array)"
        )
    if getattr(obj, "requires_grad", False) and hasattr(obj, "detach"):
        obj = obj.detach()
    return np.from_dlpack(obj)


def as_signal(samples: Any, dtype: np.dtype, what: str = "samples") -> np.ndarray:
    """A 1-D numpy array of `dtype` sharing memory with `samples` when it already has that dtype.

    Accepts numpy arrays (strided and read-only too), objects with ``__dlpack__`` on the CPU
    (torch tensors, JAX arrays), buffer-protocol objects and sequences of floats.
    """
    if isinstance(samples, np.ndarray):
        arr = samples
    elif hasattr(samples, "__dlpack__") and not isinstance(samples, (list, tuple)):
        arr = _from_dlpack(samples, what)
    else:
        try:
            arr = np.asarray(samples)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{what} must be a 1-D array of floats; could not convert {type(samples).__name__}: {exc}")
    kind = arr.dtype.kind
    if kind != "f":
        if kind in "iu":
            hint = (
                " Integer PCM must be scaled explicitly, e.g. x.astype(np.float32) / 32768 for int16;"
                " or pass np.asarray(x, float) if the values are already in the right units."
            )
        elif kind == "b":
            hint = " Convert it with np.asarray(x, float) if that is really meant."
        elif kind == "c":
            hint = " Pass the real signal; complex input has no spectrogram defined here."
        else:
            hint = ""
        raise TypeError(f"{what} must be a floating-point array (float32 or float64), got dtype {arr.dtype}.{hint}")
    if arr.ndim != 1:
        raise TypeError(
            f"{what} must be a 1-D array of samples, got {arr.ndim}-D with shape {arr.shape}; "
            "use the batch functions for several signals"
        )
    if arr.size == 0:
        raise InvalidInputError(f"{what} is empty; expected at least one sample")
    if arr.dtype != dtype or not arr.dtype.isnative:
        arr = arr.astype(dtype)
    return arr


def optional_positive_int(name: str, value: Optional[int]) -> Optional[int]:
    """None, or an int >= 1 (TypeError for non-integers, ValueError for < 1)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer or None, got {type(value).__name__} {value!r}")
    if value < 1:
        raise InvalidInputError(f"{name} must be >= 1, got {value}")
    return int(value)
