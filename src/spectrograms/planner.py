"""Plans: reusable, immutable, thread-safe spectrogram computations; and the planner that makes them.

The plan classes are generated from one table (scale x quantity); each wraps an engine plan.
"""

from __future__ import annotations

from typing import Any, ClassVar, Dict, List, Optional, Sequence, Tuple, Type

import numpy as np

from . import _core
from ._errors import InvalidInputError
from ._input import as_signal, resolve_dtype
from ._threads import _check, get_num_threads
from .params import ChromaParams, CqtParams, ErbParams, LogHzParams, LogParams, MelParams, SpectrogramParams
from .results import SpectrogramBatch, StftResult, _PlanMeta

__all__ = ["SpectrogramPlanner", "PLAN_CLASSES"]

SCALES = ("linear", "mel", "erb", "loghz", "cqt")
QUANTITIES = ("power", "magnitude", "db")
FILTER_PARAM_TYPES: Dict[str, Optional[type]] = {"linear": None, "mel": MelParams, "erb": ErbParams,
                                                 "loghz": LogHzParams, "cqt": CqtParams,
                                                 # not in SCALES: a plan class of its own (features.py)
                                                 "chroma": ChromaParams}


def batch_signals(signals: Any, dtype: np.dtype) -> List[np.ndarray]:
    """The 1-D signals of a batch: a list/tuple of arrays, a 2-D (B, L) array or a numpy object array."""
    if isinstance(signals, np.ndarray) and signals.dtype != object:
        if signals.ndim != 2:
            raise TypeError(
                f"a batch array must be 2-D (B, L), got {signals.ndim}-D with shape {signals.shape}; "
                "pass a list of 1-D arrays for signals of different lengths"
            )
        items: Sequence[Any] = list(signals)
    elif isinstance(signals, np.ndarray):
        items = list(signals.ravel()) if signals.ndim != 1 else list(signals)
    elif isinstance(signals, (list, tuple)):
        items = signals
    elif hasattr(signals, "__dlpack__"):
        return batch_signals(as_2d(signals), dtype)
    else:
        raise TypeError(
            "signals must be a list or tuple of 1-D arrays, a 2-D (B, L) array or a numpy object array; "
            f"got {type(signals).__name__}"
        )
    if len(items) == 0:
        raise InvalidInputError("a batch needs at least one signal, got an empty sequence")
    return [as_signal(x, dtype, what=f"signal {i}") for i, x in enumerate(items)]


def as_2d(obj: Any) -> np.ndarray:
    from ._input import _from_dlpack

    return _from_dlpack(obj, "signals")


def resolve_threads(n_threads: Optional[int]) -> int:
    """``n_threads``, or :func:`get_num_threads` when None; TypeError/ValueError otherwise."""
    return get_num_threads() if n_threads is None else _check(n_threads)


class _BasePlan:
    """Behaviour shared by every plan: compute one signal, one frame, or a batch."""

    _scale: ClassVar[str]
    _quantity: ClassVar[str]
    __slots__ = ("_params", "_filter_params", "_db_params", "_dtype", "_engine", "_meta", "__weakref__")

    def _setup(self, params: SpectrogramParams, filter_params: Any, db_params: Optional[LogParams], dtype: Any) -> None:
        if not isinstance(params, SpectrogramParams):
            raise TypeError(f"params must be a SpectrogramParams, got {type(params).__name__}")
        expected = FILTER_PARAM_TYPES[self._scale]
        if expected is not None and not isinstance(filter_params, expected):
            raise TypeError(
                f"{self._scale} plans need a {expected.__name__}, got {type(filter_params).__name__}"
            )
        if self._quantity == "db":
            if db_params is None:
                db_params = LogParams()
            elif not isinstance(db_params, LogParams):
                raise TypeError(f"db_params must be a LogParams or None, got {type(db_params).__name__}")
        else:
            db_params = None
        self._params = params
        self._filter_params = filter_params
        self._db_params = db_params
        self._dtype = resolve_dtype(dtype)
        stft = params.stft
        filterbank: Dict[str, Any] = {}
        if filter_params is not None:
            filterbank = filter_params._engine_kwargs(params.sample_rate)
        self._engine = _core.Plan(
            self._dtype.name, stft.n_fft, stft.hop_size, stft.centre, stft.window.coefficients_for(stft.n_fft),
            params.sample_rate, self._scale, self._quantity,
            db_params.floor_db if db_params is not None else -80.0, **filterbank,
        )
        self._meta = _PlanMeta(params, self._scale, self._quantity, filter_params, db_params,
                               self._engine.frequencies())

    @property
    def params(self) -> SpectrogramParams:
        """The plan's :class:`SpectrogramParams`."""
        return self._params

    @property
    def dtype(self) -> np.dtype:
        """Compute dtype (float32 or float64); input of another float dtype is converted once."""
        return self._dtype

    @property
    def compute_dtype(self) -> np.dtype:
        """The precision cells are computed in: float64 for a float32 plan of the linear scale in
        dB, else :attr:`dtype`.

        A linear dB cell is one FFT bin, and float32 rounding (in the window product and the FFT)
        is relative to the frame's energy, so bins 80-100 dB below their frame's peak would come
        out about 1e-3 to 1e-2 dB off. Such plans upcast the float32 samples (exactly), compute with
        the float32 window's coefficients in float64, and round each cell once: their output is the
        float64 result rounded to float32, at about the float64 plan's speed, with a float64 copy of
        the samples and of the cells alive during a call. Filterbank scales sum several bins and
        keep the plan's own precision.
        """
        return np.dtype(self._engine.compute_dtype)

    @property
    def n_bins(self) -> int:
        """Rows of every output."""
        return int(self._engine.n_bins)

    @property
    def frequencies(self) -> np.ndarray:
        """Row frequencies in Hz (read-only)."""
        return self._meta.frequencies

    def output_shape(self, signal_length: int) -> Tuple[int, int]:
        """``(n_bins, n_frames)`` of the output for a signal of ``signal_length`` samples."""
        if isinstance(signal_length, bool) or not isinstance(signal_length, (int, np.integer)):
            raise TypeError(f"signal_length must be an integer, got {type(signal_length).__name__}")
        if signal_length < 1:
            raise InvalidInputError(f"signal_length must be >= 1, got {signal_length}")
        return (self.n_bins, int(self._engine.n_frames(int(signal_length))))

    def _wrap(self, buffer: Any) -> Any:
        return self._meta.item_class(buffer, self._meta)

    def compute(self, samples: Any) -> Any:
        """Compute the output for one signal (the GIL is released while the engine runs).

        Parameters
        ----------
        samples : array_like
            1-D float32/float64 samples: a numpy array (strided and read-only work), a CPU
            torch tensor or JAX array, or any buffer-protocol object.

        Returns
        -------
        Spectrogram or StftResult
        """
        return self._wrap(self._engine.compute(as_signal(samples, self._dtype)))

    def compute_frame(self, samples: Any, frame_idx: int) -> np.ndarray:
        """Column ``frame_idx`` of :meth:`compute` as a 1-D array; IndexError past the last frame."""
        if isinstance(frame_idx, bool) or not isinstance(frame_idx, (int, np.integer)):
            raise TypeError(f"frame_idx must be an integer, got {type(frame_idx).__name__}")
        x = as_signal(samples, self._dtype)
        return self._engine.compute_frame(x, int(frame_idx)).numpy()

    def compute_batch(self, signals: Any, *, n_threads: Optional[int] = None, pad: bool = True) -> SpectrogramBatch:
        """Compute many signals in one engine call, in parallel on the engine's threads.

        Parameters
        ----------
        signals : list of array_like, 2-D array or numpy object array
            1-D signals of any lengths.
        n_threads : int, optional
            Engine threads; defaults to :func:`spectrograms.get_num_threads`.
        pad : bool
            Zero-pad shorter items to the longest; with False, unequal frame counts raise
            ``ValueError``.

        Returns
        -------
        SpectrogramBatch
            ``data`` of shape ``(B, n_bins, max_frames)``; every item equals :meth:`compute` of it.
        """
        threads = resolve_threads(n_threads)
        xs = batch_signals(signals, self._dtype)
        buffer = self._engine.compute_batch(xs, threads, bool(pad))
        lengths = np.fromiter((self._engine.n_frames(len(x)) for x in xs), dtype=np.int64, count=len(xs))
        return SpectrogramBatch(buffer, self._meta, lengths)

    def __reduce__(self) -> Any:
        # A plan ships its parameters and FFTW's wisdom (a few KB), never its FFTW state; the
        # receiving process plans the same algorithms from the wisdom, so it computes the same bits.
        return (_rebuild_plan, (type(self).__name__, self._params, self._filter_params, self._db_params,
                                self._dtype.name, _core.export_wisdom()))

    def __repr__(self) -> str:
        parts = [f"n_fft={self._params.stft.n_fft}", f"hop_size={self._params.stft.hop_size}",
                 f"sample_rate={self._params.sample_rate:g}"]
        if self._filter_params is not None:
            parts.append(repr(self._filter_params))
        if self._db_params is not None:
            parts.append(f"floor_db={self._db_params.floor_db:g}")
        parts.append(f"dtype={self._dtype.name}")
        return f"{type(self).__name__}({', '.join(parts)})"


class StftPlan(_BasePlan):
    """A plan for the complex STFT; ``compute`` returns a :class:`StftResult`."""

    _scale = "linear"
    _quantity = "complex"
    __slots__ = ()

    def __init__(self, params: SpectrogramParams, dtype: Any = None) -> None:
        self._setup(params, None, None, dtype)

    def _wrap(self, buffer: Any) -> Any:
        return StftResult(buffer, self._meta)

    def __reduce__(self) -> Any:
        return (_rebuild_plan, ("StftPlan", self._params, None, None, self._dtype.name, _core.export_wisdom()))


def _make_plan_class(scale: str, quantity: str) -> Type[_BasePlan]:
    name = f"{scale.capitalize().replace('hz', 'Hz')}{quantity.capitalize()}Plan"
    what = {"power": "power |X|^2", "magnitude": "magnitude", "db": "dB"}[quantity]
    if FILTER_PARAM_TYPES[scale] is None:
        def __init__(self: _BasePlan, params: SpectrogramParams, db_params: Optional[LogParams] = None,
                     dtype: Any = None) -> None:
            self._setup(params, None, db_params, dtype)
    else:
        def __init__(self: _BasePlan, params: SpectrogramParams, filter_params: Any,  # type: ignore[misc]
                     db_params: Optional[LogParams] = None, dtype: Any = None) -> None:
            self._setup(params, filter_params, db_params, dtype)
    doc = (f"A reusable plan for the {scale}-scale {what} spectrogram.\n\n"
           "Made by :class:`SpectrogramPlanner`; immutable and safe to share between threads.\n"
           "``compute`` equals the matching one-shot function bit for bit.")
    return type(name, (_BasePlan,), {"__init__": __init__, "__doc__": doc, "__slots__": (),
                                     "_scale": scale, "_quantity": quantity, "__module__": "spectrograms"})


PLAN_CLASSES: Dict[Tuple[str, str], Type[_BasePlan]] = {
    (scale, quantity): _make_plan_class(scale, quantity) for scale in SCALES for quantity in QUANTITIES
}
_PLANS_BY_NAME = {cls.__name__: cls for cls in PLAN_CLASSES.values()}


_imported_wisdom: set = set()


def _adopt_wisdom(wisdom: Optional[bytes]) -> None:
    """Import FFTW wisdom from another process once; later plans then use the same algorithms.

    FFT plans already cached here were made without it, so the cache is dropped (engine plans that
    hold one keep working)."""
    if not wisdom or wisdom in _imported_wisdom:
        return
    _imported_wisdom.add(wisdom)
    if _core.import_wisdom(wisdom):
        _core.clear_fft_plan_cache()


def _rebuild_plan(name: str, params: Any, filter_params: Any, db_params: Any, dtype: str,
                  wisdom: Optional[bytes] = None) -> _BasePlan:
    _adopt_wisdom(wisdom)
    cls = StftPlan if name == "StftPlan" else _PLANS_BY_NAME[name]
    plan = cls.__new__(cls)
    plan._setup(params, filter_params, db_params, dtype)
    return plan


class SpectrogramPlanner:
    """Makes plans: ``planner.mel_db_plan(params, mel_params, db_params, dtype=None)`` and so on.

    Every ``{scale}_{quantity}_plan`` method exists for scales ``linear``, ``mel``, ``erb``,
    ``loghz`` and ``cqt`` and quantities ``power``, ``magnitude`` and ``db``. Plans are independent of the planner.
    """

    def stft_plan(self, params: SpectrogramParams, dtype: Any = None) -> StftPlan:
        """A plan for the complex STFT."""
        return StftPlan(params, dtype)

    def mfcc_plan(self, params: SpectrogramParams, n_mels: int, mfcc_params: Any = None, dtype: Any = None) -> Any:
        """A plan for MFCCs.

        Parameters
        ----------
        params : SpectrogramParams
            STFT parameters and sample rate of the mel power spectrogram.
        n_mels : int
            Mel bands (0 Hz to ``sample_rate / 2``), >= ``mfcc_params.n_mfcc``.
        mfcc_params : MfccParams, optional
            Default ``MfccParams()``.
        dtype : {None, "float64", "float32"}
            Compute and output dtype.

        Returns
        -------
        MfccPlan
            ``compute`` returns an :class:`Mfcc`.
        """
        from .features import MfccPlan

        return MfccPlan(params, n_mels, mfcc_params, dtype)

    def chroma_plan(self, params: SpectrogramParams, chroma_params: Any = None, dtype: Any = None) -> Any:
        """A plan for chromagrams.

        Parameters
        ----------
        params : SpectrogramParams
            STFT parameters (the window applies) and sample rate.
        chroma_params : ChromaParams, optional
            Default ``ChromaParams()``.
        dtype : {None, "float64", "float32"}
            Compute and output dtype.

        Returns
        -------
        ChromaPlan
            ``compute`` returns a :class:`Chromagram`.
        """
        from .features import ChromaPlan

        return ChromaPlan(params, chroma_params, dtype)


def _make_planner_method(cls: Type[_BasePlan]) -> Any:
    if FILTER_PARAM_TYPES[cls._scale] is None:
        def method(self: SpectrogramPlanner, params: SpectrogramParams, db_params: Optional[LogParams] = None,
                   dtype: Any = None) -> _BasePlan:
            return cls(params, db_params, dtype)  # type: ignore[call-arg]
    else:
        def method(self: SpectrogramPlanner, params: SpectrogramParams, filter_params: Any,  # type: ignore[misc]
                   db_params: Optional[LogParams] = None, dtype: Any = None) -> _BasePlan:
            return cls(params, filter_params, db_params, dtype)  # type: ignore[call-arg]
    method.__name__ = f"{cls._scale}_{cls._quantity}_plan"
    method.__doc__ = f"A :class:`{cls.__name__}`.\n\n" + (cls.__doc__ or "")
    return method


for _cls in PLAN_CLASSES.values():
    setattr(SpectrogramPlanner, f"{_cls._scale}_{_cls._quantity}_plan", _make_planner_method(_cls))
