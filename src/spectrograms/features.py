"""MFCC and chromagram: plans and one-shot functions on top of the engine's spectrogram plans."""

from __future__ import annotations

import functools
from typing import Any, Callable, Dict, Optional, Tuple

import numpy as np

from . import _core
from ._errors import InvalidInputError
from ._input import resolve_dtype
from .params import ChromaParams, MfccParams, SpectrogramParams, StftParams, _int_param
from .planner import _BasePlan
from .results import Chromagram, Mfcc, SpectrogramBatch, _PlanMeta

__all__ = ["MfccPlan", "ChromaPlan", "compute_mfcc", "compute_mfcc_batch", "compute_chromagram",
           "compute_chromagram_batch"]


def _check_params(params: Any) -> None:
    if not isinstance(params, SpectrogramParams):
        raise TypeError(f"params must be a SpectrogramParams, got {type(params).__name__}")


class ChromaPlan(_BasePlan):
    """A reusable chromagram plan: ``compute`` returns a :class:`Chromagram` of shape ``(12, n_frames)``.

    Parameters
    ----------
    params : SpectrogramParams
        STFT parameters (the window applies) and sample rate.
    chroma_params : ChromaParams, optional
        Tuning, frequency range and frame normalisation (default ``ChromaParams()``).
    dtype : {None, "float64", "float32"}
        Compute and output dtype.

    Notes
    -----
    The 12-row weight matrix is applied sparsely to ``|X|`` in the engine, then each frame is
    normalised; immutable and safe to share between threads, like every plan.
    """

    _scale = "chroma"
    _quantity = "magnitude"
    __slots__ = ()

    def __init__(self, params: SpectrogramParams, chroma_params: Optional[ChromaParams] = None,
                 dtype: Any = None) -> None:
        self._setup(params, ChromaParams() if chroma_params is None else chroma_params, None, dtype)

    def __reduce__(self) -> Any:
        return (ChromaPlan, (self._params, self._filter_params, self._dtype.name))


class MfccPlan(_BasePlan):
    """A reusable MFCC plan: ``compute`` returns an :class:`Mfcc` of shape ``(n_mfcc, n_frames)``.

    Parameters
    ----------
    params : SpectrogramParams
        STFT parameters and sample rate of the mel power spectrogram (mel bands from 0 Hz to
        ``sample_rate / 2``).
    n_mels : int
        Mel bands, >= ``mfcc_params.n_mfcc``.
    mfcc_params : MfccParams, optional
        Coefficients, DCT normalisation, lifter and log convention (default ``MfccParams()``).
    dtype : {None, "float64", "float32"}
        Compute and output dtype.

    Notes
    -----
    The mel dB spectrogram is computed by the engine's mel plan, then the DCT (with the lifter
    folded in) is applied per frame in C++. With ``log="librosa"`` the dB values of each signal
    are clamped to its maximum minus 80 dB first, so a frame depends on the whole signal.
    """

    _scale = "mfcc"
    _quantity = "mfcc"
    __slots__ = ()

    def __init__(self, params: SpectrogramParams, n_mels: int, mfcc_params: Optional[MfccParams] = None,
                 dtype: Any = None) -> None:
        _check_params(params)
        n_mels = _int_param("n_mels", n_mels, 1)
        mfcc = MfccParams() if mfcc_params is None else mfcc_params
        if not isinstance(mfcc, MfccParams):
            raise TypeError(f"mfcc_params must be a MfccParams, got {type(mfcc).__name__}")
        if mfcc.n_mfcc > n_mels:
            raise InvalidInputError(f"n_mfcc ({mfcc.n_mfcc}) must be <= n_mels ({n_mels})")
        self._params = params
        self._filter_params = mfcc
        self._db_params = None
        self._dtype = resolve_dtype(dtype)
        stft = params.stft
        self._engine = _core.MfccPlan(
            self._dtype.name, stft.n_fft, stft.hop_size, stft.centre, stft.window.coefficients_for(stft.n_fft),
            params.sample_rate, n_mels, 0.0, params.sample_rate / 2, **mfcc._engine_kwargs(),
        )
        self._meta = _PlanMeta(params, "mfcc", "mfcc", mfcc, None, self._engine.frequencies())

    @property
    def n_mels(self) -> int:
        """Mel bands the coefficients are computed from."""
        return len(self._meta.frequencies)

    def compute_frame(self, samples: Any, frame_idx: int) -> Any:
        """Column ``frame_idx`` of :meth:`compute` (which it runs: with ``log="librosa"`` a frame
        depends on the whole signal); IndexError past the last frame."""
        if isinstance(frame_idx, bool) or not isinstance(frame_idx, (int, np.integer)):
            raise TypeError(f"frame_idx must be an integer, got {type(frame_idx).__name__}")
        frame_idx = int(frame_idx)
        data = self.compute(samples).data
        if not 0 <= frame_idx < data.shape[1]:
            raise IndexError(f"frame index {frame_idx} is out of range for {data.shape[1]} frames")
        return data[:, frame_idx].copy()

    def __reduce__(self) -> Any:
        return (MfccPlan, (self._params, self.n_mels, self._filter_params, self._dtype.name))


@functools.lru_cache(maxsize=64)
def _cached(cls: type, *args: Any) -> _BasePlan:
    return cls(*args)


def _spectrogram_params(stft_params: Any, sample_rate: Any) -> SpectrogramParams:
    if not isinstance(stft_params, StftParams):
        raise TypeError(f"stft_params must be a StftParams, got {type(stft_params).__name__}")
    return SpectrogramParams(stft_params, sample_rate)


_ONE_SHOT: Dict[Any, _BasePlan] = {}


def _one_shot(key: Tuple[Any, ...], make: Callable[[], _BasePlan]) -> _BasePlan:
    """The plan of a one-shot call, remembered by the call's own arguments (each with its type,
    so that ``True`` never finds the plan of ``1``). Building the parameter objects and hashing
    them costs tens of microseconds, a few percent of a 10 s chromagram; arguments that fail
    validation are never remembered, so a hit is a call that was validated before."""
    try:
        return _ONE_SHOT[key]
    except KeyError:
        pass
    except TypeError:  # an unhashable argument: build (and validate) every time
        return make()
    plan = make()
    if len(_ONE_SHOT) >= 64:
        _ONE_SHOT.pop(next(iter(_ONE_SHOT)))
    _ONE_SHOT[key] = plan
    return plan


def _typed(*args: Any) -> Tuple[Any, ...]:
    return tuple((type(a), a) for a in args)


def _mfcc_plan(stft_params: Any, sample_rate: Any, n_mels: Any, mfcc_params: Any, dtype: Any) -> _BasePlan:
    def make() -> _BasePlan:
        params = _spectrogram_params(stft_params, sample_rate)
        mfcc = MfccParams() if mfcc_params is None else mfcc_params
        if not isinstance(mfcc, MfccParams):
            raise TypeError(f"mfcc_params must be a MfccParams, got {type(mfcc).__name__}")
        return _cached(MfccPlan, params, _int_param("n_mels", n_mels, 1), mfcc, resolve_dtype(dtype).name)

    return _one_shot(("mfcc",) + _typed(stft_params, sample_rate, n_mels, mfcc_params, dtype), make)


def _chroma_plan(stft_params: Any, sample_rate: Any, chroma_params: Any, dtype: Any) -> _BasePlan:
    def make() -> _BasePlan:
        params = _spectrogram_params(stft_params, sample_rate)
        chroma = ChromaParams() if chroma_params is None else chroma_params
        if not isinstance(chroma, ChromaParams):
            raise TypeError(f"chroma_params must be a ChromaParams, got {type(chroma).__name__}")
        return _cached(ChromaPlan, params, chroma, resolve_dtype(dtype).name)

    return _one_shot(("chroma",) + _typed(stft_params, sample_rate, chroma_params, dtype), make)


def compute_mfcc(samples: Any, stft_params: StftParams, sample_rate: float, n_mels: int,
                 mfcc_params: Optional[MfccParams] = None, dtype: Any = None) -> Mfcc:
    """Mel-frequency cepstral coefficients of one signal.

    Equals ``MfccPlan(SpectrogramParams(stft_params, sample_rate), n_mels, mfcc_params,
    dtype).compute(samples)`` bit for bit (the plan is cached).

    Parameters
    ----------
    samples : array_like
        1-D float32 or float64 signal.
    stft_params : StftParams
        Framing and window of the mel power spectrogram.
    sample_rate : float
        Samples per second; mel bands span 0 Hz to ``sample_rate / 2``.
    n_mels : int
        Mel bands, >= ``mfcc_params.n_mfcc``.
    mfcc_params : MfccParams, optional
        Default ``MfccParams()`` (13 coefficients, unnormalised DCT-II, lifter 22); use
        ``MfccParams.librosa()`` to reproduce ``librosa.feature.mfcc``.
    dtype : {None, "float64", "float32"}
        Compute and output dtype.

    Returns
    -------
    Mfcc
        ``data`` of shape ``(n_mfcc, n_frames)``.

    Examples
    --------
    >>> import numpy as np, spectrograms as sg
    >>> y = np.random.default_rng(0).standard_normal(22050)
    >>> sg.compute_mfcc(y, sg.StftParams(2048, 512), 22050, 128).shape
    (13, 44)
    """
    return _mfcc_plan(stft_params, sample_rate, n_mels, mfcc_params, dtype).compute(samples)


def compute_mfcc_batch(signals: Any, stft_params: StftParams, sample_rate: float, n_mels: int,
                       mfcc_params: Optional[MfccParams] = None, dtype: Any = None, *,
                       n_threads: Optional[int] = None, pad: bool = True) -> SpectrogramBatch:
    """MFCCs of many signals in one engine call: ``data`` of shape ``(B, n_mfcc, max_frames)``.

    Parameters are as for :func:`compute_mfcc`, plus ``n_threads`` (default
    :func:`spectrograms.get_num_threads`) and ``pad`` (zero-pad to the longest item; False needs
    equal frame counts). Item ``b`` equals ``compute_mfcc`` of signal ``b`` bit for bit.

    Returns
    -------
    SpectrogramBatch
        Its items are :class:`Mfcc` results.
    """
    plan = _mfcc_plan(stft_params, sample_rate, n_mels, mfcc_params, dtype)
    return plan.compute_batch(signals, n_threads=n_threads, pad=pad)


def compute_chromagram(samples: Any, stft_params: StftParams, sample_rate: float,
                       chroma_params: Optional[ChromaParams] = None, dtype: Any = None) -> Chromagram:
    """Chromagram (pitch-class profile) of one signal.

    Equals ``ChromaPlan(SpectrogramParams(stft_params, sample_rate), chroma_params,
    dtype).compute(samples)`` bit for bit (the plan is cached).

    Parameters
    ----------
    samples : array_like
        1-D float32 or float64 signal.
    stft_params : StftParams
        Framing and window of the STFT whose magnitude is used.
    sample_rate : float
        Samples per second.
    chroma_params : ChromaParams, optional
        Default ``ChromaParams()`` (A4 = 440 Hz, 32.7 Hz to 4186 Hz, L2-normalised frames).
    dtype : {None, "float64", "float32"}
        Compute and output dtype.

    Returns
    -------
    Chromagram
        ``data`` of shape ``(12, n_frames)``, rows labelled by ``Chromagram.labels`` (C first).

    Examples
    --------
    >>> import numpy as np, spectrograms as sg
    >>> t = np.arange(22050) / 22050
    >>> c = sg.compute_chromagram(np.sin(2 * np.pi * 440 * t), sg.StftParams(4096, 1024), 22050)
    >>> c.labels[int(c.data[:, 10].argmax())]
    'A'
    """
    return _chroma_plan(stft_params, sample_rate, chroma_params, dtype).compute(samples)


def compute_chromagram_batch(signals: Any, stft_params: StftParams, sample_rate: float,
                             chroma_params: Optional[ChromaParams] = None, dtype: Any = None, *,
                             n_threads: Optional[int] = None, pad: bool = True) -> SpectrogramBatch:
    """Chromagrams of many signals in one engine call: ``data`` of shape ``(B, 12, max_frames)``.

    Parameters are as for :func:`compute_chromagram`, plus ``n_threads`` and ``pad`` as for
    :func:`compute_mfcc_batch`. Item ``b`` equals ``compute_chromagram`` of signal ``b``.

    Returns
    -------
    SpectrogramBatch
        Its items are :class:`Chromagram` results.
    """
    plan = _chroma_plan(stft_params, sample_rate, chroma_params, dtype)
    return plan.compute_batch(signals, n_threads=n_threads, pad=pad)
