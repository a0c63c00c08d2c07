"""Result types: engine memory plus metadata, exposed as numpy views and through DLPack.

Every result shares one reference-counted engine buffer between ``.data`` (a numpy view),
``__dlpack__`` capsules and the consumers that import them (torch, JAX, numpy). The memory lives
until the last of them lets go, so dropping a result while a tensor still uses it is safe.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional, Tuple

import numpy as np

from . import _core
from .params import LogParams, MelParams, SpectrogramParams

if TYPE_CHECKING:  # pragma: no cover
    import matplotlib.axes

__all__ = ["Spectrogram", "StftResult", "SpectrogramBatch", "Mfcc", "Chromagram", "Fft2dResult", "KDLCPU", "KDLCUDA"]

KDLCPU = 1
KDLCUDA = 2
KDLCUDAHOST = 3
KDLOPENCL = 4
KDLVULKAN = 7
KDLMETAL = 8
KDLVPI = 9
KDLROCM = 10
DLPACK_FLAG_BITMASK_READ_ONLY = 1
DLPACK_FLAG_BITMASK_IS_COPIED = 2


class _DLPackMixin:
    """``__dlpack__``/``__dlpack_device__`` per the Python array API standard, over ``_buffer``."""

    __slots__ = ()
    _buffer: Any

    def __dlpack__(
        self,
        *,
        stream: Any = None,
        max_version: Optional[Tuple[int, int]] = None,
        dl_device: Optional[Tuple[int, int]] = None,
        copy: Optional[bool] = None,
    ) -> Any:
        """Export the data as a DLPack capsule.

        Parameters
        ----------
        stream : None
            Must be None: the data lives on the CPU, where streams do not exist.
        max_version : tuple of int, optional
            The highest DLPack version the consumer understands. ``(1, x)`` or above gives a
            ``"dltensor_versioned"`` capsule; None or ``(0, x)`` a legacy ``"dltensor"`` one.
        dl_device : tuple of int, optional
            Must be None or ``(1, 0)`` (the CPU).
        copy : bool, optional
            True: export a new buffer (the versioned capsule carries ``IS_COPIED``). False or None:
            share this result's memory; never copies.

        Raises
        ------
        BufferError
            For a stream, a device other than the CPU, or a malformed ``max_version``.
        """
        if stream is not None:
            raise BufferError(f"stream must be None for CPU data, got {stream!r}")
        if dl_device is not None:
            try:
                device = (int(dl_device[0]), int(dl_device[1]))
            except (TypeError, ValueError, IndexError):
                raise BufferError(f"dl_device must be a (device_type, device_id) pair, got {dl_device!r}") from None
            if device != (KDLCPU, 0):
                raise BufferError(f"this data lives on the CPU, (1, 0); cannot export it to dl_device {device}")
        versioned = False
        if max_version is not None:
            if (not isinstance(max_version, (tuple, list)) or len(max_version) != 2
                    or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in max_version)):
                raise BufferError(f"max_version must be a (major, minor) pair of ints, got {max_version!r}")
            versioned = int(max_version[0]) >= 1
        if copy is not None and not isinstance(copy, (bool, np.bool_)):
            raise BufferError(f"copy must be True, False or None, got {copy!r}")
        return self._buffer.dlpack(versioned, bool(copy))

    def __dlpack_device__(self) -> Tuple[int, int]:
        """``(1, 0)``: the CPU."""
        return (KDLCPU, 0)


class _ArrayResult(_DLPackMixin):
    """Shared behaviour of results that hold one buffer and expose it as ``data``."""

    __slots__ = ("_buffer", "_data")

    def _init_buffer(self, buffer: Any) -> None:
        self._buffer = buffer
        self._data: Optional[np.ndarray] = None

    @property
    def data(self) -> np.ndarray:
        """The values, a writable numpy view of the result's memory (the same object every time)."""
        if self._data is None:
            self._data = self._buffer.numpy()
        return self._data

    @property
    def shape(self) -> Tuple[int, ...]:
        """Shape of :attr:`data`."""
        return tuple(self._buffer.shape)

    @property
    def dtype(self) -> np.dtype:
        """Element dtype of :attr:`data`."""
        return np.dtype(self._buffer.dtype)

    if TYPE_CHECKING:  # attached at run time by `import spectrograms.torch` / `import spectrograms.jax`
        def to_torch(self, device: Any = "cpu", with_metadata: bool = False, dtype: Any = None) -> Any:
            """A torch tensor sharing this memory on the CPU (see :mod:`spectrograms.torch`)."""

        def to_jax(self, device: Any = "cpu", with_metadata: bool = False, dtype: Any = None) -> Any:
            """A JAX array sharing this memory on the CPU (see :mod:`spectrograms.jax`)."""

    def __array__(self, dtype: Any = None, copy: Optional[bool] = None) -> np.ndarray:
        data = self.data
        if dtype is not None and np.dtype(dtype) != data.dtype:
            if copy is False:
                raise ValueError(f"cannot convert {data.dtype} to {np.dtype(dtype)} without a copy (copy=False)")
            return data.astype(dtype)
        return data.copy() if copy else data


class Spectrogram(_ArrayResult):
    """A spectrogram: ``data`` of shape ``(n_bins, n_frames)`` plus its axes and parameters.

    Not constructed directly: ``compute_*`` functions and plans return it.
    """

    __slots__ = ("_meta", "_times", "__weakref__")

    def __init__(self, buffer: Any, meta: "_PlanMeta") -> None:
        self._init_buffer(buffer)
        self._meta = meta
        self._times: Optional[np.ndarray] = None

    @property
    def params(self) -> SpectrogramParams:
        """The :class:`SpectrogramParams` it was computed with."""
        return self._meta.params

    @property
    def scale(self) -> str:
        """Frequency scale: ``"linear"`` or ``"mel"``."""
        return self._meta.scale

    @property
    def quantity(self) -> str:
        """``"power"``, ``"magnitude"`` or ``"db"``."""
        return self._meta.quantity

    @property
    def filter_params(self) -> Optional[MelParams]:
        """The filterbank parameters (None on the linear scale)."""
        return self._meta.filter_params

    @property
    def db_params(self) -> Optional[LogParams]:
        """The dB parameters of a dB spectrogram, else None."""
        return self._meta.db_params

    @property
    def frequencies(self) -> np.ndarray:
        """Row frequencies in Hz: ``k * sr / n_fft`` on the linear scale, band centres on mel."""
        return self._meta.frequencies

    @property
    def times(self) -> np.ndarray:
        """Frame times in seconds, ``i * hop_size / sample_rate``."""
        if self._times is None:
            self._times = self._meta.times(self.n_frames)
        return self._times

    @property
    def n_bins(self) -> int:
        """Number of rows (frequency bins or bands)."""
        return int(self._buffer.shape[0])

    @property
    def n_frames(self) -> int:
        """Number of columns (frames)."""
        return int(self._buffer.shape[1])

    @property
    def T(self) -> np.ndarray:
        """``data.T``, a view of shape ``(n_frames, n_bins)``."""
        return self.data.T

    def frequency_range(self) -> Tuple[float, float]:
        """(lowest, highest) row frequency in Hz."""
        f = self.frequencies
        return (float(f[0]), float(f[-1]))

    def duration(self) -> float:
        """Seconds covered by the frames: ``n_frames * hop_size / sample_rate``."""
        return self.n_frames * self.params.stft.hop_size / self.params.sample_rate

    def db_range(self) -> Optional[Tuple[float, float]]:
        """(min, max) of the data in dB for a dB spectrogram, else None."""
        if self.quantity != "db":
            return None
        return (float(np.min(self.data)), float(np.max(self.data)))

    def astype(self, dtype: Any) -> "Spectrogram":
        """A new spectrogram with the data converted to float32 or float64 (always a copy)."""
        from ._input import resolve_dtype

        d = resolve_dtype(dtype)
        return Spectrogram(_core.Buffer.from_array(np.ascontiguousarray(self.data, dtype=d)), self._meta)

    def __len__(self) -> int:
        return self.n_frames

    def __getitem__(self, index: Any) -> Any:
        return self.data[index]

    def __repr__(self) -> str:
        stft = self.params.stft
        return (
            f"Spectrogram({self.scale} {self.quantity}, shape=({self.n_bins}, {self.n_frames}), "
            f"dtype={self.dtype}, sample_rate={self.params.sample_rate:g}, n_fft={stft.n_fft}, "
            f"hop_size={stft.hop_size})"
        )

    def __reduce__(self) -> Any:
        return (_rebuild_spectrogram, (np.ascontiguousarray(self.data), self._meta))

    def plot(self, ax: "Optional[matplotlib.axes.Axes]" = None, *, cmap: str = "magma", colorbar: bool = True,
             title: Optional[str] = None, **kwargs: Any) -> "matplotlib.axes.Axes":
        """Draw the spectrogram with matplotlib (the ``plot`` extra).

        Time in seconds on x, frequency in Hz on y (mel bands spaced as mel), values in dB (a
        power or magnitude spectrogram is converted for display only), with a colour bar.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Where to draw; a new figure is made when omitted.
        cmap : str
            Colour map.
        colorbar : bool
            Add a colour bar labelled in dB.
        title : str, optional
            Axes title; defaults to a description of the spectrogram.
        **kwargs
            Passed to ``pcolormesh``.

        Returns
        -------
        matplotlib.axes.Axes
        """
        from ._plot import plot_spectrogram

        return plot_spectrogram(self, ax=ax, cmap=cmap, colorbar=colorbar, title=title, **kwargs)


def _rebuild_spectrogram(data: np.ndarray, meta: "_PlanMeta") -> Spectrogram:
    return Spectrogram(_core.Buffer.from_array(data), meta)


class StftResult(_ArrayResult):
    """The complex STFT, ``data`` of shape ``(n_fft // 2 + 1, n_frames)``, complex64 or complex128."""

    __slots__ = ("_meta", "__weakref__")

    def __init__(self, buffer: Any, meta: "_PlanMeta") -> None:
        self._init_buffer(buffer)
        self._meta = meta

    @property
    def params(self) -> SpectrogramParams:
        """The :class:`SpectrogramParams` it was computed with."""
        return self._meta.params

    @property
    def sample_rate(self) -> float:
        """Samples per second of the analysed signal."""
        return self._meta.params.sample_rate

    @property
    def frequencies(self) -> np.ndarray:
        """Bin frequencies in Hz, ``k * sr / n_fft``."""
        return self._meta.frequencies

    @property
    def times(self) -> np.ndarray:
        """Frame times in seconds."""
        return self._meta.times(self.n_frames)

    @property
    def n_bins(self) -> int:
        """``n_fft // 2 + 1``."""
        return int(self._buffer.shape[0])

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return int(self._buffer.shape[1])

    @property
    def frequency_resolution(self) -> float:
        """Hz between bins, ``sample_rate / n_fft``."""
        return self.sample_rate / self.params.stft.n_fft

    @property
    def time_resolution(self) -> float:
        """Seconds between frames, ``hop_size / sample_rate``."""
        return self.params.stft.hop_size / self.sample_rate

    @property
    def quantity(self) -> str:
        """``"complex"``."""
        return "complex"

    def db_range(self) -> None:
        """None: a complex STFT is not in dB."""
        return None

    def norm(self) -> float:
        """Frobenius norm of the complex matrix."""
        return float(np.linalg.norm(self.data))

    def magnitude(self) -> np.ndarray:
        """``|X|`` as a new real array."""
        return np.abs(self.data)

    def phase(self) -> np.ndarray:
        """``angle(X)`` in radians as a new real array."""
        return np.angle(self.data)

    def __len__(self) -> int:
        return self.n_frames

    def __getitem__(self, index: Any) -> Any:
        return self.data[index]

    def __repr__(self) -> str:
        return f"StftResult(shape={self.shape}, dtype={self.dtype}, sample_rate={self.sample_rate:g})"

    def __reduce__(self) -> Any:
        return (_rebuild_stft, (np.ascontiguousarray(self.data), self._meta))


def _rebuild_stft(data: np.ndarray, meta: "_PlanMeta") -> StftResult:
    return StftResult(_core.Buffer.from_array(data), meta)


class SpectrogramBatch(_ArrayResult):
    """Spectrograms of several signals in one buffer: ``data`` is ``(B, n_bins, max_frames)``.

    Item ``b`` holds its own ``lengths[b]`` frames; the cells after them are exactly zero.
    ``batch[b]`` is that item's :class:`Spectrogram` (or :class:`StftResult`), a view without copy.
    """

    __slots__ = ("_meta", "_lengths", "__weakref__")

    def __init__(self, buffer: Any, meta: "_PlanMeta", lengths: np.ndarray) -> None:
        self._init_buffer(buffer)
        self._meta = meta
        self._lengths = np.asarray(lengths, dtype=np.int64)
        self._lengths.setflags(write=False)

    @property
    def lengths(self) -> np.ndarray:
        """Frames of each item before padding (int64, shape ``(B,)``)."""
        return self._lengths

    def frame_mask(self) -> np.ndarray:
        """``(B, max_frames)`` bool: True where a frame belongs to its item."""
        return np.arange(self.shape[2])[None, :] < self._lengths[:, None]

    @property
    def params(self) -> SpectrogramParams:
        """The :class:`SpectrogramParams` of every item."""
        return self._meta.params

    @property
    def frequencies(self) -> np.ndarray:
        """Row frequencies in Hz."""
        return self._meta.frequencies

    @property
    def times(self) -> np.ndarray:
        """Times of the ``max_frames`` columns in seconds."""
        return self._meta.times(self.shape[2])

    @property
    def quantity(self) -> str:
        """``"complex"``, ``"power"``, ``"magnitude"`` or ``"db"``."""
        return self._meta.quantity

    def db_range(self) -> Optional[Tuple[float, float]]:
        """(min, max) in dB over the real frames of every item (padding excluded), or None."""
        if self._meta.quantity != "db":
            return None
        values = self.data[np.broadcast_to(self.frame_mask()[:, None, :], self.shape)]
        return (float(values.min()), float(values.max()))

    def __len__(self) -> int:
        return int(self.shape[0])

    def __getitem__(self, index: int) -> Any:
        n = len(self)
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"batch indices must be integers, got {type(index).__name__}")
        i = int(index) + n if index < 0 else int(index)
        if not 0 <= i < n:
            raise IndexError(f"batch index {index} out of range for {n} items")
        view = self._buffer.item(i, int(self._lengths[i]))
        return self._meta.item_class(view, self._meta)

    def __iter__(self) -> Any:
        return (self[i] for i in range(len(self)))

    def __repr__(self) -> str:
        return (
            f"SpectrogramBatch({self._meta.scale} {self._meta.quantity}, shape={self.shape}, "
            f"dtype={self.dtype}, lengths={self._lengths.tolist() if len(self) <= 8 else '...'})"
        )

    def __reduce__(self) -> Any:
        return (_rebuild_batch, (np.ascontiguousarray(self.data), self._meta, np.array(self._lengths)))


def _rebuild_batch(data: np.ndarray, meta: "_PlanMeta", lengths: np.ndarray) -> SpectrogramBatch:
    return SpectrogramBatch(_core.Buffer.from_array(data), meta, lengths)


class _FeatureResult(_ArrayResult):
    """A per-frame feature (``data`` of shape ``(n_features, n_frames)``) and the plan behind it."""

    __slots__ = ("_meta", "__weakref__")

    def __init__(self, buffer: Any, meta: "_PlanMeta") -> None:
        self._init_buffer(buffer)
        self._meta = meta

    @property
    def params(self) -> Any:
        """The feature parameters (:class:`MfccParams` or :class:`ChromaParams`)."""
        return self._meta.filter_params

    @property
    def spectrogram_params(self) -> SpectrogramParams:
        """The STFT parameters and sample rate it was computed with."""
        return self._meta.params

    @property
    def sample_rate(self) -> float:
        """Samples per second of the analysed signal."""
        return self._meta.params.sample_rate

    @property
    def n_frames(self) -> int:
        """Number of columns (frames)."""
        return int(self._buffer.shape[-1])

    @property
    def times(self) -> np.ndarray:
        """Frame times in seconds, ``i * hop_size / sample_rate``."""
        return self._meta.times(self.n_frames)

    @property
    def T(self) -> np.ndarray:
        """``data.T``, a view of shape ``(n_frames, n_features)``."""
        return self.data.T

    def __len__(self) -> int:
        return self.n_frames

    def __getitem__(self, index: Any) -> Any:
        return self.data[index]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(shape={self.shape}, dtype={self.dtype}, sample_rate={self.sample_rate:g})"

    def __reduce__(self) -> Any:
        return (_rebuild_feature, (type(self), np.ascontiguousarray(self.data), self._meta))


def _rebuild_feature(cls: type, data: np.ndarray, meta: "_PlanMeta") -> Any:
    return cls(_core.Buffer.from_array(data), meta)


class Mfcc(_FeatureResult):
    """Mel-frequency cepstral coefficients: ``data`` of shape ``(n_mfcc, n_frames)``.

    Returned by :func:`compute_mfcc` and :class:`MfccPlan`; ``params`` is the :class:`MfccParams`.
    """

    __slots__ = ()

    @property
    def n_mfcc(self) -> int:
        """Coefficients per frame."""
        return int(self._buffer.shape[-2])

    @property
    def mel_frequencies(self) -> np.ndarray:
        """Centres in Hz of the mel bands the coefficients were computed from."""
        return self._meta.frequencies


class Chromagram(_FeatureResult):
    """A chromagram: ``data`` of shape ``(12, n_frames)``, row 0 the pitch class C.

    Returned by :func:`compute_chromagram` and :class:`ChromaPlan`; ``params`` is the
    :class:`ChromaParams`.
    """

    __slots__ = ()

    labels = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
    """The pitch-class name of each row."""


class Fft2dResult(_ArrayResult):
    """The output of a 2-D transform: ``data`` is the half spectrum ``(nrows, ncols // 2 + 1)``
    (complex, ``kind == "spectrum"``), its power or magnitude (real), or the real image an inverse
    transform gives back (``kind == "image"``).

    Returned by :func:`fft2d`, :func:`ifft2d`, :func:`power_spectrum_2d` and
    :func:`magnitude_spectrum_2d`; shares memory with numpy, torch and JAX through DLPack.
    """

    __slots__ = ("_kind", "_input_shape", "__weakref__")

    def __init__(self, buffer: Any, kind: str, input_shape: Tuple[int, int]) -> None:
        self._init_buffer(buffer)
        self._kind = kind
        self._input_shape = (int(input_shape[0]), int(input_shape[1]))

    @property
    def kind(self) -> str:
        """``"spectrum"``, ``"power"``, ``"magnitude"`` or ``"image"``."""
        return self._kind

    @property
    def input_shape(self) -> Tuple[int, int]:
        """``(nrows, ncols)`` of the real array in the spatial domain (the image transformed, or
        the image returned)."""
        return self._input_shape

    def __len__(self) -> int:
        return int(self._buffer.shape[0])

    def __getitem__(self, index: Any) -> Any:
        return self.data[index]

    def __repr__(self) -> str:
        return f"Fft2dResult({self._kind}, shape={self.shape}, dtype={self.dtype})"

    def __reduce__(self) -> Any:
        return (_rebuild_fft2d, (np.ascontiguousarray(self.data), self._kind, self._input_shape))


def _rebuild_fft2d(data: np.ndarray, kind: str, input_shape: Tuple[int, int]) -> Fft2dResult:
    return Fft2dResult(_core.Buffer.from_array(data), kind, input_shape)


# Result class of a plan's outputs, by scale (anything else: Spectrogram, or StftResult if complex).
_RESULT_CLASS_BY_SCALE = {"mfcc": Mfcc, "chroma": Chromagram}


class _PlanMeta:
    """What a result needs to know about the plan that made it (shared, immutable, picklable)."""

    __slots__ = ("params", "scale", "quantity", "filter_params", "db_params", "frequencies")

    def __init__(self, params: SpectrogramParams, scale: str, quantity: str, filter_params: Any,
                 db_params: Optional[LogParams], frequencies: np.ndarray) -> None:
        self.params = params
        self.scale = scale
        self.quantity = quantity
        self.filter_params = filter_params
        self.db_params = db_params
        frequencies = np.array(frequencies, dtype=np.float64)
        frequencies.setflags(write=False)
        self.frequencies = frequencies

    @property
    def item_class(self) -> type:
        """The result class of one output of the plan."""
        if self.scale in _RESULT_CLASS_BY_SCALE:
            return _RESULT_CLASS_BY_SCALE[self.scale]
        return StftResult if self.quantity == "complex" else Spectrogram

    def times(self, n_frames: int) -> np.ndarray:
        t = np.arange(n_frames, dtype=np.float64) * (self.params.stft.hop_size / self.params.sample_rate)
        t.setflags(write=False)
        return t

    def __reduce__(self) -> Any:
        return (_PlanMeta, (self.params, self.scale, self.quantity, self.filter_params, self.db_params,
                            np.array(self.frequencies)))
