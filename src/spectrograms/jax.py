"""JAX integration: ``.to_jax()`` on every result, and batching for training.

``import spectrograms.jax`` (never done by ``import spectrograms``) attaches a ``to_jax`` method
to every result type (``Spectrogram``, ``StftResult``, ``SpectrogramBatch`` and any result class
built on the same base). The methods are thin wrappers around the typed module functions
:func:`to_jax`, :func:`batch` and :func:`batch_with_metadata`; static type checkers do not see
methods attached at import time, so typed code may prefer the functions::

    import spectrograms.jax as sgj
    array = sgj.to_jax(spec)             # same as spec.to_jax()

Zero-copy on the CPU: when the result's dtype is one JAX uses as is, ``to_jax`` hands the
result's memory to JAX without a copy (``array.unsafe_buffer_pointer() == spec.data.ctypes.data``)
and the array keeps that memory alive.
JAX runs in 32-bit mode unless ``jax_enable_x64`` is set, so compute with ``dtype="float32"``
for zero-copy; float64 (complex128) data is converted to float32 (complex64) with one copy, as
``jnp.asarray`` would do.
"""

from __future__ import annotations

try:
    import jax
except ImportError as _exc:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        "spectrograms.jax needs JAX, which is not installed: pip install spectrograms[jax]"
    ) from _exc

import dataclasses
import inspect
import os
import sys
import warnings
from typing import Any, Dict, List, Literal, Optional, Sequence, Tuple, Union, overload

import numpy as np

from ._ml import as_items, batch_shape, complex_to_real_error, metadata
from .results import SpectrogramBatch, _ArrayResult

__all__ = ["JaxSpectrogram", "to_jax", "batch", "batch_with_metadata"]

DeviceLike = Union[str, "jax.Device", None]
"""A device: ``"cpu"``, ``"gpu"`` (``"gpu:1"`` for the second one), ``"tpu"`` or a ``jax.Device``."""

DTypeLike = Any
"""A dtype numpy understands: ``jnp.float32``, ``np.float32``, ``"float32"``; None keeps the data's."""

_ALIGNMENT = 64  # XLA's CPU client adopts numpy memory without a copy only at this alignment

try:  # ``may_alias`` is new in JAX 0.4.3x; older versions alias aligned numpy memory on the CPU anyway
    _ALIAS: Dict[str, Any] = (
        {"may_alias": True} if "may_alias" in inspect.signature(jax.device_put).parameters else {}
    )
except (TypeError, ValueError):  # pragma: no cover
    _ALIAS = {}


def _devices(platform: str) -> List[Any]:
    try:
        return list(jax.devices(platform))
    except RuntimeError:
        return []


def _resolve_device(device: DeviceLike) -> Tuple[Any, bool]:
    """``(jax.Device, explicit)``: explicit when a ``jax.Device`` was passed."""
    if device is None:
        device = "cpu"
    if isinstance(device, jax.Device):
        return device, True
    if not isinstance(device, str):
        raise TypeError(f"device must be 'cpu', 'gpu', 'gpu:N' or a jax.Device, got {type(device).__name__}")
    platform, _, index_text = device.strip().lower().partition(":")
    try:
        index = int(index_text) if index_text else 0
    except ValueError:
        raise ValueError(f"invalid JAX device {device!r}: expected 'cpu', 'gpu' or 'gpu:N'") from None
    return _device(platform, index), False


def _default_device() -> Any:
    configured = jax.config.jax_default_device
    if isinstance(configured, jax.Device):
        return configured
    if isinstance(configured, str) and configured:
        return jax.devices(configured)[0]
    return jax.devices()[0]


def _device(platform: str, index: int) -> Any:
    if platform == "cuda" or platform == "rocm":
        found = _devices(platform) or _devices("gpu")
    else:
        found = _devices(platform)
    if not found:
        available = sorted({d.platform for d in jax.devices()})
        raise RuntimeError(
            f"no JAX {platform!r} device is available (JAX sees only: {', '.join(available)}); "
            "install a JAX build for your accelerator, e.g. pip install -U 'jax[cuda12]', or use device='cpu'"
        )
    if not 0 <= index < len(found):
        raise RuntimeError(
            f"JAX {platform!r} device index {index} is out of range: {len(found)} {platform} device(s) available"
        )
    return found[index]


def _target_dtype(source: np.dtype, dtype: DTypeLike, what: str) -> np.dtype:
    """The dtype JAX will hold: the request (or the source), canonicalised for 32-bit mode."""
    requested = source if dtype is None else np.dtype(dtype)
    if source.kind == "c" and requested.kind != "c":
        raise complex_to_real_error(source, requested, what)
    target = np.dtype(jax.dtypes.canonicalize_dtype(requested))
    if dtype is not None and target != requested:
        warnings.warn(
            f"dtype {requested} requested, but JAX is in 32-bit mode and holds {target}; "
            "set jax.config.update('jax_enable_x64', True) for 64-bit arrays",
            UserWarning,
            stacklevel=_user_stacklevel(),
        )
    return target


def _user_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the first caller outside this package."""
    package = os.path.dirname(os.path.abspath(__file__))
    frame = sys._getframe(1)
    level = 1
    while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == package:
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


def _aligned_empty(shape: Tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """An uninitialised C-contiguous array whose data pointer is 64-byte aligned."""
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    raw = np.empty(nbytes + _ALIGNMENT, dtype=np.uint8)
    offset = (-raw.ctypes.data) % _ALIGNMENT
    return raw[offset:offset + nbytes].view(dtype).reshape(shape)


def _is_importable(data: np.ndarray, target: np.dtype) -> bool:
    return data.dtype == target and data.flags.c_contiguous and data.ctypes.data % _ALIGNMENT == 0


def _place(host: np.ndarray, device: Any, explicit: bool) -> Any:
    """A JAX array on ``device`` holding ``host`` (64-byte aligned, C-contiguous, canonical dtype).

    On the CPU, ``jax.device_put(..., may_alias=True)`` adopts such memory without a copy and
    keeps ``host`` (and so the result's engine buffer behind it) alive as long as the array
    lives; on a GPU it is one host-to-device transfer. A device named by a string that is JAX's
    default device gives an uncommitted array, as ``jnp.asarray`` does (so jitted functions do
    not recompile when it meets uncommitted parameters); a ``jax.Device`` or any other device
    gives an array committed to it, as ``jax.device_put(x, device)`` does.
    """
    if not explicit and device == _default_device():
        return jax.device_put(host, **_ALIAS)
    return jax.device_put(host, device, **_ALIAS)


def _convert(obj: _ArrayResult, device: Any, explicit: bool, dtype: DTypeLike) -> Any:
    data = obj.data
    target = _target_dtype(data.dtype, dtype, type(obj).__name__)
    if _is_importable(data, target):
        return _place(data, device, explicit)  # zero-copy on the CPU
    # A dtype change, or a strided view (an item of a SpectrogramBatch): one aligned copy.
    host = _aligned_empty(data.shape, target)
    np.copyto(host, data, casting="unsafe")
    return _place(host, device, explicit)


@dataclasses.dataclass(frozen=True, eq=False)
class JaxSpectrogram:
    """A JAX array together with the metadata of the result it came from.

    Returned by ``spec.to_jax(with_metadata=True)``. Frozen: the device-moving methods return a
    new instance that shares the metadata.

    Attributes
    ----------
    array : jax.Array
        The values, shape :attr:`shape`.
    frequencies : numpy.ndarray or None
        Row frequencies in Hz (None for results without a frequency axis).
    times : numpy.ndarray or None
        Frame times in seconds.
    params : SpectrogramParams or None
        The parameters the result was computed with.
    shape : tuple of int
        Shape of the original result, e.g. ``(n_bins, n_frames)``.
    db_range : tuple of float or None
        ``(min_db, max_db)`` of a dB spectrogram, else None.
    """

    array: Any
    frequencies: Optional[np.ndarray]
    times: Optional[np.ndarray]
    params: Any
    shape: Tuple[int, ...]
    db_range: Optional[Tuple[float, float]]

    @property
    def device(self) -> Any:
        """The ``jax.Device`` holding :attr:`array`."""
        return next(iter(self.array.devices()))

    @property
    def dtype(self) -> np.dtype:
        """The dtype of :attr:`array`."""
        return np.dtype(self.array.dtype)

    def to(self, device: DeviceLike) -> "JaxSpectrogram":
        """A copy with the array on ``device``.

        Parameters
        ----------
        device : str or jax.Device
            ``"cpu"``, ``"gpu"``, ``"gpu:N"`` or a ``jax.Device``.

        Returns
        -------
        JaxSpectrogram
            A new instance with the same metadata; its array is committed to the device, as
            ``jax.device_put(array, device)`` makes it.
        """
        return dataclasses.replace(self, array=jax.device_put(self.array, _resolve_device(device)[0]))

    def cpu(self) -> "JaxSpectrogram":
        """The same with the array on the (first) CPU device."""
        return self.to("cpu")

    def gpu(self, index: int = 0) -> "JaxSpectrogram":
        """The same with the array on GPU number ``index``.

        Parameters
        ----------
        index : int
            Position in ``jax.devices("gpu")``.

        Returns
        -------
        JaxSpectrogram

        Raises
        ------
        RuntimeError
            When JAX has no GPU, or fewer than ``index + 1``.
        """
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"index must be an integer, got {type(index).__name__}")
        return self.to(_device("gpu", int(index)))

    def __repr__(self) -> str:
        return (
            f"JaxSpectrogram(shape={self.shape}, dtype={self.array.dtype}, device={self.device}, "
            f"db_range={self.db_range})"
        )


@overload
def to_jax(spec: _ArrayResult, device: DeviceLike = ..., with_metadata: Literal[False] = ...,
           dtype: DTypeLike = ...) -> "jax.Array": ...


@overload
def to_jax(spec: _ArrayResult, device: DeviceLike = ..., *, with_metadata: Literal[True],
           dtype: DTypeLike = ...) -> JaxSpectrogram: ...


@overload
def to_jax(spec: _ArrayResult, device: DeviceLike, with_metadata: Literal[True],
           dtype: DTypeLike = ...) -> JaxSpectrogram: ...


@overload
def to_jax(spec: _ArrayResult, device: DeviceLike = ..., with_metadata: bool = ...,
           dtype: DTypeLike = ...) -> Union["jax.Array", JaxSpectrogram]: ...


def to_jax(spec: _ArrayResult, device: DeviceLike = "cpu", with_metadata: bool = False,
           dtype: DTypeLike = None) -> Union["jax.Array", JaxSpectrogram]:
    """Convert a result to a ``jax.Array`` (the ``.to_jax()`` method calls this).

    Parameters
    ----------
    spec : Spectrogram, StftResult, SpectrogramBatch or another result
        What to convert. A complex ``StftResult`` gives a complex array.
    device : str or jax.Device
        ``"cpu"`` (default), ``"gpu"`` (``"gpu:N"`` for GPU number N) or a ``jax.Device``.
    with_metadata : bool
        Return a :class:`JaxSpectrogram` (array plus frequencies, times, params, shape and dB
        range) instead of the bare array.
    dtype : dtype, optional
        Target dtype (``jnp.float32``, ``"float32"``...). None keeps the result's dtype, as JAX
        canonicalises it: float64 becomes float32 unless ``jax_enable_x64`` is set.

    Returns
    -------
    jax.Array or JaxSpectrogram
        On the CPU, when the dtype is kept, the array uses the result's memory without a copy
        (and keeps it alive). Otherwise one aligned copy (and one transfer to a GPU). A device
        given by name that is JAX's default device gives an uncommitted array (like
        ``jnp.asarray``); a ``jax.Device`` or another device gives an array committed to it
        (like ``jax.device_put(x, device)``).

    Raises
    ------
    TypeError
        When ``spec`` is not a spectrograms result, or complex data would become real.
    ValueError
        For a malformed device name.
    RuntimeError
        When the requested device does not exist.
    """
    if not isinstance(spec, _ArrayResult):
        raise TypeError(
            "spec must be a spectrograms result (Spectrogram, StftResult, SpectrogramBatch, ...), "
            f"got {type(spec).__name__}"
        )
    array = _convert(spec, *_resolve_device(device), dtype)
    if not with_metadata:
        return array
    info = metadata(spec)
    return JaxSpectrogram(
        array=array,
        frequencies=info["frequencies"],
        times=info["times"],
        params=info["params"],
        shape=info["shape"],
        db_range=info["db_range"],
    )


def batch(specs: Union[Sequence[_ArrayResult], SpectrogramBatch], device: DeviceLike = "cpu",
          pad: bool = False, *, dtype: DTypeLike = None) -> "jax.Array":
    """Stack results into one batch array ``(B, n_bins, n_frames)``.

    The items are copied once into one 64-byte-aligned host buffer of the final shape, which
    JAX then imports without a copy (CPU) or sends in a single transfer (GPU). A
    ``SpectrogramBatch`` is already one buffer and is imported directly (zero-copy on the CPU
    when its dtype is kept).

    Parameters
    ----------
    specs : sequence of results, or SpectrogramBatch
        Results of the same shape (with ``pad``, the same shape up to the number of frames).
        Items with a leading channel axis ``(C, F, T)`` stack to ``(B, C, F, T)``. A
        ``SpectrogramBatch`` comes padded as computed (its ``lengths`` give each item's frames).
    device : str or jax.Device
        ``"cpu"`` (default), ``"gpu"``, ``"gpu:N"`` or a ``jax.Device``.
    pad : bool
        Zero-pad items with fewer frames at the end of the time (last) axis to the longest.
    dtype : dtype, optional
        Target dtype; None keeps the items' (promoted) dtype, as JAX canonicalises it.

    Returns
    -------
    jax.Array

    Raises
    ------
    ValueError
        For an empty sequence, or items of different shapes (the message names the first two
        with their indices); with ``pad``, items that differ in more than their frame count.
    TypeError
        For an item that is not a spectrograms result, or complex items with a real ``dtype``.
    RuntimeError
        When the requested device does not exist.
    """
    dev, explicit = _resolve_device(device)
    if isinstance(specs, SpectrogramBatch):
        return _convert(specs, dev, explicit, dtype)
    items = as_items(specs)
    shape = batch_shape(items, pad)
    source = np.result_type(*[item.dtype for item in items])
    target = _target_dtype(source, dtype, "the spectrograms")
    host = _aligned_empty(shape, target)
    n_frames = shape[-1]
    for i, item in enumerate(items):
        n = item.shape[-1]
        np.copyto(host[i, ..., :n], item.data, casting="unsafe")
        if n < n_frames:
            host[i, ..., n:] = 0
    return _place(host, dev, explicit)


def batch_with_metadata(specs: Union[Sequence[_ArrayResult], SpectrogramBatch], device: DeviceLike = "cpu",
                        pad: bool = False, *, dtype: DTypeLike = None) -> Tuple["jax.Array", List[Dict[str, Any]]]:
    """:func:`batch`, plus one metadata dict per item.

    Parameters
    ----------
    specs, device, pad, dtype
        As for :func:`batch`.

    Returns
    -------
    array : jax.Array
        As :func:`batch` returns it.
    metadata : list of dict
        For each item: ``shape`` (before padding), ``n_frames`` (frames before padding; use it
        to mask padded frames), ``frequencies``, ``times`` (numpy arrays), ``params`` and
        ``db_range`` (``(min, max)`` of a dB spectrogram, else None).

    Raises
    ------
    ValueError, TypeError, RuntimeError
        As for :func:`batch`.
    """
    if isinstance(specs, SpectrogramBatch):
        array = batch(specs, device=device, pad=pad, dtype=dtype)
        items = list(specs)
    else:
        items = as_items(specs)  # once: specs may be a one-shot iterator
        array = batch(items, device=device, pad=pad, dtype=dtype)
    return array, [metadata(item) for item in items]


def _to_jax_method(self: _ArrayResult, device: DeviceLike = "cpu", with_metadata: bool = False,
                   dtype: DTypeLike = None) -> Union["jax.Array", JaxSpectrogram]:
    return to_jax(self, device=device, with_metadata=with_metadata, dtype=dtype)


_to_jax_method.__name__ = "to_jax"
_to_jax_method.__qualname__ = "_ArrayResult.to_jax"
_to_jax_method.__doc__ = (to_jax.__doc__ or "").replace(
    "Convert a result to a ``jax.Array`` (the ``.to_jax()`` method calls this).",
    "Convert to a ``jax.Array`` (added by ``import spectrograms.jax``; see :func:`spectrograms.jax.to_jax`).",
).replace(
    "    spec : Spectrogram, StftResult, SpectrogramBatch or another result\n"
    "        What to convert. A complex ``StftResult`` gives a complex array.\n",
    "",
)

# Attached to the common base class, so every result type (including ones added later) has it.
setattr(_ArrayResult, "to_jax", _to_jax_method)
