"""Parameter dataclasses: frozen, validated at construction, hashable and picklable."""

from __future__ import annotations

import enum
import math
import numbers
from dataclasses import dataclass, field
from typing import Any, ClassVar, Dict, Optional, Tuple, Union

import numpy as np

from . import _core
from ._errors import DimensionMismatchError, InvalidInputError

__all__ = [
    "WindowType",
    "StftParams",
    "SpectrogramParams",
    "LogParams",
    "MelNorm",
    "MelParams",
    "ErbParams",
    "LogHzParams",
    "ChromaParams",
    "MfccParams",
    "CqtParams",
    "MdctParams",
]


def _int_param(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    value = int(value)
    if value < minimum:
        raise InvalidInputError(f"{name} must be >= {minimum}, got {value}")
    return value


def _float_param(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise InvalidInputError(f"{name} must be finite, got {value}")
    return value


_NORMALIZATIONS = (None, "sum", "peak", "max", "energy", "rms")


@dataclass(frozen=True)
class WindowType:
    """A window function. All built-in windows are symmetric, as ``np.hanning`` and friends.

    Use the class attributes ``WindowType.rectangular``, ``.hanning``, ``.hamming`` and
    ``.blackman``, or the constructors :meth:`kaiser`, :meth:`gaussian` and :meth:`custom`.

    Parameters
    ----------
    kind : str
        ``"rectangular"``, ``"hanning"``, ``"hamming"``, ``"blackman"``, ``"kaiser"``,
        ``"gaussian"`` or ``"custom"``.
    parameter : float, optional
        Kaiser beta, or the Gaussian standard deviation in samples.
    coefficients : tuple of float, optional
        The coefficients of a custom window (already normalised).
    """

    kind: str
    parameter: Optional[float] = None
    coefficients: Optional[tuple] = field(default=None, repr=False)

    rectangular: ClassVar["WindowType"]
    hanning: ClassVar["WindowType"]
    hamming: ClassVar["WindowType"]
    blackman: ClassVar["WindowType"]

    def __post_init__(self) -> None:
        kinds = ("rectangular", "hanning", "hamming", "blackman", "kaiser", "gaussian", "custom")
        if self.kind not in kinds:
            raise InvalidInputError(f"window kind must be one of {', '.join(kinds)}; got {self.kind!r}")
        if self.kind == "kaiser":
            beta = _float_param("kaiser beta", self.parameter)
            if beta < 0:
                raise InvalidInputError(f"kaiser beta must be >= 0, got {beta}")
            object.__setattr__(self, "parameter", beta)
        elif self.kind == "gaussian":
            std = _float_param("gaussian std", self.parameter)
            if std <= 0:
                raise InvalidInputError(f"gaussian std must be > 0 (in samples), got {std}")
            object.__setattr__(self, "parameter", std)
        elif self.kind == "custom":
            if not self.coefficients:
                raise InvalidInputError("a custom window needs at least one coefficient")

    # A custom window's hash covers its n_fft coefficients: 20 us for 2048 of them, paid by every
    # one-shot call that looks its plan up (features._one_shot). Computed once per object; not
    # pickled, since str hashes differ between processes.
    def __hash__(self) -> int:
        cached = self.__dict__.get("_hash")
        if cached is None:
            cached = hash((self.kind, self.parameter, self.coefficients))
            object.__setattr__(self, "_hash", cached)
        return cached

    def __getstate__(self) -> Dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_hash", None)
        return state

    def __setstate__(self, state: Dict[str, Any]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)

    @classmethod
    def kaiser(cls, beta: float) -> "WindowType":
        """Kaiser window with shape parameter ``beta`` (equals ``np.kaiser(n, beta)``)."""
        return cls("kaiser", beta)

    @classmethod
    def gaussian(cls, std: float) -> "WindowType":
        """Gaussian window, ``std`` in samples (``scipy.signal.windows.gaussian(n, std)``)."""
        return cls("gaussian", std)

    @classmethod
    def custom(cls, coefficients: Any, normalize: Optional[str] = None) -> "WindowType":
        """A window from explicit coefficients.

        Parameters
        ----------
        coefficients : array_like
            1-D finite real coefficients; the length must equal ``n_fft`` where used.
        normalize : {None, "sum", "peak", "max", "energy", "rms"}
            Scale so that the sum is 1, the peak is 1, the energy (sum of squares) is 1, or the
            RMS is 1. ``None`` keeps the coefficients as given.
        """
        if normalize not in _NORMALIZATIONS:
            raise InvalidInputError(
                f"normalize must be one of None, 'sum', 'peak', 'max', 'energy', 'rms'; got {normalize!r}"
            )
        arr = np.asarray(coefficients)
        if arr.dtype.kind not in "fiu" or arr.dtype == np.bool_:
            raise TypeError(f"window coefficients must be real numbers, got dtype {arr.dtype}")
        if arr.ndim != 1:
            raise TypeError(f"window coefficients must be 1-D, got shape {arr.shape}")
        if arr.size == 0:
            raise InvalidInputError("a custom window needs at least one coefficient, got 0")
        arr = arr.astype(np.float64)
        if not np.all(np.isfinite(arr)):
            raise InvalidInputError("window coefficients must be finite; got NaN or inf")
        arr = _core.normalize_window(arr.tolist(), normalize or "none")
        return cls("custom", None, tuple(float(v) for v in arr))

    def coefficients_for(self, n: int) -> np.ndarray:
        """The ``n`` window coefficients as a float64 array (computed by the engine)."""
        if self.kind == "custom":
            assert self.coefficients is not None
            if len(self.coefficients) != n:
                raise DimensionMismatchError(
                    f"the custom window has {len(self.coefficients)} coefficients, but n_fft is {n}"
                )
            return np.asarray(self.coefficients, dtype=np.float64)
        return _core.make_window(self.kind, n, self.parameter or 0.0)

    @staticmethod
    def make_hanning(n: int, dtype: Any = None) -> np.ndarray:
        """Symmetric Hann window of length ``n`` (``np.hanning(n)``)."""
        return _make("hanning", n, dtype)

    @staticmethod
    def make_hamming(n: int, dtype: Any = None) -> np.ndarray:
        """Symmetric Hamming window of length ``n`` (``np.hamming(n)``)."""
        return _make("hamming", n, dtype)

    @staticmethod
    def make_blackman(n: int, dtype: Any = None) -> np.ndarray:
        """Symmetric Blackman window of length ``n`` (``np.blackman(n)``)."""
        return _make("blackman", n, dtype)

    @staticmethod
    def make_rectangular(n: int, dtype: Any = None) -> np.ndarray:
        """A window of ``n`` ones."""
        return _make("rectangular", n, dtype)

    @staticmethod
    def make_kaiser(n: int, beta: float, dtype: Any = None) -> np.ndarray:
        """Kaiser window (``np.kaiser(n, beta)``), for every beta."""
        return WindowType.kaiser(beta).coefficients_for(_int_param("n", n, 1)).astype(_dtype(dtype))

    @staticmethod
    def make_gaussian(n: int, std: float, dtype: Any = None) -> np.ndarray:
        """Gaussian window (``scipy.signal.windows.gaussian(n, std, sym=True)``)."""
        return WindowType.gaussian(std).coefficients_for(_int_param("n", n, 1)).astype(_dtype(dtype))

    def __repr__(self) -> str:
        if self.kind in ("kaiser", "gaussian"):
            name = "beta" if self.kind == "kaiser" else "std"
            return f"WindowType.{self.kind}({name}={self.parameter!r})"
        if self.kind == "custom":
            return f"WindowType.custom(<{len(self.coefficients or ())} coefficients>)"
        return f"WindowType.{self.kind}"


def _dtype(dtype: Any) -> np.dtype:
    from ._input import resolve_dtype

    return resolve_dtype(dtype)


def _make(kind: str, n: int, dtype: Any) -> np.ndarray:
    return _core.make_window(kind, _int_param("n", n, 1), 0.0).astype(_dtype(dtype))


WindowType.rectangular = WindowType("rectangular")
WindowType.hanning = WindowType("hanning")
WindowType.hamming = WindowType("hamming")
WindowType.blackman = WindowType("blackman")


@dataclass(frozen=True)
class StftParams:
    """Framing and transform parameters.

    Parameters
    ----------
    n_fft : int
        FFT length (and frame length), >= 1.
    hop_size : int
        Samples between frame starts, 1 <= hop_size <= n_fft.
    window : WindowType
        Window applied to each frame; a custom window must have ``n_fft`` coefficients.
    centre : bool
        Pad ``n_fft // 2`` zeros at both ends so that frame ``t`` is centred at ``t * hop_size``.
    """

    n_fft: int
    hop_size: int
    window: WindowType = WindowType.hanning
    centre: bool = True

    def __post_init__(self) -> None:
        n_fft = _int_param("n_fft", self.n_fft, 1)
        hop = _int_param("hop_size", self.hop_size, 1)
        if hop > n_fft:
            raise InvalidInputError(f"hop_size must be <= n_fft ({n_fft}), got {hop}")
        window = self.window
        if isinstance(window, str) and hasattr(WindowType, window):
            window = getattr(WindowType, window)
        if not isinstance(window, WindowType):
            raise TypeError(f"window must be a WindowType, got {type(window).__name__} {window!r}")
        if window.kind == "custom" and len(window.coefficients or ()) != n_fft:
            raise DimensionMismatchError(
                f"the custom window has {len(window.coefficients or ())} coefficients, but n_fft is {n_fft}"
            )
        if not isinstance(self.centre, (bool, np.bool_)):
            raise TypeError(f"centre must be a bool, got {type(self.centre).__name__} {self.centre!r}")
        object.__setattr__(self, "n_fft", n_fft)
        object.__setattr__(self, "hop_size", hop)
        object.__setattr__(self, "window", window)
        object.__setattr__(self, "centre", bool(self.centre))

    @property
    def center(self) -> bool:
        """Alias of :attr:`centre`."""
        return self.centre


@dataclass(frozen=True)
class SpectrogramParams:
    """STFT parameters plus the sample rate.

    Parameters
    ----------
    stft : StftParams
    sample_rate : float
        Samples per second; finite and > 0.
    """

    stft: StftParams
    sample_rate: float

    def __post_init__(self) -> None:
        if not isinstance(self.stft, StftParams):
            raise TypeError(f"stft must be a StftParams, got {type(self.stft).__name__}")
        sr = _float_param("sample_rate", self.sample_rate)
        if sr <= 0:
            raise InvalidInputError(f"sample_rate must be > 0, got {sr}")
        object.__setattr__(self, "sample_rate", sr)

    @classmethod
    def speech_default(cls, sample_rate: float) -> "SpectrogramParams":
        """n_fft 512, hop 160, Hann window, centred."""
        return cls(StftParams(512, 160, WindowType.hanning, True), sample_rate)

    @classmethod
    def music_default(cls, sample_rate: float) -> "SpectrogramParams":
        """n_fft 2048, hop 512, Hann window, centred."""
        return cls(StftParams(2048, 512, WindowType.hanning, True), sample_rate)

    @property
    def nyquist(self) -> float:
        """Half the sample rate."""
        return self.sample_rate / 2


@dataclass(frozen=True)
class LogParams:
    """dB conversion: ``10 log10(max(P, 10**(floor_db/10)))``, reference 1.0.

    Parameters
    ----------
    floor_db : float
        The smallest value in dB; finite.
    """

    floor_db: float = -80.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "floor_db", _float_param("floor_db", self.floor_db))


class MelNorm(enum.Enum):
    """Row normalisation of the mel filterbank."""

    none = "none"
    slaney = "slaney"
    l1 = "l1"
    l2 = "l2"

    @classmethod
    def parse(cls, value: Union["MelNorm", str, None]) -> "MelNorm":
        """A MelNorm from itself, ``None``, or its name in any case."""
        if value is None:
            return cls.none
        if isinstance(value, cls):
            return value
        if isinstance(value, str) and value.lower() in cls.__members__:
            return cls[value.lower()]
        raise InvalidInputError(f"mel norm must be None, 'none', 'slaney', 'l1' or 'l2'; got {value!r}")

    def __repr__(self) -> str:
        return f"MelNorm.{self.name}"


@dataclass(frozen=True)
class MelParams:
    """Mel filterbank parameters (Slaney scale, as ``librosa.filters.mel``).

    Parameters
    ----------
    n_mels : int
        Number of bands, >= 1.
    f_min, f_max : float
        Band edges in Hz, ``0 <= f_min < f_max``; ``f_max`` must not exceed the Nyquist frequency
        of the signal it is used with (checked when combined with a sample rate).
    norm : MelNorm or str, optional
        ``None``/``"none"`` (default), ``"slaney"`` (area), ``"l1"`` or ``"l2"`` per row.
    htk : bool
        Use the HTK mel formula instead of Slaney's.
    """

    n_mels: int
    f_min: float = 0.0
    f_max: Optional[float] = None
    norm: Union[MelNorm, str, None] = None
    htk: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "n_mels", _int_param("n_mels", self.n_mels, 1))
        f_min = _float_param("f_min", self.f_min)
        if f_min < 0:
            raise InvalidInputError(f"f_min must be >= 0, got {f_min}")
        object.__setattr__(self, "f_min", f_min)
        if self.f_max is not None:
            f_max = _float_param("f_max", self.f_max)
            if f_max <= f_min:
                raise InvalidInputError(f"f_max must be > f_min ({f_min}), got {f_max}")
            object.__setattr__(self, "f_max", f_max)
        object.__setattr__(self, "norm", MelNorm.parse(self.norm))
        object.__setattr__(self, "htk", bool(self.htk))

    def resolved_f_max(self, sample_rate: float) -> float:
        """``f_max``, or the Nyquist frequency when it is None; checked against Nyquist."""
        nyquist = sample_rate / 2
        f_max = nyquist if self.f_max is None else self.f_max
        if f_max > nyquist:
            raise InvalidInputError(
                f"f_max must be <= the Nyquist frequency sample_rate/2 = {nyquist:g} Hz, got {f_max:g}"
            )
        if f_max <= self.f_min:
            raise InvalidInputError(f"f_max ({f_max:g}) must be > f_min ({self.f_min:g})")
        return f_max

    def _engine_kwargs(self, sample_rate: float) -> dict:
        return dict(n_mels=self.n_mels, f_min=self.f_min, f_max=self.resolved_f_max(sample_rate),
                    mel_norm=self.norm.value, htk=self.htk)


def _band_edges(f_min: Any, f_max: Any, positive: bool) -> Tuple[float, float]:
    """Checked (f_min, f_max): finite, ``0 <= f_min`` (``0 < f_min`` if positive), ``f_min < f_max``."""
    lo = _float_param("f_min", f_min)
    if lo < 0 or (positive and lo == 0):
        raise InvalidInputError(f"f_min must be {'> 0' if positive else '>= 0'}, got {lo}")
    hi = _float_param("f_max", f_max)
    if hi <= lo:
        raise InvalidInputError(f"f_max must be > f_min ({lo}), got {hi}")
    return lo, hi


def _check_nyquist(f_max: float, sample_rate: float) -> None:
    nyquist = sample_rate / 2
    if f_max > nyquist:
        raise InvalidInputError(
            f"f_max must be <= the Nyquist frequency sample_rate/2 = {nyquist:g} Hz, got {f_max:g}"
        )


@dataclass(frozen=True)
class ErbParams:
    """ERB (equivalent rectangular bandwidth) filterbank parameters.

    Band ``m`` is centred at ``fc = linspace(f_min, f_max, n_filters)[m]`` with bandwidth
    ``b = 1.019 * 24.7 * (4.37 fc / 1000 + 1)`` and power response ``|1 + j (f - fc) / b|^-8``
    (a 4th-order gammatone's magnitude squared), applied to the power spectrum without
    normalisation. Weights below ``1e-10`` of a band's peak are dropped.

    Parameters
    ----------
    n_filters : int
        Number of bands, >= 2.
    f_min, f_max : float
        Centre frequencies of the first and last band in Hz, ``0 <= f_min < f_max``; ``f_max``
        must not exceed the Nyquist frequency (checked when combined with a sample rate).
    """

    n_filters: int
    f_min: float
    f_max: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "n_filters", _int_param("n_filters", self.n_filters, 2))
        lo, hi = _band_edges(self.f_min, self.f_max, positive=False)
        object.__setattr__(self, "f_min", lo)
        object.__setattr__(self, "f_max", hi)

    def _engine_kwargs(self, sample_rate: float) -> dict:
        _check_nyquist(self.f_max, sample_rate)
        return dict(n_bands=self.n_filters, f_min=self.f_min, f_max=self.f_max)


@dataclass(frozen=True)
class LogHzParams:
    """Logarithmic-frequency parameters.

    ``n_bins`` frequencies ``np.geomspace(f_min, f_max, n_bins)``; each output row linearly
    interpolates the power spectrum between the two FFT bins around its frequency.

    Parameters
    ----------
    n_bins : int
        Number of rows, >= 1.
    f_min, f_max : float
        First and last frequency in Hz, ``0 < f_min < f_max``; ``f_max`` must not exceed the
        Nyquist frequency (checked when combined with a sample rate).
    """

    n_bins: int
    f_min: float
    f_max: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "n_bins", _int_param("n_bins", self.n_bins, 1))
        lo, hi = _band_edges(self.f_min, self.f_max, positive=True)
        object.__setattr__(self, "f_min", lo)
        object.__setattr__(self, "f_max", hi)

    def _engine_kwargs(self, sample_rate: float) -> dict:
        _check_nyquist(self.f_max, sample_rate)
        return dict(n_bands=self.n_bins, f_min=self.f_min, f_max=self.f_max)


@dataclass(frozen=True)
class CqtParams:
    """Constant-Q transform parameters.

    Bin ``k`` has frequency ``f_min * 2**(k / bins_per_octave)``. Each frame (the STFT's framing,
    without its window) is correlated with the bin's kernel: ``Q = 1 / (2**(1/bins_per_octave) - 1)``,
    ``N_k = clamp(round(Q sr / f_k), 1, n_fft)`` samples of ``exp(2 pi i f_k m / sr)`` times a
    symmetric Hann window, entries below 1 % of the peak dropped, L2-normalised, aligned with the
    end of the frame. The top bin must be below the Nyquist frequency (checked with the sample rate).

    Parameters
    ----------
    bins_per_octave : int
        >= 1 (12: semitones).
    n_octaves : int
        >= 1.
    f_min : float
        Frequency of the lowest bin in Hz, finite and > 0.
    """

    bins_per_octave: int
    n_octaves: int
    f_min: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "bins_per_octave", _int_param("bins_per_octave", self.bins_per_octave, 1))
        object.__setattr__(self, "n_octaves", _int_param("n_octaves", self.n_octaves, 1))
        f_min = _float_param("f_min", self.f_min)
        if f_min <= 0:
            raise InvalidInputError(f"f_min must be > 0, got {f_min}")
        object.__setattr__(self, "f_min", f_min)

    @property
    def num_bins(self) -> int:
        """``bins_per_octave * n_octaves``."""
        return self.bins_per_octave * self.n_octaves

    @property
    def f_max(self) -> float:
        """Frequency of the top bin in Hz."""
        return self.f_min * 2.0 ** ((self.num_bins - 1) / self.bins_per_octave)

    def _engine_kwargs(self, sample_rate: float) -> dict:
        nyquist = sample_rate / 2
        if not self.f_max < nyquist:
            raise InvalidInputError(
                f"the top CQT bin, {self.f_max:g} Hz, must be below the Nyquist frequency {nyquist:g} Hz: "
                "lower f_min or n_octaves"
            )
        return dict(bins_per_octave=self.bins_per_octave, n_bands=self.num_bins, f_min=self.f_min)


_CHROMA_NORMS = ("l2", "l1", "max", "none")


@dataclass(frozen=True)
class ChromaParams:
    """Chromagram parameters: 12 pitch classes from the magnitude spectrum.

    Each FFT bin with ``f_min <= f <= f_max`` has pitch class ``(69 + 12 log2(f / tuning)) mod 12``
    and gives chroma ``c`` the weight ``exp(-d^2 / 2)``, ``d`` the circular distance between the
    two; each chroma row of weights sums to 1; then each frame is normalised.

    Parameters
    ----------
    tuning : float
        Frequency of A4 in Hz, finite and > 0.
    f_min, f_max : float
        Frequencies in Hz that contribute, ``0 <= f_min < f_max``. ``f_max`` may exceed the Nyquist
        frequency (the default 4186 Hz does at 8 kHz); only the bins that exist are used.
    norm : {None, "l2", "l1", "max", "none"}
        Per-frame normalisation: None means the default ``"l2"`` (unit Euclidean norm), ``"l1"``
        unit sum of absolute values, ``"max"`` a largest value of 1, ``"none"`` no normalisation.
        All-zero frames stay zero.
    """

    tuning: float = 440.0
    f_min: float = 32.7
    f_max: float = 4186.0
    norm: Optional[str] = None

    def __post_init__(self) -> None:
        tuning = _float_param("tuning", self.tuning)
        if tuning <= 0:
            raise InvalidInputError(f"tuning must be > 0 Hz, got {tuning}")
        lo, hi = _band_edges(self.f_min, self.f_max, positive=False)
        norm = "l2" if self.norm is None else self.norm
        if not isinstance(norm, str) or norm.lower() not in _CHROMA_NORMS:
            raise InvalidInputError(f"chroma norm must be None, 'l2', 'l1', 'max' or 'none'; got {self.norm!r}")
        object.__setattr__(self, "tuning", tuning)
        object.__setattr__(self, "f_min", lo)
        object.__setattr__(self, "f_max", hi)
        object.__setattr__(self, "norm", norm.lower())

    @classmethod
    def music_standard(cls) -> "ChromaParams":
        """A4 = 440 Hz, C1 (32.7 Hz) to C8 (4186 Hz), L2-normalised frames."""
        return cls(440.0, 32.7, 4186.0, "l2")

    def _engine_kwargs(self, sample_rate: float) -> dict:
        return dict(tuning=self.tuning, f_min=self.f_min, f_max=self.f_max, chroma_norm=self.norm)


_MFCC_LOGS = {"db": (-80.0, 0.0), "librosa": (-100.0, 80.0)}  # name -> (floor_db, top_db)


@dataclass(frozen=True)
class MfccParams:
    """MFCC parameters.

    The default pipeline (API.md §5): mel power spectrogram (Slaney mel, norm none, 0 to sr/2)
    -> ``10 log10(max(x, 1e-8))`` -> unnormalised DCT-II ``c_k = sum_n x_n cos(pi k (n + 1/2) / N)``
    -> first ``n_mfcc`` -> lifter ``c_k *= 1 + (L/2) sin(pi k / L)`` with ``L = 22`` (c0 kept).

    Parameters
    ----------
    n_mfcc : int
        Coefficients per frame, between 1 and ``n_mels``.
    dct_norm : {None, "ortho"}
        None: the unnormalised DCT-II above. ``"ortho"``: the orthonormal DCT-II
        (``scipy.fft.dct(norm="ortho")``, as librosa and torchaudio use).
    lifter : float
        Cepstral lifter ``L`` (finite, >= 0); 0 disables liftering.
    log : {"db", "librosa"}
        ``"db"``: ``10 log10(max(x, 1e-8))``. ``"librosa"``: ``librosa.power_to_db`` with its
        defaults, ``10 log10(max(x, 1e-10))`` then every value raised to at least the signal's
        maximum minus 80 dB (``top_db=80``, computed per signal, also per item of a batch).
    mel_norm : MelNorm or str, optional
        Mel filterbank normalisation (None by default; ``"slaney"`` as librosa uses).
    htk : bool
        HTK mel formula (torchaudio's default) instead of Slaney's.

    See Also
    --------
    MfccParams.librosa, MfccParams.torchaudio : presets that reproduce those libraries.
    """

    n_mfcc: int = 13
    dct_norm: Optional[str] = None
    lifter: float = 22.0
    log: str = "db"
    mel_norm: Union[MelNorm, str, None] = None
    htk: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "n_mfcc", _int_param("n_mfcc", self.n_mfcc, 1))
        dct_norm = None if self.dct_norm in (None, "none") else self.dct_norm
        if dct_norm not in (None, "ortho"):
            raise InvalidInputError(f"dct_norm must be None or 'ortho', got {self.dct_norm!r}")
        object.__setattr__(self, "dct_norm", dct_norm)
        lifter = _float_param("lifter", self.lifter)
        if lifter < 0:
            raise InvalidInputError(f"lifter must be >= 0 (0 disables it), got {lifter}")
        object.__setattr__(self, "lifter", lifter)
        if self.log not in _MFCC_LOGS:
            raise InvalidInputError(f"log must be 'db' or 'librosa', got {self.log!r}")
        object.__setattr__(self, "mel_norm", MelNorm.parse(self.mel_norm))
        if not isinstance(self.htk, (bool, np.bool_)):
            raise TypeError(f"htk must be a bool, got {type(self.htk).__name__} {self.htk!r}")
        object.__setattr__(self, "htk", bool(self.htk))

    @classmethod
    def speech_standard(cls) -> "MfccParams":
        """13 coefficients with the default pipeline (unnormalised DCT-II, lifter 22)."""
        return cls(13)

    @classmethod
    def librosa(cls, n_mfcc: int = 13) -> "MfccParams":
        """``librosa.feature.mfcc(y=y, sr=sr, n_mfcc=n_mfcc)``: Slaney-normalised mel, power_to_db with
        top_db 80, orthonormal DCT-II, no lifter. Use it with librosa's framing (n_fft 2048, hop 512,
        periodic Hann window: ``WindowType.custom(scipy.signal.get_window("hann", 2048))``)."""
        return cls(n_mfcc, dct_norm="ortho", lifter=0.0, log="librosa", mel_norm="slaney")

    @classmethod
    def torchaudio(cls, n_mfcc: int = 40) -> "MfccParams":
        """``torchaudio.transforms.MFCC(n_mfcc=n_mfcc)``: HTK mel without normalisation,
        AmplitudeToDB with top_db 80, orthonormal DCT-II, no lifter. Its framing is n_fft 400,
        hop 200, periodic Hann and 128 mels; torchaudio pads the ends by reflection where we pad
        zeros, so the frames whose window reaches past either end of the signal differ."""
        return cls(n_mfcc, dct_norm="ortho", lifter=0.0, log="librosa", htk=True)

    def _engine_kwargs(self) -> dict:
        floor_db, top_db = _MFCC_LOGS[self.log]
        return dict(floor_db=floor_db, top_db=top_db, n_mfcc=self.n_mfcc, dct_norm=self.dct_norm or "none",
                    lifter=self.lifter, mel_norm=self.mel_norm.value, htk=self.htk)


@dataclass(frozen=True)
class MdctParams:
    """MDCT parameters.

    Frame ``t`` covers samples ``[t * hop_size, t * hop_size + window_size)`` (no padding) and gives
    ``N = window_size // 2`` coefficients ``C[k] = sum_n x[n] w[n] cos(pi (2n + 1 + N)(2k + 1) / (4N))``.

    Parameters
    ----------
    window_size : int
        Even, >= 4.
    hop_size : int
        Between 1 and ``window_size``; ``window_size // 2`` for perfect reconstruction.
    window : WindowType
        Analysis and synthesis window. Perfect reconstruction needs ``w[n]^2 + w[n + N]^2 = 1``
        with hop ``N``: the sine and Kaiser-Bessel-derived windows of :meth:`sine_window` and
        :meth:`kbd_window` satisfy it; Hann, Hamming and Blackman do not.
    """

    window_size: int
    hop_size: int
    window: WindowType

    def __post_init__(self) -> None:
        size = _int_param("window_size", self.window_size, 4)
        if size % 2:
            raise InvalidInputError(f"window_size must be even, got {size}")
        hop = _int_param("hop_size", self.hop_size, 1)
        if hop > size:
            raise InvalidInputError(f"hop_size must be <= window_size ({size}), got {hop}")
        if not isinstance(self.window, WindowType):
            raise TypeError(f"window must be a WindowType, got {type(self.window).__name__}")
        if self.window.kind == "custom" and len(self.window.coefficients or ()) != size:
            raise DimensionMismatchError(
                f"the custom window has {len(self.window.coefficients or ())} coefficients, but window_size is {size}"
            )
        object.__setattr__(self, "window_size", size)
        object.__setattr__(self, "hop_size", hop)

    @classmethod
    def sine_window(cls, window_size: int) -> "MdctParams":
        """The sine window ``sin(pi (n + 1/2) / window_size)`` with hop ``window_size // 2``:
        perfect reconstruction."""
        size = _int_param("window_size", window_size, 4)
        if size % 2:
            raise InvalidInputError(f"window_size must be even, got {size}")
        return cls(size, size // 2, WindowType.custom(_core.mdct_sine_window(size)))

    @classmethod
    def kbd_window(cls, window_size: int, alpha: float = 4.0) -> "MdctParams":
        """The Kaiser-Bessel-derived window (parameter ``alpha``, Kaiser beta ``pi * alpha``) with hop
        ``window_size // 2``: perfect reconstruction."""
        size = _int_param("window_size", window_size, 4)
        if size % 2:
            raise InvalidInputError(f"window_size must be even, got {size}")
        a = _float_param("alpha", alpha)
        if a < 0:
            raise InvalidInputError(f"alpha must be >= 0, got {a}")
        return cls(size, size // 2, WindowType.custom(_core.kbd_window(size, a)))

    @property
    def n_coefficients(self) -> int:
        """Coefficients per frame, ``window_size // 2``."""
        return self.window_size // 2

