"""PyTorch integration: ``.to_torch()`` on every result, and batching for training.

``import spectrograms.torch`` (never done by ``import spectrograms``) attaches a ``to_torch``
method to every result type (``Spectrogram``, ``StftResult``, ``SpectrogramBatch`` and any
result class built on the same base). The methods are thin wrappers around the typed module
functions :func:`to_torch`, :func:`batch` and :func:`batch_with_metadata`; static type checkers
do not see methods attached at import time, so typed code may prefer the functions::

    import spectrograms.torch as sgt
    tensor = sgt.to_torch(spec)          # same as spec.to_torch()

On the CPU without a dtype change every conversion is zero-copy: the tensor is a DLPack view of
the result's memory (``tensor.data_ptr() == spec.data.ctypes.data``), and the memory stays alive
as long as the tensor does, even if the result object is dropped.
"""

from __future__ import annotations

try:
    import torch
except ImportError as _exc:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        "spectrograms.torch needs PyTorch, which is not installed: pip install spectrograms[torch]"
    ) from _exc

import dataclasses
from typing import Any, Dict, List, Literal, Optional, Sequence, Tuple, Union, overload

import numpy as np

from ._ml import as_items, batch_shape, complex_to_real_error, metadata
from .results import SpectrogramBatch, _ArrayResult

__all__ = ["TorchSpectrogram", "to_torch", "batch", "batch_with_metadata"]

DeviceLike = Union[str, torch.device, int, None]
"""A device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, a ``torch.device`` or a CUDA index."""

DTypeLike = Union[torch.dtype, str, np.dtype, type, None]
"""A dtype: a ``torch.dtype``, its name (``"float32"``), a numpy dtype, or None (keep)."""


def _resolve_device(device: DeviceLike) -> torch.device:
    if device is None:
        return torch.device("cpu")
    if isinstance(device, torch.device):
        dev = device
    elif isinstance(device, (str, int)) and not isinstance(device, bool):
        try:
            dev = torch.device(device)
        except (RuntimeError, ValueError, TypeError) as exc:
            raise ValueError(f"invalid torch device {device!r}: {exc}") from None
    else:
        raise TypeError(f"device must be a str, an int or a torch.device, got {type(device).__name__}")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(
            f"device {str(dev)!r} was requested but CUDA is not available to PyTorch "
            "(torch.cuda.is_available() is False); use device='cpu'"
        )
    return dev


def _resolve_dtype(dtype: DTypeLike) -> Optional[torch.dtype]:
    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    if isinstance(dtype, str):
        resolved = getattr(torch, dtype, None)
        if isinstance(resolved, torch.dtype):
            return resolved
    else:
        try:
            return torch.from_numpy(np.empty(0, dtype=np.dtype(dtype))).dtype
        except (TypeError, ValueError):
            pass
    raise TypeError(f"dtype must be a torch.dtype (e.g. torch.float32), its name or a numpy dtype; got {dtype!r}")


def _check_result(obj: Any, what: str) -> None:
    if not isinstance(obj, _ArrayResult):
        raise TypeError(
            f"{what} must be a spectrograms result (Spectrogram, StftResult, SpectrogramBatch, ...), "
            f"got {type(obj).__name__}"
        )


def _check_cast(source: torch.dtype, target: Optional[torch.dtype], what: str) -> None:
    if target is not None and source.is_complex and not target.is_complex:
        raise complex_to_real_error(source, target, what)


def _convert(obj: _ArrayResult, device: torch.device, dtype: Optional[torch.dtype]) -> torch.Tensor:
    """A DLPack view of ``obj``, moved and cast only when asked (then a copy)."""
    tensor = torch.from_dlpack(obj)
    _check_cast(tensor.dtype, dtype, type(obj).__name__)
    if device.type == "cpu" and (dtype is None or dtype == tensor.dtype):
        return tensor
    return tensor.to(device=device, dtype=dtype)


@dataclasses.dataclass(frozen=True, eq=False)
class TorchSpectrogram:
    """A tensor together with the metadata of the result it came from.

    Returned by ``spec.to_torch(with_metadata=True)``. Frozen: the device-moving methods return a
    new instance that shares the metadata.

    Attributes
    ----------
    tensor : torch.Tensor
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

    tensor: torch.Tensor
    frequencies: Optional[np.ndarray]
    times: Optional[np.ndarray]
    params: Any
    shape: Tuple[int, ...]
    db_range: Optional[Tuple[float, float]]

    @property
    def device(self) -> torch.device:
        """The device of :attr:`tensor`."""
        return self.tensor.device

    @property
    def dtype(self) -> torch.dtype:
        """The dtype of :attr:`tensor`."""
        return self.tensor.dtype

    def to(self, device: DeviceLike = None, dtype: DTypeLike = None) -> "TorchSpectrogram":
        """A copy with the tensor moved to ``device`` and/or cast to ``dtype``.

        Parameters
        ----------
        device : str, int or torch.device, optional
            Target device; None keeps the current one.
        dtype : torch.dtype, optional
            Target dtype; None keeps the current one.

        Returns
        -------
        TorchSpectrogram
            A new instance with the same metadata (the tensor is shared when nothing changes).
        """
        dev = self.tensor.device if device is None else _resolve_device(device)
        dt = _resolve_dtype(dtype)
        _check_cast(self.tensor.dtype, dt, "the tensor")
        return dataclasses.replace(self, tensor=self.tensor.to(device=dev, dtype=dt))

    def cpu(self) -> "TorchSpectrogram":
        """The same with the tensor on the CPU (see :meth:`to`)."""
        return self.to("cpu")

    def cuda(self, device: Union[int, str, torch.device, None] = None) -> "TorchSpectrogram":
        """The same with the tensor on a CUDA device.

        Parameters
        ----------
        device : int, str or torch.device, optional
            CUDA device index (``0``), name (``"cuda:1"``) or ``torch.device``; None is the
            current CUDA device.

        Returns
        -------
        TorchSpectrogram

        Raises
        ------
        RuntimeError
            When CUDA is not available.
        ValueError
            When ``device`` names a device that is not a CUDA device.
        """
        if device is None:
            dev = _resolve_device("cuda")
        elif isinstance(device, int) and not isinstance(device, bool):
            dev = _resolve_device(f"cuda:{device}")
        else:
            dev = _resolve_device(device)
        if dev.type != "cuda":
            raise ValueError(f"cuda() needs a CUDA device, got {str(dev)!r}; use .to(device) for others")
        return self.to(dev)

    def __repr__(self) -> str:
        return (
            f"TorchSpectrogram(shape={self.shape}, dtype={self.tensor.dtype}, device={self.tensor.device}, "
            f"db_range={self.db_range})"
        )


@overload
def to_torch(spec: _ArrayResult, device: DeviceLike = ..., with_metadata: Literal[False] = ...,
             dtype: DTypeLike = ...) -> torch.Tensor: ...


@overload
def to_torch(spec: _ArrayResult, device: DeviceLike = ..., *, with_metadata: Literal[True],
             dtype: DTypeLike = ...) -> TorchSpectrogram: ...


@overload
def to_torch(spec: _ArrayResult, device: DeviceLike, with_metadata: Literal[True],
             dtype: DTypeLike = ...) -> TorchSpectrogram: ...


@overload
def to_torch(spec: _ArrayResult, device: DeviceLike = ..., with_metadata: bool = ...,
             dtype: DTypeLike = ...) -> Union[torch.Tensor, TorchSpectrogram]: ...


def to_torch(spec: _ArrayResult, device: DeviceLike = "cpu", with_metadata: bool = False,
             dtype: DTypeLike = None) -> Union[torch.Tensor, TorchSpectrogram]:
    """Convert a result to a ``torch.Tensor`` (the ``.to_torch()`` method calls this).

    Parameters
    ----------
    spec : Spectrogram, StftResult, SpectrogramBatch or another result
        What to convert. A complex ``StftResult`` gives a complex64/complex128 tensor.
    device : str, int or torch.device
        Target device (default ``"cpu"``). ``"cuda"``, ``"cuda:1"``, ``torch.device(...)``.
    with_metadata : bool
        Return a :class:`TorchSpectrogram` (tensor plus frequencies, times, params, shape and
        dB range) instead of the bare tensor.
    dtype : torch.dtype, optional
        Target dtype (``torch.float32``; its name or a numpy dtype also work). None keeps the
        result's dtype.

    Returns
    -------
    torch.Tensor or TorchSpectrogram
        On the CPU with the same dtype the tensor is a zero-copy view of the result's memory
        (writes through either are visible in the other); otherwise a new tensor.

    Raises
    ------
    TypeError
        When ``spec`` is not a spectrograms result, for a bad ``dtype``, or when complex data
        would be cast to a real dtype.
    ValueError
        For a malformed device name.
    RuntimeError
        For a CUDA device when CUDA is not available.
    """
    _check_result(spec, "spec")
    tensor = _convert(spec, _resolve_device(device), _resolve_dtype(dtype))
    if not with_metadata:
        return tensor
    info = metadata(spec)
    return TorchSpectrogram(
        tensor=tensor,
        frequencies=info["frequencies"],
        times=info["times"],
        params=info["params"],
        shape=info["shape"],
        db_range=info["db_range"],
    )


def batch(specs: Union[Sequence[_ArrayResult], SpectrogramBatch], device: DeviceLike = "cpu",
          dtype: DTypeLike = None, pad: bool = False, channel_dim: bool = False) -> torch.Tensor:
    """Stack results into one batch tensor ``(B, n_bins, n_frames)``.

    The output is allocated once in its final shape and each item is copied into its slot
    straight from a zero-copy view of the item (no intermediate tensors, no ``torch.stack``).
    For a CUDA device the batch is assembled in pinned host memory and sent with one
    asynchronous (``non_blocking``) transfer.

    Parameters
    ----------
    specs : sequence of results, or SpectrogramBatch
        ``Spectrogram``/``StftResult`` objects of the same shape (or, with ``pad``, the same
        shape up to the number of frames). Items with a leading channel axis ``(C, F, T)``
        stack to ``(B, C, F, T)``. A ``SpectrogramBatch`` (from ``plan.compute_batch``) is
        already one buffer: on the CPU it is returned as a zero-copy view, padded as computed
        (its ``lengths`` give each item's frames).
    device : str, int or torch.device
        Target device (default ``"cpu"``).
    dtype : torch.dtype, optional
        Target dtype; None keeps the items' dtype (promoted if they differ, e.g. float32 and
        float64 give float64).
    pad : bool
        Zero-pad items with fewer frames at the end of the time (last) axis up to the longest.
        The padding is exactly zero.
    channel_dim : bool
        Insert a channel axis of size 1 after the batch axis: ``(B, 1, F, T)``, the layout of
        ``nn.Conv2d``. Items that already have a channel axis are unchanged.

    Returns
    -------
    torch.Tensor
        ``(B, F, T)`` (or ``(B, C, F, T)``/``(B, 1, F, T)``) on ``device``.

    Raises
    ------
    ValueError
        For an empty sequence, or items of different shapes (the message names the first two
        with their indices); with ``pad``, items that differ in more than their frame count.
    TypeError
        For an item that is not a spectrograms result, or complex items with a real ``dtype``.
    RuntimeError
        For a CUDA device when CUDA is not available.
    """
    dev = _resolve_device(device)
    dt = _resolve_dtype(dtype)
    if isinstance(specs, SpectrogramBatch):
        out = _convert(specs, dev, dt)
        return out.unsqueeze(1) if channel_dim and out.dim() == 3 else out
    items = as_items(specs)
    shape = batch_shape(items, pad)
    sources = [torch.from_dlpack(item) for item in items]  # views, no copies
    source_dtype = sources[0].dtype
    for src in sources[1:]:
        source_dtype = torch.promote_types(source_dtype, src.dtype)
    _check_cast(source_dtype, dt, "the spectrograms")
    target = dt if dt is not None else source_dtype
    pinned = dev.type == "cuda"
    out = torch.empty(shape, dtype=target, pin_memory=pinned)
    n_frames = shape[-1]
    for i, src in enumerate(sources):
        n = src.shape[-1]
        out[i, ..., :n].copy_(src)
        if n < n_frames:
            out[i, ..., n:].zero_()
    if channel_dim and out.dim() == 3:
        out = out.unsqueeze(1)
    if dev.type != "cpu":
        out = out.to(dev, non_blocking=pinned)
    return out


def batch_with_metadata(specs: Union[Sequence[_ArrayResult], SpectrogramBatch], device: DeviceLike = "cpu",
                        dtype: DTypeLike = None, pad: bool = False,
                        channel_dim: bool = False) -> Tuple[torch.Tensor, List[Dict[str, Any]]]:
    """:func:`batch`, plus one metadata dict per item.

    Parameters
    ----------
    specs, device, dtype, pad, channel_dim
        As for :func:`batch`.

    Returns
    -------
    tensor : torch.Tensor
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
        tensor = batch(specs, device=device, dtype=dtype, pad=pad, channel_dim=channel_dim)
        items = list(specs)
    else:
        items = as_items(specs)  # once: specs may be a one-shot iterator
        tensor = batch(items, device=device, dtype=dtype, pad=pad, channel_dim=channel_dim)
    return tensor, [metadata(item) for item in items]


def _to_torch_method(self: _ArrayResult, device: DeviceLike = "cpu", with_metadata: bool = False,
                     dtype: DTypeLike = None) -> Union[torch.Tensor, TorchSpectrogram]:
    return to_torch(self, device=device, with_metadata=with_metadata, dtype=dtype)


_to_torch_method.__name__ = "to_torch"
_to_torch_method.__qualname__ = "_ArrayResult.to_torch"
_to_torch_method.__doc__ = (to_torch.__doc__ or "").replace(
    "Convert a result to a ``torch.Tensor`` (the ``.to_torch()`` method calls this).",
    "Convert to a ``torch.Tensor`` (added by ``import spectrograms.torch``; see "
    ":func:`spectrograms.torch.to_torch`).",
).replace(
    "    spec : Spectrogram, StftResult, SpectrogramBatch or another result\n"
    "        What to convert. A complex ``StftResult`` gives a complex64/complex128 tensor.\n",
    "",
)

# Attached to the common base class, so every result type (including ones added later) has it.
setattr(_ArrayResult, "to_torch", _to_torch_method)

# The exportable front-end layers (torch operators only; see docs/exportable-layers.md). Inside
# this module `Spectrogram` is the layer; the result class stays `spectrograms.Spectrogram`.
from ._layers import MFCC, LogMelSpectrogram, MelSpectrogram, Spectrogram  # noqa: E402
from .export import export_coreml, export_onnx  # noqa: E402

__all__ += ["Spectrogram", "MelSpectrogram", "LogMelSpectrogram", "MFCC", "export_onnx", "export_coreml"]
