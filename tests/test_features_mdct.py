"""MDCT/IMDCT against the O(N^2) definition, and perfect reconstruction."""

import pickle

import numpy as np
import pytest

import spectrograms as sg
import features_reference as ref

RNG = np.random.default_rng(23)
X = RNG.standard_normal(5000)


def naive_imdct(C, window, hop):
    two_n = len(window)
    N = two_n // 2
    n, k = np.arange(two_n), np.arange(N)
    basis = np.cos(np.pi * (2 * n[:, None] + 1 + N) * (2 * k[None, :] + 1) / (4 * N))
    out = np.zeros((C.shape[1] - 1) * hop + two_n)
    for t in range(C.shape[1]):
        out[t * hop:t * hop + two_n] += 2 / N * (basis @ C[:, t]) * window
    return out


PARAMS = {
    "sine512": sg.MdctParams.sine_window(512),
    "kbd256": sg.MdctParams.kbd_window(256, 4.0),
    "sine6": sg.MdctParams.sine_window(6),
    "hann_quarter_hop": sg.MdctParams(64, 16, sg.WindowType.hanning),
    "kaiser_odd_half": sg.MdctParams(10, 5, sg.WindowType.kaiser(5.0)),
}


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_mdct_and_imdct_match_the_definition(name):
    p = PARAMS[name]
    w = p.window.coefficients_for(p.window_size)
    C = sg.mdct(X, p)
    expected = ref.mdct(X, w, p.hop_size)
    assert C.shape == expected.shape == (p.n_coefficients, (len(X) - p.window_size) // p.hop_size + 1)
    np.testing.assert_allclose(C, expected, rtol=0, atol=1e-12 * np.abs(expected).max())
    y = sg.imdct(C, p)
    y_ref = naive_imdct(C, w, p.hop_size)
    np.testing.assert_allclose(y, y_ref, rtol=0, atol=1e-12 * np.abs(y_ref).max())


@pytest.mark.parametrize("name", ["sine512", "kbd256", "sine6"])
@pytest.mark.parametrize("dtype,tol", [("float64", 1e-12), ("float32", 1e-4)])
def test_perfect_reconstruction_away_from_the_edges(name, dtype, tol):
    p = PARAMS[name]
    N = p.n_coefficients
    C = sg.mdct(X, p, dtype=dtype)
    y = sg.imdct(C, p, original_length=len(X), dtype=dtype)
    assert y.dtype == np.dtype(dtype) and len(y) == len(X)
    end = (C.shape[1] - 1) * p.hop_size + N  # the last sample two frames cover
    np.testing.assert_allclose(y[N:end], X[N:end], rtol=0, atol=tol)


def test_windows_are_princen_bradley():
    for p in (PARAMS["sine512"], PARAMS["kbd256"], sg.MdctParams.kbd_window(64, 0.0)):
        w = p.window.coefficients_for(p.window_size)
        N = p.n_coefficients
        np.testing.assert_allclose(w[:N] ** 2 + w[N:] ** 2, 1.0, rtol=1e-14)
        np.testing.assert_allclose(w, w[::-1], rtol=0, atol=1e-15)
    np.testing.assert_allclose(PARAMS["sine6"].window.coefficients_for(6), np.sin(np.pi * (np.arange(6) + 0.5) / 6))
    assert pickle.loads(pickle.dumps(PARAMS["kbd256"])) == PARAMS["kbd256"]


def test_original_length_crops_and_pads():
    p = PARAMS["sine6"]
    C = sg.mdct(X[:30], p)
    assert len(sg.imdct(C, p)) == (C.shape[1] - 1) * 3 + 6
    assert len(sg.imdct(C, p, original_length=10)) == 10
    padded = sg.imdct(C, p, original_length=100)
    assert len(padded) == 100 and np.all(padded[(C.shape[1] - 1) * 3 + 6:] == 0)


@pytest.mark.parametrize("call,exc,match", [
    (lambda: sg.MdctParams(7, 3, sg.WindowType.hanning), ValueError, "window_size must be even, got 7"),
    (lambda: sg.MdctParams(2, 1, sg.WindowType.hanning), ValueError, "window_size must be >= 4"),
    (lambda: sg.MdctParams(8, 0, sg.WindowType.hanning), ValueError, "hop_size must be >= 1"),
    (lambda: sg.MdctParams(8, 9, sg.WindowType.hanning), ValueError, "hop_size must be <= window_size"),
    (lambda: sg.MdctParams(8, 4, "sine"), TypeError, "window must be a WindowType"),
    (lambda: sg.MdctParams(8, 4, sg.WindowType.custom(np.ones(6))), sg.DimensionMismatchError, "6 coefficients"),
    (lambda: sg.MdctParams.sine_window(9), ValueError, "window_size must be even, got 9"),
    (lambda: sg.MdctParams.kbd_window(8, float("nan")), ValueError, "alpha must be finite"),
    (lambda: sg.mdct(X[:100], sg.MdctParams.sine_window(128)), ValueError, "fewer than window_size"),
    (lambda: sg.imdct(np.ones((5, 3)), sg.MdctParams.sine_window(8)), sg.DimensionMismatchError,
     "must have window_size/2 = 4 rows"),
    (lambda: sg.mdct(X, sg.MelParams(4)), TypeError, "params must be a MdctParams"),
])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
