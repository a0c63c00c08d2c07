"""1-D FFTs, spectra, FFT frequencies and shifts on the engine's cached FFTW plans (numpy conventions)."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from . import _core
from ._errors import InvalidInputError
from ._input import _from_dlpack, as_signal, resolve_dtype
from .params import WindowType, _float_param, _int_param

__all__ = ["compute_fft", "compute_rfft", "compute_irfft", "compute_power_spectrum", "compute_magnitude_spectrum",
           "fftfreq", "rfftfreq", "fftshift", "ifftshift", "fftshift_1d", "ifftshift_1d"]


def _array(obj: Any, what: str) -> np.ndarray:
    if isinstance(obj, np.ndarray):
        return obj
    if hasattr(obj, "__dlpack__") and not isinstance(obj, (list, tuple)):
        return _from_dlpack(obj, what)
    try:
        return np.asarray(obj)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{what} must be a 1-D array; could not convert {type(obj).__name__}: {exc}") from None


def _complex_signal(obj: Any, dtype: Any, what: str) -> np.ndarray:
    """A 1-D complex64/complex128 array (per dtype) from complex input; TypeError for other kinds."""
    arr = _array(obj, what)
    if arr.dtype.kind != "c":
        raise TypeError(f"{what} must be complex (or real) floating-point, got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise TypeError(f"{what} must be 1-D, got {arr.ndim}-D with shape {arr.shape}")
    if arr.size == 0:
        raise InvalidInputError(f"{what} is empty; expected at least one value")
    target = np.complex64 if resolve_dtype(dtype) == np.float32 else np.complex128
    return arr if arr.dtype == target and arr.dtype.isnative else arr.astype(target)


def _length(n: Optional[int], default: int, name: str = "n_fft") -> int:
    return default if n is None else _int_param(name, n, 1)


def compute_fft(samples: Any, n_fft: Optional[int] = None, dtype: Any = None) -> np.ndarray:
    """Complex FFT of a real or complex 1-D signal, as ``numpy.fft.fft(samples, n_fft)``.

    Parameters
    ----------
    samples : array_like
        1-D float32/float64 or complex64/complex128 values (integer and bool input raise
        ``TypeError``).
    n_fft : int, optional
        Transform length; the input is cropped or zero-padded to it. Default: its length.
    dtype : {None, "float64", "float32"}
        Precision: complex128 (default) or complex64 output, computed natively.

    Returns
    -------
    numpy.ndarray
        ``n_fft`` complex values, unnormalised: ``X[k] = sum_n x[n] exp(-2 pi i k n / n_fft)``.
    """
    arr = _array(samples, "samples")
    if arr.dtype.kind == "c":
        x = _complex_signal(arr, dtype, "samples")
    else:
        x = as_signal(arr, resolve_dtype(dtype))
    return _core.fft(x, _length(n_fft, len(x))).numpy()


def compute_rfft(samples: Any, n_fft: Optional[int] = None, dtype: Any = None) -> np.ndarray:
    """FFT of a real 1-D signal, non-negative frequencies only, as ``numpy.fft.rfft(samples, n_fft)``.

    Parameters
    ----------
    samples : array_like
        1-D float32 or float64 signal.
    n_fft : int, optional
        Transform length (crop or zero-pad); default: the signal's length.
    dtype : {None, "float64", "float32"}
        complex128 (default) or complex64 output.

    Returns
    -------
    numpy.ndarray
        ``n_fft // 2 + 1`` complex values.
    """
    x = as_signal(samples, resolve_dtype(dtype))
    return _core.rfft(x, _length(n_fft, len(x))).numpy()


def compute_irfft(spectrum: Any, n_fft: Optional[int] = None, dtype: Any = None) -> np.ndarray:
    """Inverse of :func:`compute_rfft`, as ``numpy.fft.irfft(spectrum, n_fft)``.

    Parameters
    ----------
    spectrum : array_like
        1-D complex (or real) spectrum of the non-negative frequencies.
    n_fft : int, optional
        Output length; the first ``n_fft // 2 + 1`` values are used (zero-padded if there are
        fewer). Default ``2 * (len(spectrum) - 1)``.
    dtype : {None, "float64", "float32"}
        float64 (default) or float32 output.

    Returns
    -------
    numpy.ndarray
        ``n_fft`` real samples, scaled by ``1 / n_fft``. The imaginary parts of the DC value and
        (for even ``n_fft``) the Nyquist value are ignored, as numpy does.
    """
    arr = _array(spectrum, "spectrum")
    if arr.dtype.kind == "f":
        arr = arr.astype(np.complex128)
    X = _complex_signal(arr, dtype, "spectrum")
    if n_fft is None and len(X) < 2:
        raise InvalidInputError("n_fft must be given for a spectrum of one value (the default 2*(m-1) is 0)")
    return _core.irfft(X, _length(n_fft, 2 * (len(X) - 1))).numpy()


def _spectrum(samples: Any, n_fft: Optional[int], window: Any, dtype: Any, magnitude: bool) -> np.ndarray:
    x = as_signal(samples, resolve_dtype(dtype))
    n = _length(n_fft, len(x))
    if window is None:
        coefficients: list = []
    elif isinstance(window, WindowType):
        coefficients = window.coefficients_for(n).tolist()
    elif isinstance(window, str) and isinstance(getattr(WindowType, window, None), WindowType):
        coefficients = getattr(WindowType, window).coefficients_for(n).tolist()
    else:
        coefficients = WindowType.custom(window).coefficients_for(n).tolist()
    return _core.spectrum(x, n, coefficients, magnitude).numpy()


def compute_power_spectrum(samples: Any, n_fft: Optional[int] = None, window: Any = None,
                           dtype: Any = None) -> np.ndarray:
    """Power spectrum ``|rfft(x * window)|^2`` of one frame.

    Parameters
    ----------
    samples : array_like
        1-D float32 or float64 signal, cropped or zero-padded to ``n_fft``.
    n_fft : int, optional
        Transform length; default: the signal's length.
    window : WindowType, str or array_like, optional
        Applied to the ``n_fft`` (padded) samples; None (default) applies none. An array must
        have ``n_fft`` coefficients.
    dtype : {None, "float64", "float32"}
        Output precision (float64 by default).

    Returns
    -------
    numpy.ndarray
        ``n_fft // 2 + 1`` values.
    """
    return _spectrum(samples, n_fft, window, dtype, magnitude=False)


def compute_magnitude_spectrum(samples: Any, n_fft: Optional[int] = None, window: Any = None,
                               dtype: Any = None) -> np.ndarray:
    """Magnitude spectrum ``|rfft(x * window)|`` of one frame.

    Parameters are as for :func:`compute_power_spectrum`.

    Returns
    -------
    numpy.ndarray
        ``n_fft // 2 + 1`` values.
    """
    return _spectrum(samples, n_fft, window, dtype, magnitude=True)


def _frequencies(n: int, d: float, dtype: Any, real: bool) -> np.ndarray:
    n = _int_param("n", n, 1)
    d = _float_param("d", d)
    if d == 0:
        raise InvalidInputError("d (the sample spacing) must be nonzero")
    return _core.fft_frequencies(n, d, real).astype(resolve_dtype(dtype), copy=False)


def fftfreq(n: int, d: float = 1.0, dtype: Any = None) -> np.ndarray:
    """Frequencies of the ``n`` FFT bins, as ``numpy.fft.fftfreq(n, d)``.

    Parameters
    ----------
    n : int
        Transform length, >= 1.
    d : float
        Sample spacing (``1 / sample_rate`` gives Hz), finite and nonzero.
    dtype : {None, "float64", "float32"}
        Output dtype.

    Returns
    -------
    numpy.ndarray
        ``[0, 1, ..., (n-1)//2, -(n//2), ..., -1] / (n d)``.
    """
    return _frequencies(n, d, dtype, real=False)


def rfftfreq(n: int, d: float = 1.0, dtype: Any = None) -> np.ndarray:
    """Frequencies of the ``n // 2 + 1`` bins of a real FFT, as ``numpy.fft.rfftfreq(n, d)``.

    Parameters are as for :func:`fftfreq`.

    Returns
    -------
    numpy.ndarray
        ``[0, 1, ..., n//2] / (n d)``.
    """
    return _frequencies(n, d, dtype, real=True)


def _shift_input(arr: Any, dtype: Any, dims: tuple) -> np.ndarray:
    a = np.asarray(arr)
    if a.ndim not in dims:
        raise TypeError(f"expected a {' or '.join(f'{d}-D' for d in dims)} array, got shape {a.shape}")
    if a.size == 0:
        raise InvalidInputError("the array is empty")
    kind = a.dtype.kind
    if kind == "c":
        target = a.dtype if dtype is None and a.dtype in (np.complex64, np.complex128) else (
            np.complex64 if dtype is not None and resolve_dtype(dtype) == np.float32 else np.complex128)
    elif kind in "fiub":
        target = a.dtype if dtype is None and a.dtype in (np.float32, np.float64) else resolve_dtype(dtype)
    else:
        raise TypeError(f"expected a numeric array, got dtype {a.dtype}")
    return np.ascontiguousarray(a, dtype=np.dtype(target).newbyteorder("="))


def fftshift(arr: Any, dtype: Any = None) -> np.ndarray:
    """Move the zero frequency to the centre of each axis, as ``numpy.fft.fftshift`` (odd lengths too).

    Parameters
    ----------
    arr : array_like
        1-D or 2-D real or complex values (a :class:`Spectrogram` or :class:`Fft2dResult` too).
    dtype : {None, "float64", "float32"}
        None keeps float32/float64/complex input as it is (integers become float64); otherwise
        the output precision.

    Returns
    -------
    numpy.ndarray
        A new array, each axis rolled by ``n // 2``.
    """
    return _core.fft_shift(_shift_input(arr, dtype, (1, 2)), False).numpy()


def ifftshift(arr: Any, dtype: Any = None) -> np.ndarray:
    """Inverse of :func:`fftshift`, as ``numpy.fft.ifftshift``: each axis rolled by ``-(n // 2)``.

    Parameters are as for :func:`fftshift`.

    Returns
    -------
    numpy.ndarray
    """
    return _core.fft_shift(_shift_input(arr, dtype, (1, 2)), True).numpy()


def fftshift_1d(arr: Any, dtype: Any = None) -> np.ndarray:
    """:func:`fftshift` of a 1-D array (``TypeError`` for other shapes).

    Parameters are as for :func:`fftshift`.

    Returns
    -------
    numpy.ndarray
    """
    return _core.fft_shift(_shift_input(arr, dtype, (1,)), False).numpy()


def ifftshift_1d(arr: Any, dtype: Any = None) -> np.ndarray:
    """:func:`ifftshift` of a 1-D array (``TypeError`` for other shapes).

    Parameters are as for :func:`fftshift`.

    Returns
    -------
    numpy.ndarray
    """
    return _core.fft_shift(_shift_input(arr, dtype, (1,)), True).numpy()
