"""The 1-D FFT family against numpy.fft and scipy.fft, on primes and powers of 2, 3, 5 and 7."""

import numpy as np
import pytest
import scipy.fft

import spectrograms as sg

LENGTHS = [1, 2, 3, 5, 7, 8, 13, 17, 27, 64, 97, 125, 243, 343, 1000, 1024, 2187, 3125, 4096, 7919]
RNG = np.random.default_rng(5)
# float64 results agree with pocketfft to a few ulps of the largest value; float32 to a few 1e-7
TOL = {"float64": 1e-13, "float32": 2e-6}


@pytest.fixture(autouse=True, scope="module")
def estimate_planner():
    # FFTW_MEASURE plans a prime length such as 7919 for seconds; these one-off lengths need no
    # tuned plan. The cache is cleared afterwards so that no other test meets these plans.
    from spectrograms import _core

    effort = _core.planner_effort()
    _core.set_planner_effort("estimate")
    yield
    _core.set_planner_effort(effort)
    sg.clear_fft_plan_cache()


def close(ours, expected, dtype):
    scale = max(np.abs(expected).max(), 1e-300)
    assert ours.shape == expected.shape
    assert np.abs(ours - expected).max() <= TOL[dtype] * scale * max(1, np.log2(max(len(expected), 2)))


@pytest.mark.parametrize("n", LENGTHS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_fft_rfft_irfft(n, dtype):
    x = RNG.standard_normal(n)
    z = x + 1j * RNG.standard_normal(n)
    X = sg.compute_fft(x, dtype=dtype)
    assert X.dtype == (np.complex128 if dtype == "float64" else np.complex64)
    close(X, np.fft.fft(x), dtype)
    close(sg.compute_fft(z, dtype=dtype), scipy.fft.fft(z), dtype)
    R = sg.compute_rfft(x, dtype=dtype)
    close(R, np.fft.rfft(x), dtype)
    close(sg.compute_irfft(np.fft.rfft(x), n, dtype=dtype), x, dtype)
    close(sg.compute_irfft(R, n, dtype=dtype), np.fft.irfft(R.astype(np.complex128), n), dtype)


@pytest.mark.parametrize("n,m", [(16, 10), (10, 16), (31, 64), (64, 31)])
def test_crop_and_zero_pad_like_numpy(n, m):
    x = RNG.standard_normal(m)
    close(sg.compute_fft(x, n), np.fft.fft(x, n), "float64")
    close(sg.compute_rfft(x, n), np.fft.rfft(x, n), "float64")
    X = np.fft.rfft(RNG.standard_normal(m))
    close(sg.compute_irfft(X, n), np.fft.irfft(X, n), "float64")
    close(sg.compute_irfft(X), np.fft.irfft(X), "float64")


@pytest.mark.parametrize("n", [7, 64, 243, 1000])
def test_power_and_magnitude_spectrum(n):
    x = RNG.standard_normal(n)
    close(sg.compute_power_spectrum(x), np.abs(np.fft.rfft(x)) ** 2, "float64")
    w = np.hanning(n)
    close(sg.compute_power_spectrum(x, window=sg.WindowType.hanning), np.abs(np.fft.rfft(x * w)) ** 2, "float64")
    close(sg.compute_magnitude_spectrum(x, 2 * n, window=np.blackman(2 * n)),
          np.abs(np.fft.rfft(np.concatenate([x, np.zeros(n)]) * np.blackman(2 * n))), "float64")
    assert sg.compute_magnitude_spectrum(x, dtype="float32").dtype == np.float32


@pytest.mark.parametrize("n", [1, 2, 3, 8, 9, 100, 101])
@pytest.mark.parametrize("d", [1.0, 0.5, 1 / 22050])
def test_frequencies_equal_numpy(n, d):
    np.testing.assert_array_equal(sg.fftfreq(n, d), np.fft.fftfreq(n, d))
    np.testing.assert_array_equal(sg.rfftfreq(n, d), np.fft.rfftfreq(n, d))
    assert sg.fftfreq(n, d, dtype="float32").dtype == np.float32


@pytest.mark.parametrize("shape", [(1,), (2,), (5,), (8,), (9,), (3, 4), (5, 7), (4, 4), (1, 9), (6, 1)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128, np.int64])
def test_shifts_equal_numpy_for_odd_and_even_lengths(shape, dtype):
    a = (np.arange(np.prod(shape)) * (1 + 1j if np.dtype(dtype).kind == "c" else 1)).astype(dtype).reshape(shape)
    np.testing.assert_array_equal(sg.fftshift(a), np.fft.fftshift(a))
    np.testing.assert_array_equal(sg.ifftshift(a), np.fft.ifftshift(a))
    np.testing.assert_array_equal(sg.ifftshift(sg.fftshift(a)), a)
    if len(shape) == 1:
        np.testing.assert_array_equal(sg.fftshift_1d(a), np.fft.fftshift(a))
        np.testing.assert_array_equal(sg.ifftshift_1d(a), np.fft.ifftshift(a))
    if np.dtype(dtype).kind in "fc":
        assert sg.fftshift(a).dtype == dtype


def test_plan_cache_is_used_and_can_be_cleared():
    sg.clear_fft_plan_cache()
    sg.compute_rfft(RNG.standard_normal(210))
    created = sg.fft_plan_cache_info()["created"]
    sg.compute_power_spectrum(RNG.standard_normal(210))
    info = sg.fft_plan_cache_info()
    assert info["created"] == created and info["hits"] >= 1


def test_bad_input():
    with pytest.raises(TypeError, match="floating-point"):
        sg.compute_rfft(np.arange(8))
    with pytest.raises(TypeError, match="1-D"):
        sg.compute_fft(np.ones((2, 4)))
    with pytest.raises(ValueError, match="empty"):
        sg.compute_fft(np.array([]))
    with pytest.raises(ValueError, match="n_fft must be >= 1"):
        sg.compute_rfft(np.ones(4), 0)
    with pytest.raises(ValueError, match="n_fft must be given"):
        sg.compute_irfft(np.ones(1, complex))
    with pytest.raises(sg.DimensionMismatchError, match="the custom window has 4 coefficients, but n_fft is 8"):
        sg.compute_power_spectrum(np.ones(8), window=np.ones(4))
    with pytest.raises(ValueError, match="d \\(the sample spacing\\) must be nonzero"):
        sg.fftfreq(8, 0.0)
    with pytest.raises(ValueError, match="d must be finite"):
        sg.rfftfreq(8, float("nan"))
    with pytest.raises(TypeError, match="expected a 1-D array"):
        sg.fftshift_1d(np.ones((2, 2)))
    with pytest.raises(TypeError, match="expected a 1-D or 2-D array"):
        sg.fftshift(np.ones((2, 2, 2)))
