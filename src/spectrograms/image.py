"""2-D FFTs of real arrays (images, spectrograms) and the image operations built on them."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from . import _core
from ._errors import InvalidInputError
from ._input import _from_dlpack, resolve_dtype
from ._threads import get_num_threads
from .params import _float_param, _int_param
from .results import Fft2dResult

__all__ = ["fft2d", "ifft2d", "power_spectrum_2d", "magnitude_spectrum_2d", "Fft2dPlanner", "gaussian_kernel_2d",
           "convolve_fft", "lowpass_filter", "highpass_filter", "bandpass_filter", "detect_edges_fft",
           "sharpen_fft"]


def _threads(n_threads: Optional[int]) -> int:
    from .planner import resolve_threads

    return resolve_threads(n_threads) if n_threads is not None else get_num_threads()


def _matrix(obj: Any, what: str) -> np.ndarray:
    if isinstance(obj, np.ndarray):
        return obj
    if hasattr(obj, "__dlpack__") and not isinstance(obj, (list, tuple)):
        return _from_dlpack(obj, what)  # our results, CPU torch tensors, JAX arrays: no copy
    try:
        return np.asarray(obj)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{what} must be a 2-D array; could not convert {type(obj).__name__}: {exc}") from None


def _real_image(obj: Any, dtype: Any, what: str = "the array") -> np.ndarray:
    """A 2-D float32/float64 array (per dtype) from real input; integer images are converted."""
    arr = _matrix(obj, what)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{what} must hold real numbers, got dtype {arr.dtype}"
                        + ("; take .real or np.abs first" if arr.dtype.kind == "c" else ""))
    if arr.ndim != 2:
        raise TypeError(f"{what} must be 2-D, got {arr.ndim}-D with shape {arr.shape}")
    if arr.size == 0:
        raise InvalidInputError(f"{what} is empty, shape {arr.shape}")
    target = resolve_dtype(dtype)
    return arr if arr.dtype == target else arr.astype(target)


def fft2d(data: Any, dtype: Any = None, *, n_threads: Optional[int] = None) -> Fft2dResult:
    """2-D FFT of a real array, non-negative frequencies of the last axis only.

    Equals ``numpy.fft.rfft2(data)`` (the first ``ncols // 2 + 1`` columns of ``numpy.fft.fft2``).

    Parameters
    ----------
    data : array_like
        Real 2-D array ``(nrows, ncols)``: an image (integer images are converted), a
        :class:`Spectrogram`, a numpy array or a CPU tensor.
    dtype : {None, "float64", "float32"}
        complex128 (default) or complex64 output, computed natively.
    n_threads : int, optional
        Engine threads (default :func:`spectrograms.get_num_threads`); the result does not depend
        on it.

    Returns
    -------
    Fft2dResult
        ``data`` of shape ``(nrows, ncols // 2 + 1)``, complex; ``input_shape`` records
        ``(nrows, ncols)`` for :func:`ifft2d`.

    Examples
    --------
    >>> import numpy as np, spectrograms as sg
    >>> image = np.random.default_rng(0).standard_normal((128, 128))
    >>> sg.fft2d(image).shape
    (128, 65)
    """
    x = _real_image(data, dtype)
    return Fft2dResult(_core.fft2d(x, _threads(n_threads)), "spectrum", x.shape)


def ifft2d(spectrum: Any, output_ncols: Optional[int] = None, dtype: Any = None, *,
           n_threads: Optional[int] = None) -> Fft2dResult:
    """Inverse of :func:`fft2d`: ``numpy.fft.irfft2(spectrum, (nrows, output_ncols))``.

    Parameters
    ----------
    spectrum : Fft2dResult or complex array_like
        ``(nrows, m)`` half spectrum.
    output_ncols : int, optional
        Columns of the output (the original image width; its first ``output_ncols // 2 + 1``
        spectrum columns are used). Default: the width recorded by :func:`fft2d`, else
        ``2 * (m - 1)``.
    dtype : {None, "float64", "float32"}
        float64 (default) or float32 output.
    n_threads : int, optional
        Engine threads.

    Returns
    -------
    Fft2dResult
        Real ``data`` of shape ``(nrows, output_ncols)``.
    """
    recorded = spectrum.input_shape if isinstance(spectrum, Fft2dResult) else None
    arr = _matrix(spectrum, "the spectrum")
    if arr.dtype.kind not in "fciub":
        raise TypeError(f"the spectrum must be numeric, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise TypeError(f"the spectrum must be 2-D, got {arr.ndim}-D with shape {arr.shape}")
    if arr.size == 0:
        raise InvalidInputError(f"the spectrum is empty, shape {arr.shape}")
    target = np.complex64 if resolve_dtype(dtype) == np.float32 else np.complex128
    if arr.dtype != target:
        arr = arr.astype(target)
    if output_ncols is None:
        if recorded is not None:
            output_ncols = recorded[1]
        elif arr.shape[1] < 2:
            raise InvalidInputError("output_ncols must be given for a spectrum of one column")
        else:
            output_ncols = 2 * (arr.shape[1] - 1)
    n = _int_param("output_ncols", output_ncols, 1)
    return Fft2dResult(_core.ifft2d(arr, n, _threads(n_threads)), "image", (arr.shape[0], n))


def power_spectrum_2d(data: Any, dtype: Any = None, *, n_threads: Optional[int] = None) -> Fft2dResult:
    """``|fft2d(data)|**2``: real, shape ``(nrows, ncols // 2 + 1)``.

    Parameters
    ----------
    data : array_like
        Real 2-D array.
    dtype : {None, "float64", "float32"}
        Output precision.
    n_threads : int, optional
        Engine threads.

    Returns
    -------
    Fft2dResult
    """
    x = _real_image(data, dtype)
    return Fft2dResult(_core.spectrum2d(x, False, _threads(n_threads)), "power", x.shape)


def magnitude_spectrum_2d(data: Any, dtype: Any = None, *, n_threads: Optional[int] = None) -> Fft2dResult:
    """``|fft2d(data)|``: real, shape ``(nrows, ncols // 2 + 1)``.

    Parameters are as for :func:`power_spectrum_2d`.

    Returns
    -------
    Fft2dResult
    """
    x = _real_image(data, dtype)
    return Fft2dResult(_core.spectrum2d(x, True, _threads(n_threads)), "magnitude", x.shape)


class Fft2dPlanner:
    """2-D FFTs of one precision, for many arrays.

    The 1-D FFTW plans behind every shape are made once and cached process-wide (see
    :func:`spectrograms.fft_plan_cache_info`), so a planner holds nothing but its dtype; it is
    immutable, picklable and safe to share between threads.

    Parameters
    ----------
    dtype : {None, "float64", "float32"}
        Working precision, fixed for the planner.

    Examples
    --------
    >>> import numpy as np, spectrograms as sg
    >>> planner = sg.Fft2dPlanner()
    >>> spectra = [planner.fft2d(np.ones((64, 64))) for _ in range(3)]
    """

    __slots__ = ("_dtype",)

    def __init__(self, dtype: Any = None) -> None:
        self._dtype = resolve_dtype(dtype)

    @property
    def dtype(self) -> str:
        """``"float32"`` or ``"float64"``."""
        return self._dtype.name

    def fft2d(self, data: Any, *, n_threads: Optional[int] = None) -> Fft2dResult:
        """:func:`spectrograms.fft2d` at the planner's precision.

        Parameters
        ----------
        data : array_like
            Real 2-D array.
        n_threads : int, optional
            Engine threads.

        Returns
        -------
        Fft2dResult
        """
        return fft2d(data, self._dtype, n_threads=n_threads)

    def ifft2d(self, spectrum: Any, output_ncols: Optional[int] = None, *,
               n_threads: Optional[int] = None) -> Fft2dResult:
        """:func:`spectrograms.ifft2d` at the planner's precision.

        Parameters
        ----------
        spectrum : Fft2dResult or complex array_like
            ``(nrows, m)`` half spectrum.
        output_ncols : int, optional
            Output columns (default: the width :meth:`fft2d` recorded, else ``2 * (m - 1)``).
        n_threads : int, optional
            Engine threads.

        Returns
        -------
        Fft2dResult
        """
        return ifft2d(spectrum, output_ncols, self._dtype, n_threads=n_threads)

    def power_spectrum_2d(self, data: Any, *, n_threads: Optional[int] = None) -> Fft2dResult:
        """:func:`spectrograms.power_spectrum_2d` at the planner's precision.

        Parameters
        ----------
        data : array_like
            Real 2-D array.
        n_threads : int, optional
            Engine threads.

        Returns
        -------
        Fft2dResult
        """
        return power_spectrum_2d(data, self._dtype, n_threads=n_threads)

    def magnitude_spectrum_2d(self, data: Any, *, n_threads: Optional[int] = None) -> Fft2dResult:
        """:func:`spectrograms.magnitude_spectrum_2d` at the planner's precision.

        Parameters
        ----------
        data : array_like
            Real 2-D array.
        n_threads : int, optional
            Engine threads.

        Returns
        -------
        Fft2dResult
        """
        return magnitude_spectrum_2d(data, self._dtype, n_threads=n_threads)

    def __reduce__(self) -> Any:
        return (Fft2dPlanner, (self._dtype.name,))

    def __repr__(self) -> str:
        return f"Fft2dPlanner(dtype={self._dtype.name})"


# ---- image operations ---------------------------------------------------------------------------------

def gaussian_kernel_2d(size: int, sigma: float, dtype: Any = None) -> np.ndarray:
    """A ``size x size`` Gaussian blur kernel summing to 1.

    Parameters
    ----------
    size : int
        Odd, >= 1.
    sigma : float
        Standard deviation in samples, finite and > 0.
    dtype : {None, "float64", "float32"}
        Output dtype.

    Returns
    -------
    numpy.ndarray
        ``exp(-(i**2 + j**2) / (2 sigma**2))`` around the centre, normalised.
    """
    size = _int_param("size", size, 1)
    if size % 2 == 0:
        raise InvalidInputError(f"size must be odd, got {size}")
    sigma = _float_param("sigma", sigma)
    if sigma <= 0:
        raise InvalidInputError(f"sigma must be > 0, got {sigma}")
    return _core.gaussian_kernel_2d(size, sigma).astype(resolve_dtype(dtype), copy=False)


def convolve_fft(image: Any, kernel: Any, dtype: Any = None, *, n_threads: Optional[int] = None) -> np.ndarray:
    """Circular 2-D convolution by FFT, the kernel centred on each pixel.

    Equals ``scipy.ndimage.convolve(image, kernel, mode="wrap")`` for odd-sized kernels (the
    kernel's centre is element ``(rows // 2, cols // 2)``).

    Parameters
    ----------
    image : array_like
        Real 2-D array.
    kernel : array_like
        Real 2-D array no larger than the image.
    dtype : {None, "float64", "float32"}
        Compute and output dtype.
    n_threads : int, optional
        Engine threads.

    Returns
    -------
    numpy.ndarray
        Same shape as the image.
    """
    x = _real_image(image, dtype, "the image")
    k = _real_image(kernel, dtype, "the kernel")
    return _core.convolve_fft(x, k, _threads(n_threads)).numpy()


def _fraction(name: str, value: Any) -> float:
    f = _float_param(name, value)
    if not 0.0 <= f <= 1.0:
        raise InvalidInputError(f"{name} must be between 0 and 1, got {f}")
    return f


def lowpass_filter(image: Any, cutoff_fraction: float, dtype: Any = None, *,
                   n_threads: Optional[int] = None) -> np.ndarray:
    """Ideal low-pass filter: keep the frequencies within a radius of DC.

    A frequency ``(r, c)`` is ``sqrt(min(r, R - r)**2 + min(c, C - c)**2)`` bins from DC; it is
    kept when that is at most ``cutoff_fraction * min(R // 2, C // 2)``.

    Parameters
    ----------
    image : array_like
        Real 2-D ``(R, C)`` array.
    cutoff_fraction : float
        Between 0 and 1 (1 keeps at least everything up to the smaller half-size).
    dtype : {None, "float64", "float32"}
        Compute and output dtype.
    n_threads : int, optional
        Engine threads.

    Returns
    -------
    numpy.ndarray
        The filtered image, same shape.
    """
    x = _real_image(image, dtype, "the image")
    return _core.frequency_filter(x, "low", 0.0, _fraction("cutoff_fraction", cutoff_fraction),
                                  _threads(n_threads)).numpy()


def highpass_filter(image: Any, cutoff_fraction: float, dtype: Any = None, *,
                    n_threads: Optional[int] = None) -> np.ndarray:
    """Ideal high-pass filter: the complement of :func:`lowpass_filter` at the same cutoff.

    Parameters are as for :func:`lowpass_filter`.

    Returns
    -------
    numpy.ndarray
    """
    x = _real_image(image, dtype, "the image")
    return _core.frequency_filter(x, "high", _fraction("cutoff_fraction", cutoff_fraction), 1.0,
                                  _threads(n_threads)).numpy()


def bandpass_filter(image: Any, low_cutoff: float, high_cutoff: float, dtype: Any = None, *,
                    n_threads: Optional[int] = None) -> np.ndarray:
    """Ideal band-pass filter: frequencies farther from DC than ``low_cutoff``'s radius and not
    farther than ``high_cutoff``'s (radii as in :func:`lowpass_filter`).

    Parameters
    ----------
    image : array_like
        Real 2-D array.
    low_cutoff, high_cutoff : float
        ``0 <= low_cutoff < high_cutoff <= 1``.
    dtype : {None, "float64", "float32"}
        Compute and output dtype.
    n_threads : int, optional
        Engine threads.

    Returns
    -------
    numpy.ndarray
    """
    x = _real_image(image, dtype, "the image")
    low, high = _fraction("low_cutoff", low_cutoff), _fraction("high_cutoff", high_cutoff)
    if not low < high:
        raise InvalidInputError(f"high_cutoff ({high}) must be greater than low_cutoff ({low})")
    return _core.frequency_filter(x, "band", low, high, _threads(n_threads)).numpy()


def detect_edges_fft(image: Any, dtype: Any = None, *, n_threads: Optional[int] = None) -> np.ndarray:
    """Edges by high-pass filtering: ``highpass_filter(image, 0.1)``.

    Parameters
    ----------
    image : array_like
        Real 2-D array.
    dtype : {None, "float64", "float32"}
        Compute and output dtype.
    n_threads : int, optional
        Engine threads.

    Returns
    -------
    numpy.ndarray
    """
    return highpass_filter(image, 0.1, dtype, n_threads=n_threads)


def sharpen_fft(image: Any, amount: float, dtype: Any = None, *, n_threads: Optional[int] = None) -> np.ndarray:
    """Sharpen: ``image + amount * highpass_filter(image, 0.2)``.

    Parameters
    ----------
    image : array_like
        Real 2-D array.
    amount : float
        Strength, finite and >= 0 (0.5 subtle, 2 strong).
    dtype : {None, "float64", "float32"}
        Compute and output dtype.
    n_threads : int, optional
        Engine threads.

    Returns
    -------
    numpy.ndarray
    """
    x = _real_image(image, dtype, "the image")
    a = _float_param("amount", amount)
    if a < 0:
        raise InvalidInputError(f"amount must be >= 0, got {a}")
    return _core.sharpen_fft(x, a, _threads(n_threads)).numpy()
