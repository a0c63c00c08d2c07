"""MDCT and inverse MDCT on the engine's cached FFTW plans."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from . import _core
from ._input import as_signal, resolve_dtype
from .image import _matrix
from .params import MdctParams, _int_param

__all__ = ["mdct", "imdct"]


def _check(params: Any) -> MdctParams:
    if not isinstance(params, MdctParams):
        raise TypeError(f"params must be a MdctParams, got {type(params).__name__}")
    return params


def mdct(samples: Any, params: MdctParams, dtype: Any = None) -> np.ndarray:
    """Modified discrete cosine transform of a signal.

    Parameters
    ----------
    samples : array_like
        1-D float32 or float64 signal of at least ``params.window_size`` samples.
    params : MdctParams
        Window size, hop and window.
    dtype : {None, "float64", "float32"}
        Compute and output dtype.

    Returns
    -------
    numpy.ndarray
        ``(window_size // 2, n_frames)``, ``n_frames = (len - window_size) // hop_size + 1``;
        ``C[k, t] = sum_n x[t hop + n] w[n] cos(pi (2n + 1 + N)(2k + 1) / (4N))``.

    Examples
    --------
    >>> import numpy as np, spectrograms as sg
    >>> x = np.random.default_rng(0).standard_normal(4096)
    >>> p = sg.MdctParams.sine_window(512)
    >>> y = sg.imdct(sg.mdct(x, p), p, original_length=len(x))
    >>> bool(np.allclose(y[256:-256], x[256:-256]))
    True
    """
    p = _check(params)
    x = as_signal(samples, resolve_dtype(dtype))
    return _core.mdct(x, p.window.coefficients_for(p.window_size).tolist(), p.hop_size).numpy()


def imdct(coefficients: Any, params: MdctParams, original_length: Optional[int] = None,
          dtype: Any = None) -> np.ndarray:
    """Inverse MDCT by windowed overlap-add.

    With a Princen-Bradley window (``MdctParams.sine_window``, ``MdctParams.kbd_window``) and hop
    ``window_size // 2``, every sample covered by two frames is reconstructed exactly (up to
    rounding); the first and last ``window_size // 2`` samples are covered by one frame only.

    Parameters
    ----------
    coefficients : array_like
        ``(window_size // 2, n_frames)`` real array, as :func:`mdct` returns.
    params : MdctParams
        The parameters of the analysis.
    original_length : int, optional
        Crop (or zero-pad) the output to this many samples; default
        ``(n_frames - 1) * hop_size + window_size``.
    dtype : {None, "float64", "float32"}
        Compute and output dtype.

    Returns
    -------
    numpy.ndarray
        The 1-D signal.
    """
    p = _check(params)
    arr = _matrix(coefficients, "the coefficients")
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"the coefficients must be real, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise TypeError(f"the coefficients must be 2-D (window_size // 2, n_frames), got shape {arr.shape}")
    target = resolve_dtype(dtype)
    if arr.dtype != target:
        arr = arr.astype(target)
    length = -1 if original_length is None else _int_param("original_length", original_length, 0)
    return _core.imdct(arr, p.window.coefficients_for(p.window_size).tolist(), p.hop_size, length).numpy()
