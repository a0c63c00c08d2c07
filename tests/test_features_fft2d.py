"""2-D FFTs and the image operations against numpy.fft, scipy.ndimage and numpy references."""

import pickle

import numpy as np
import pytest
import scipy.ndimage

import spectrograms as sg

RNG = np.random.default_rng(17)
SHAPES = [(1, 1), (1, 8), (9, 1), (3, 5), (7, 8), (64, 65), (97, 128)]
TOL = {"float64": 1e-13, "float32": 3e-6}  # relative to the largest value


def close(ours, expected, dtype="float64"):
    ours = np.asarray(ours)
    assert ours.shape == expected.shape
    assert np.abs(ours - expected).max() <= TOL[dtype] * max(np.abs(expected).max(), 1e-300)


@pytest.fixture(autouse=True, scope="module")
def estimate_planner():
    # odd one-off lengths need no measured plans; see test_features_fft.py
    from spectrograms import _core

    effort = _core.planner_effort()
    _core.set_planner_effort("estimate")
    yield
    _core.set_planner_effort(effort)
    sg.clear_fft_plan_cache()


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_fft2d_and_inverse_equal_numpy(shape, dtype):
    x = RNG.standard_normal(shape)
    F = sg.fft2d(x, dtype=dtype)
    assert F.kind == "spectrum" and F.input_shape == shape
    assert F.dtype == (np.complex128 if dtype == "float64" else np.complex64)
    close(F.data, np.fft.rfft2(x), dtype)
    close(F.data, np.fft.fft2(x)[:, : shape[1] // 2 + 1], dtype)
    back = sg.ifft2d(F, dtype=dtype)
    assert back.kind == "image" and back.shape == shape
    close(back.data, x, dtype)
    close(sg.power_spectrum_2d(x, dtype).data, np.abs(np.fft.rfft2(x)) ** 2, dtype)
    close(sg.magnitude_spectrum_2d(x, dtype).data, np.abs(np.fft.rfft2(x)), dtype)


@pytest.mark.parametrize("rows,m,out_cols", [(6, 5, 8), (6, 5, 9), (5, 3, 12), (8, 9, 8), (4, 4, None)])
def test_ifft2d_of_any_half_spectrum_equals_irfft2(rows, m, out_cols):
    S = RNG.standard_normal((rows, m)) + 1j * RNG.standard_normal((rows, m))
    shape = (rows, out_cols if out_cols is not None else 2 * (m - 1))
    close(sg.ifft2d(S, out_cols).data, np.fft.irfft2(S, shape))


def test_results_do_not_depend_on_threads_and_share_memory():
    x = RNG.standard_normal((129, 250))
    one, four = sg.fft2d(x, n_threads=1), sg.fft2d(x, n_threads=4)
    assert np.array_equal(one.data, four.data)
    assert np.array_equal(sg.ifft2d(one, n_threads=1).data, sg.ifft2d(one, n_threads=3).data)
    arr = np.from_dlpack(one)
    assert np.shares_memory(arr, one.data)
    back = pickle.loads(pickle.dumps(one))
    assert np.array_equal(back.data, one.data) and back.input_shape == one.input_shape


def test_fft2d_accepts_images_and_spectrograms():
    img = RNG.integers(0, 256, size=(16, 24), dtype=np.uint8)
    close(sg.fft2d(img).data, np.fft.rfft2(img.astype(float)))
    spec = sg.compute_linear_power_spectrogram(RNG.standard_normal(4000), sg.SpectrogramParams.speech_default(16000))
    close(sg.fft2d(spec).data, np.fft.rfft2(spec.data))


def test_planner():
    planner = sg.Fft2dPlanner("float32")
    assert planner.dtype == "float32"
    x = RNG.standard_normal((32, 48))
    F = planner.fft2d(x)
    assert F.dtype == np.complex64
    close(planner.ifft2d(F).data, x, "float32")
    close(planner.power_spectrum_2d(x).data, np.abs(np.fft.rfft2(x)) ** 2, "float32")
    close(planner.magnitude_spectrum_2d(x).data, np.abs(np.fft.rfft2(x)), "float32")
    assert pickle.loads(pickle.dumps(planner)).dtype == "float32"


# ---- image operations ---------------------------------------------------------------------------------

@pytest.mark.parametrize("kshape", [(1, 1), (3, 3), (5, 7), (4, 6), (2, 1)])
def test_convolve_fft_equals_ndimage_wrap(kshape):
    x = RNG.standard_normal((33, 40))
    k = RNG.standard_normal(kshape)
    close(sg.convolve_fft(x, k), scipy.ndimage.convolve(x, k, mode="wrap"))


@pytest.mark.parametrize("size,sigma", [(1, 1.0), (5, 1.0), (9, 2.0), (7, 0.6)])
def test_gaussian_kernel_blurs_like_gaussian_filter(size, sigma):
    k = sg.gaussian_kernel_2d(size, sigma)
    i = np.arange(size) - size // 2
    expected = np.exp(-(i[:, None] ** 2 + i[None, :] ** 2) / (2 * sigma**2))
    close(k, expected / expected.sum())
    x = RNG.standard_normal((30, 31))
    blurred = scipy.ndimage.gaussian_filter(x, sigma, mode="wrap", truncate=(size // 2) / sigma)
    close(sg.convolve_fft(x, k), blurred)


def _ideal(x, keep):
    R, C = x.shape
    r = np.minimum(np.arange(R), R - np.arange(R))[:, None]
    c = np.minimum(np.arange(C), C - np.arange(C))[None, :]
    d2 = r**2 + c**2
    unit = min(R // 2, C // 2)
    return np.real(np.fft.ifft2(np.fft.fft2(x) * keep(d2, unit)))


@pytest.mark.parametrize("shape", [(32, 32), (31, 45), (64, 17)])
def test_ideal_filters_equal_the_masked_fft(shape):
    x = RNG.standard_normal(shape)
    close(sg.lowpass_filter(x, 0.3), _ideal(x, lambda d2, u: d2 <= (0.3 * u) ** 2))
    close(sg.highpass_filter(x, 0.3), _ideal(x, lambda d2, u: d2 > (0.3 * u) ** 2))
    close(sg.bandpass_filter(x, 0.2, 0.6), _ideal(x, lambda d2, u: (d2 > (0.2 * u) ** 2) & (d2 <= (0.6 * u) ** 2)))
    close(sg.lowpass_filter(x, 0.4) + sg.highpass_filter(x, 0.4), x)
    close(sg.detect_edges_fft(x), sg.highpass_filter(x, 0.1))
    close(sg.sharpen_fft(x, 1.5), x + 1.5 * sg.highpass_filter(x, 0.2))


@pytest.mark.parametrize("call,exc,match", [
    (lambda x: sg.lowpass_filter(x, 1.5), ValueError, "cutoff_fraction must be between 0 and 1"),
    (lambda x: sg.highpass_filter(x, float("nan")), ValueError, "cutoff_fraction must be finite"),
    (lambda x: sg.bandpass_filter(x, 0.5, 0.5), ValueError, "high_cutoff .* must be greater than low_cutoff"),
    (lambda x: sg.sharpen_fft(x, -1.0), ValueError, "amount must be >= 0"),
    (lambda x: sg.convolve_fft(x, np.ones((9, 2))), sg.DimensionMismatchError, "must not be larger than the image"),
    (lambda x: sg.gaussian_kernel_2d(4, 1.0), ValueError, "size must be odd"),
    (lambda x: sg.gaussian_kernel_2d(5, 0.0), ValueError, "sigma must be > 0"),
    (lambda x: sg.fft2d(x + 1j), TypeError, "must hold real numbers"),
    (lambda x: sg.fft2d(np.ones((2, 2, 2))), TypeError, "must be 2-D"),
    (lambda x: sg.fft2d(np.ones((0, 3))), ValueError, "empty"),
    (lambda x: sg.ifft2d(np.ones((3, 1), complex)), ValueError, "output_ncols must be given"),
    (lambda x: sg.ifft2d(np.ones((3, 3), complex), 0), ValueError, "output_ncols must be >= 1"),
])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call(np.ones((8, 8)))
