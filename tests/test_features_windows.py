"""Kaiser and Gaussian windows equal numpy/scipy for every parameter (the old package's Kaiser
was wrong above beta 3.75)."""

import numpy as np
import pytest
import scipy.signal

import spectrograms as sg
import features_reference as ref

LENGTHS = [1, 2, 3, 16, 255, 512, 2048]
# Far into the tails (values below 1e-20) a coefficient is exp(-a) or I0(x)/I0(beta) with a or x in
# the hundreds, where the rounding of the argument alone is a few 1e-14 relative.
RTOL = 5e-13


@pytest.mark.parametrize("beta", [0.0, 0.5, 1.0, 3.75, 3.76, 5.0, 8.6, 12.0, 14.0, 20.0, 38.0, 60.0])
@pytest.mark.parametrize("n", LENGTHS)
def test_kaiser_equals_numpy(n, beta):
    np.testing.assert_allclose(sg.WindowType.make_kaiser(n, beta), np.kaiser(n, beta), rtol=RTOL, atol=1e-300)
    w32 = sg.make_kaiser(n, beta, dtype="float32")
    assert w32.dtype == np.float32
    np.testing.assert_allclose(w32, np.kaiser(n, beta), rtol=2e-7, atol=1e-37)


@pytest.mark.parametrize("std", [0.3, 1.0, 2.5, 7.0, 100.0, 1e4])
@pytest.mark.parametrize("n", LENGTHS)
def test_gaussian_equals_scipy(n, std):
    expected = scipy.signal.windows.gaussian(n, std, sym=True)
    np.testing.assert_allclose(sg.WindowType.make_gaussian(n, std), expected, rtol=RTOL, atol=1e-300)


@pytest.mark.parametrize("window,coefficients", [
    (sg.WindowType.kaiser(14.0), np.kaiser(512, 14.0)),
    (sg.WindowType.gaussian(60.0), scipy.signal.windows.gaussian(512, 60.0)),
])
def test_the_plan_uses_those_coefficients(window, coefficients):
    x = np.random.default_rng(3).standard_normal(3000)
    params = sg.SpectrogramParams(sg.StftParams(512, 128, window), 16000.0)
    out = sg.compute_linear_power_spectrogram(x, params).data
    expected = ref.power(x, 512, 128, coefficients)
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-10 * expected.max())


@pytest.mark.parametrize("make,args,match", [
    (sg.WindowType.kaiser, (-1.0,), "kaiser beta must be >= 0"),
    (sg.WindowType.kaiser, (float("nan"),), "kaiser beta must be finite"),
    (sg.WindowType.gaussian, (0.0,), "gaussian std must be > 0"),
    (sg.WindowType.gaussian, (float("inf"),), "gaussian std must be finite"),
])
def test_bad_window_parameters(make, args, match):
    with pytest.raises(ValueError, match=match):
        make(*args)
