"""One-shot compute functions, generated from the plan table; they reuse cached plans."""

from __future__ import annotations

import functools
from typing import Any, Callable, Dict, Optional, Tuple

import numpy as np

from . import _core
from ._errors import DimensionMismatchError, InvalidInputError
from ._input import resolve_dtype
from .params import LogParams, SpectrogramParams, WindowType, _int_param
from .planner import FILTER_PARAM_TYPES, PLAN_CLASSES, StftPlan, _BasePlan
from .results import Spectrogram, SpectrogramBatch, StftResult

__all__ = ["compute_stft", "compute_istft", "compute_istft_batch", "compute_stft_batch", "griffin_lim",
           "COMPUTE_FUNCTIONS"]

# The keyword(s) of each scale's filterbank parameters, besides the positional filter_params.
_FILTER_KEYWORD = {"mel": ("mel_params",), "erb": ("erb_params",), "loghz": ("loghz_params",),
                   "cqt": ("cqt", "cqt_params")}


@functools.lru_cache(maxsize=128)
def _cached_plan(cls: Any, params: Any, filter_params: Any, db_params: Any, dtype: str) -> _BasePlan:
    if cls is StftPlan:
        return StftPlan(params, dtype)
    if FILTER_PARAM_TYPES[cls._scale] is None:
        return cls(params, db_params, dtype)
    return cls(params, filter_params, db_params, dtype)


def _plan_for(cls: Any, params: Any, filter_params: Any, db_params: Any, dtype: Any) -> _BasePlan:
    if not isinstance(params, SpectrogramParams):
        raise TypeError(f"params must be a SpectrogramParams, got {type(params).__name__}")
    if db_params is not None and not isinstance(db_params, LogParams):
        raise TypeError(f"db must be a LogParams or None, got {type(db_params).__name__}")
    if cls._quantity != "db":
        db_params = None  # power and magnitude ignore dB parameters: one cached plan for both
    return _cached_plan(cls, params, filter_params, db_params, _dtype_key(dtype))


_DTYPE_KEYS: Dict[Any, str] = {}


def _dtype_key(dtype: Any) -> str:
    """'float32' or 'float64' for a dtype argument, remembered per argument: numpy 2's
    ``np.dtype(...).name`` costs microseconds, more than the rest of a short one-shot call."""
    try:
        return _DTYPE_KEYS[dtype]
    except (KeyError, TypeError):  # unseen, or unhashable
        key = "float32" if resolve_dtype(dtype) == np.float32 else "float64"
        try:
            if len(_DTYPE_KEYS) < 64:
                _DTYPE_KEYS[dtype] = key
        except TypeError:
            pass
        return key


def _pick(name: str, value: Any, alias: str, alias_value: Any) -> Any:
    if alias_value is not None:
        if value is not None:
            raise TypeError(f"pass either {name} or {alias}, not both")
        return alias_value
    return value


_DOC = """Compute the {scale}-scale {what} spectrogram of one signal.

Equivalent to ``SpectrogramPlanner().{scale}_{quantity}_plan(...).compute(samples)``, bit for
bit; the plan is cached, so repeated calls with the same parameters cost little more than
``plan.compute``. The GIL is released while the engine runs.

Parameters
----------
samples : array_like
    1-D float32 or float64 samples (numpy array, CPU torch tensor, JAX array, buffer-protocol
    object or list of floats). Integer, bool and complex input raise ``TypeError``.
params : SpectrogramParams
    STFT parameters and sample rate.
{filter_doc}db : LogParams, optional
    dB floor (default ``LogParams(-80.0)``); used only by dB spectrograms. Also accepted as
    ``db_params``.
dtype : {{None, "float64", "float32"}}
    Compute and output dtype (float64 by default); float32 is computed in single precision.

Returns
-------
Spectrogram
    ``data`` of shape ``(n_bins, n_frames)``.

Raises
------
TypeError
    For input that is not a 1-D floating-point signal.
InvalidInputError
    For empty input or invalid parameters (also a ``ValueError``).
"""

_FILTER_DOC = """{kw} : {cls}
    Filterbank parameters. Also accepted as {others}.
"""

_BATCH_DOC = """Compute the {scale}-scale {what} spectrograms of many signals in one engine call.

Each item equals :func:`compute_{scale}_{quantity}_spectrogram` of it, bit for bit.

Parameters
----------
signals : list of array_like, 2-D array or numpy object array
    1-D signals of any lengths.
params, {kws}dtype
    As for :func:`compute_{scale}_{quantity}_spectrogram`.
n_threads : int, optional
    Engine threads (default :func:`spectrograms.get_num_threads`).
pad : bool
    Zero-pad to the longest item (default); False requires equal frame counts.

Returns
-------
SpectrogramBatch
"""


def _make_functions(scale: str, quantity: str) -> Dict[str, Callable[..., Any]]:
    cls = PLAN_CLASSES[(scale, quantity)]
    name = f"compute_{scale}_{quantity}_spectrogram"
    what = {"power": "power", "magnitude": "magnitude", "db": "dB"}[quantity]
    if FILTER_PARAM_TYPES[scale] is None:
        def one(samples: Any, params: SpectrogramParams, db_params: Optional[LogParams] = None,
                dtype: Any = None, *, db: Optional[LogParams] = None) -> Any:
            return _plan_for(cls, params, None, _pick("db_params", db_params, "db", db), dtype).compute(samples)

        def batch(signals: Any, params: SpectrogramParams, db_params: Optional[LogParams] = None,
                  dtype: Any = None, *, db: Optional[LogParams] = None, n_threads: Optional[int] = None,
                  pad: bool = True) -> SpectrogramBatch:
            plan = _plan_for(cls, params, None, _pick("db_params", db_params, "db", db), dtype)
            return plan.compute_batch(signals, n_threads=n_threads, pad=pad)

        filter_doc, kws = "", ""
        doc_params = "db_params : LogParams, optional\n    dB floor; also accepted as ``db``.\n"
    else:
        keywords = _FILTER_KEYWORD[scale]
        kw = keywords[0]
        ptype = FILTER_PARAM_TYPES[scale]

        def one(samples: Any, params: SpectrogramParams, filter_params: Any = None,  # type: ignore[misc]
                db: Optional[LogParams] = None, dtype: Any = None, **aliases: Any) -> Any:
            fp, dbp = _aliases(name, keywords, filter_params, db, aliases)
            return _plan_for(cls, params, fp, dbp, dtype).compute(samples)

        def batch(signals: Any, params: SpectrogramParams, filter_params: Any = None,  # type: ignore[misc]
                  db: Optional[LogParams] = None, dtype: Any = None, *, n_threads: Optional[int] = None,
                  pad: bool = True, **aliases: Any) -> SpectrogramBatch:
            fp, dbp = _aliases(name + "_batch", keywords, filter_params, db, aliases)
            return _plan_for(cls, params, fp, dbp, dtype).compute_batch(signals, n_threads=n_threads, pad=pad)

        assert ptype is not None
        others = ", ".join(f"``{k}``" for k in ("filter_params",) + keywords[1:])
        filter_doc = _FILTER_DOC.format(kw=kw, cls=ptype.__name__, others=others)
        kws = f"{kw}, db, "
        doc_params = ""
    one.__name__ = one.__qualname__ = name
    one.__doc__ = _DOC.format(scale=scale, quantity=quantity, what=what, filter_doc=filter_doc)
    if doc_params:
        one.__doc__ = one.__doc__.replace(
            "db : LogParams, optional\n    dB floor (default ``LogParams(-80.0)``); used only by dB spectrograms. Also"
            " accepted as\n    ``db_params``.\n", doc_params)
    batch.__name__ = batch.__qualname__ = name + "_batch"
    batch.__doc__ = _BATCH_DOC.format(scale=scale, quantity=quantity, what=what, kws=kws)
    one.__module__ = batch.__module__ = "spectrograms"
    return {one.__name__: one, batch.__name__: batch}


def _aliases(name: str, keywords: Tuple[str, ...], filter_params: Any, db: Any, aliases: Dict[str, Any]) -> Any:
    fp = filter_params
    for kw in keywords:
        fp = _pick("filter_params", fp, kw, aliases.pop(kw, None))
    dbp = _pick("db", db, "db_params", aliases.pop("db_params", None))
    if aliases:
        raise TypeError(f"{name}() got unexpected keyword arguments: {', '.join(sorted(aliases))}")
    if fp is None:
        raise TypeError(f"{name}() missing the filterbank parameters ({keywords[0]})")
    return fp, dbp


COMPUTE_FUNCTIONS: Dict[str, Callable[..., Any]] = {}
for (_scale, _quantity) in PLAN_CLASSES:
    COMPUTE_FUNCTIONS.update(_make_functions(_scale, _quantity))


def compute_stft(samples: Any, params: SpectrogramParams, dtype: Any = None) -> StftResult:
    """Complex STFT ``X[k, t] = sum_n x[t*hop + n - pad] w[n] exp(-2 pi i k n / n_fft)``.

    Parameters
    ----------
    samples : array_like
        1-D float32/float64 signal.
    params : SpectrogramParams
    dtype : {None, "float64", "float32"}
        float64 gives complex128, float32 complex64.

    Returns
    -------
    StftResult
        ``data`` of shape ``(n_fft // 2 + 1, n_frames)``; equals ``librosa.stft`` with the same
        symmetric window and ``pad_mode='constant'``.
    """
    return _plan_for(StftPlan, params, None, None, dtype).compute(samples)  # type: ignore[return-value]


def compute_stft_batch(signals: Any, params: SpectrogramParams, dtype: Any = None, *,
                       n_threads: Optional[int] = None, pad: bool = True) -> SpectrogramBatch:
    """Complex STFTs of many signals in one engine call: ``(B, n_fft // 2 + 1, max_frames)``.

    Parameters are as for :func:`compute_stft` and :meth:`LinearPowerPlan.compute_batch`.
    """
    return _plan_for(StftPlan, params, None, None, dtype).compute_batch(signals, n_threads=n_threads, pad=pad)


def _complex_matrix(stft_matrix: Any, ndims: tuple = (2,), what: str = "(n_fft//2+1, n_frames)") -> np.ndarray:
    if isinstance(stft_matrix, (StftResult, SpectrogramBatch)):
        arr = stft_matrix.data
    elif isinstance(stft_matrix, np.ndarray):
        arr = stft_matrix
    elif hasattr(stft_matrix, "__dlpack__"):
        from ._input import _from_dlpack

        arr = _from_dlpack(stft_matrix, "stft_matrix")
    else:
        arr = np.asarray(stft_matrix)
    if arr.dtype.kind != "c":
        raise TypeError(
            f"stft_matrix must be complex (complex64 or complex128), got dtype {arr.dtype}; "
            "a magnitude-only spectrogram needs phase reconstruction (e.g. Griffin-Lim) instead"
        )
    if arr.ndim not in ndims:
        raise TypeError(f"stft_matrix must be {' or '.join(f'{d}-D' for d in ndims)} {what}, got shape {arr.shape}")
    return arr


def _istft_setup(X: np.ndarray, n_fft: Any, hop_size: Any, window: Any, dtype: Any, length: Any) -> Any:
    n_fft = _int_param("n_fft", n_fft, 1)
    hop_size = _int_param("hop_size", hop_size, 1)
    if hop_size > n_fft:
        raise InvalidInputError(f"hop_size must be <= n_fft ({n_fft}), got {hop_size}")
    if isinstance(window, WindowType):
        w = window.coefficients_for(n_fft)
    elif isinstance(window, str) and isinstance(getattr(WindowType, window, None), WindowType):
        w = getattr(WindowType, window).coefficients_for(n_fft)
    else:
        w = WindowType.custom(window).coefficients_for(n_fft)
    if length is not None:
        length = _int_param("length", length, 0)
    if dtype is None:
        target = np.complex64 if X.dtype == np.complex64 else np.complex128
    else:
        target = np.complex64 if resolve_dtype(dtype) == np.float32 else np.complex128
    if X.dtype != target or not X.dtype.isnative:
        X = X.astype(target)
    return X, n_fft, hop_size, w.tolist(), -1 if length is None else length


def compute_istft(stft_matrix: Any, n_fft: int, hop_size: int, window: Any = WindowType.hanning,
                  center: bool = True, dtype: Any = None, length: Optional[int] = None) -> np.ndarray:
    """Inverse STFT by weighted overlap-add (``librosa.istft`` with the same window).

    Parameters
    ----------
    stft_matrix : StftResult or complex array_like
        ``(n_fft // 2 + 1, n_frames)``: a numpy array, a CPU complex torch tensor, or anything with
        ``__dlpack__``.
    n_fft, hop_size : int
        As used for the forward transform.
    window : WindowType or array_like
        The analysis window (``n_fft`` coefficients when given as an array).
    center : bool
        Whether the forward transform was centred (trims ``n_fft // 2`` samples at each end).
    dtype : {None, "float64", "float32"}
        Output dtype; None follows the input (complex64 -> float32, complex128 -> float64).
    length : int, optional
        Trim or zero-pad the output to exactly this many samples (the original length).

    Returns
    -------
    numpy.ndarray
        The 1-D signal.
    """
    X, n_fft, hop_size, w, length_arg = _istft_setup(_complex_matrix(stft_matrix), n_fft, hop_size, window, dtype, length)
    return _core.istft(X, n_fft, hop_size, w, bool(center), length_arg).numpy()


def compute_istft_batch(stft_batch: Any, n_fft: int, hop_size: int, window: Any = WindowType.hanning,
                        center: bool = True, dtype: Any = None, length: Optional[int] = None, *,
                        n_threads: Optional[int] = None) -> np.ndarray:
    """Inverse STFT of a batch, in the engine, items in parallel (the GIL is released once).

    Parameters
    ----------
    stft_batch : complex array_like, SpectrogramBatch
        ``(B, n_fft // 2 + 1, n_frames)`` or ``(B, C, n_fft // 2 + 1, n_frames)``: a numpy array, a
        CPU complex torch tensor, anything with ``__dlpack__``, or the batch of
        :func:`compute_stft_batch`.
    n_fft, hop_size, window, center, dtype, length
        As for :func:`compute_istft`; ``length`` applies to every item.
    n_threads : int, optional
        Engine threads (default :func:`spectrograms.get_num_threads`).

    Returns
    -------
    numpy.ndarray
        ``(B, length)`` or ``(B, C, length)``; each item equals :func:`compute_istft` of it.
    """
    from .planner import resolve_threads

    X = _complex_matrix(stft_batch, (3, 4), "(B, [C,] n_fft//2+1, n_frames)")
    leading = X.shape[:-2]
    X3 = X.reshape((-1,) + X.shape[-2:])  # a view for any batch layout numpy can flatten
    X3, n_fft, hop_size, w, length_arg = _istft_setup(X3, n_fft, hop_size, window, dtype, length)
    threads = resolve_threads(n_threads)
    out = _core.istft_batch(X3, n_fft, hop_size, w, bool(center), length_arg, threads).numpy()
    return out.reshape(leading + out.shape[-1:])


def griffin_lim(magnitude: Any, params: SpectrogramParams, n_iter: int = 32, momentum: float = 0.99,
                length: Optional[int] = None, *, init: Optional[str] = "random", seed: Optional[int] = None,
                dtype: Any = None) -> np.ndarray:
    """Signal from a magnitude spectrogram by fast Griffin-Lim, in the engine.

    Alternates the iSTFT and STFT of ``params``' framing with momentum (Perraudin et al. 2013), as
    ``librosa.griffinlim`` does.

    Parameters
    ----------
    magnitude : array_like or Spectrogram
        Real ``(n_fft // 2 + 1, n_frames)`` magnitudes ``|X|`` (a linear magnitude spectrogram).
    params : SpectrogramParams
        The framing and window the magnitudes came from.
    n_iter : int
        Iterations (>= 0).
    momentum : float
        Fast Griffin-Lim momentum (>= 0; 0 is the classic algorithm).
    length : int, optional
        Output length in samples (the original signal's length).
    init : {"random", None}
        Initial phases: uniformly random (seeded by ``seed``), or all zero (``None``).
    seed : int, optional
        Seed of the random initial phases.
    dtype : {None, "float64", "float32"}
        Compute precision (default: the magnitude's, float64 for other input).

    Returns
    -------
    numpy.ndarray
        The reconstructed 1-D signal.
    """
    from ._input import _from_dlpack

    if isinstance(magnitude, (Spectrogram,)):
        if magnitude.quantity != "magnitude" or magnitude.scale != "linear":
            raise InvalidInputError(
                f"griffin_lim needs a linear magnitude spectrogram, got a {magnitude.scale} {magnitude.quantity} one")
        S = magnitude.data
    elif hasattr(magnitude, "__dlpack__") and not isinstance(magnitude, np.ndarray):
        S = _from_dlpack(magnitude, "magnitude")
    else:
        S = np.asarray(magnitude)
    if S.dtype.kind != "f":
        raise TypeError(f"magnitude must be a real floating-point array, got dtype {S.dtype}")
    if S.ndim != 2:
        raise TypeError(f"magnitude must be 2-D (n_fft//2+1, n_frames), got shape {S.shape}")
    if not isinstance(params, SpectrogramParams):
        raise TypeError(f"params must be a SpectrogramParams, got {type(params).__name__}")
    n_bins = params.stft.n_fft // 2 + 1
    if S.shape[0] != n_bins:
        raise DimensionMismatchError(
            f"magnitude must have n_fft//2+1 = {n_bins} rows for n_fft = {params.stft.n_fft}, got {S.shape[0]}")
    n_iter = _int_param("n_iter", n_iter, 0)
    momentum = float(momentum)
    if not np.isfinite(momentum) or momentum < 0:
        raise InvalidInputError(f"momentum must be finite and >= 0, got {momentum}")
    if length is not None:
        length = _int_param("length", length, 0)
    d = resolve_dtype(dtype if dtype is not None else (S.dtype if S.dtype == np.float32 else None))
    S = np.asarray(S, dtype=d)
    plan = _plan_for(StftPlan, params, None, None, d.name)
    if init == "random":
        rng = np.random.default_rng(seed)
        phase = np.exp(2j * np.pi * rng.random(S.shape)).astype(np.complex64 if d == np.float32 else np.complex128)
    elif init is None:
        phase = np.empty(0, dtype=np.complex64 if d == np.float32 else np.complex128)
    else:
        raise InvalidInputError(f"init must be 'random' or None, got {init!r}")
    return _core.griffin_lim(plan._engine, S, n_iter, momentum, phase, -1 if length is None else length).numpy()


def clear_fft_plan_cache() -> None:
    """Drop the cached FFTW plans and the cached one-shot plans (live plans keep working)."""
    from .features import _ONE_SHOT, _cached as _cached_feature_plan

    _cached_plan.cache_clear()
    _cached_feature_plan.cache_clear()
    _ONE_SHOT.clear()
    _core.clear_fft_plan_cache()


def fft_plan_cache_info() -> Dict[str, Any]:
    """Cache statistics: FFTW ``plans`` held, ``created``, ``hits``, the ``planner`` effort, and the
    one-shot plan cache (``oneshot_hits``, ``oneshot_misses``, ``oneshot_size``)."""
    info = dict(_core.fft_plan_cache_info())
    c = _cached_plan.cache_info()
    info.update(oneshot_hits=c.hits, oneshot_misses=c.misses, oneshot_size=c.currsize)
    return info
