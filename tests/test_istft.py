"""Inverse STFT: perfect reconstruction, parity with librosa.istft, dtypes and input checks."""

from __future__ import annotations

import numpy as np
import pytest

import spectrograms as sg

librosa = pytest.importorskip("librosa")


def _params(n_fft: int, hop: int, centre: bool = True, window=sg.WindowType.hanning) -> sg.SpectrogramParams:
    return sg.SpectrogramParams(sg.StftParams(n_fft, hop, window, centre), 16000.0)


ROUND_TRIP = [
    (256, 64, 7919), (256, 32, 1001), (400, 100, 4000), (511, 127, 3001), (512, 128, 512),
    (1024, 256, 7919), (1024, 1, 1500), (2048, 512, 7919), (2048, 256, 2049),
]


@pytest.mark.parametrize("n_fft, hop, length", ROUND_TRIP)
def test_round_trip_float64(n_fft, hop, length, make_signal):
    x = make_signal(length)
    stft = sg.compute_stft(x, _params(n_fft, hop))
    y = sg.compute_istft(stft, n_fft, hop, sg.WindowType.hanning, center=True, length=length)
    assert y.dtype == np.float64
    assert y.shape == (length,)
    np.testing.assert_allclose(y, x, rtol=0, atol=1e-12)


@pytest.mark.parametrize("n_fft, hop, length", [(512, 128, 7919), (1024, 256, 3001)])
def test_round_trip_from_matrix_and_default_window(n_fft, hop, length, make_signal):
    x = make_signal(length)
    matrix = sg.compute_stft(x, _params(n_fft, hop)).data
    y = sg.compute_istft(matrix, n_fft, hop, length=length)
    np.testing.assert_allclose(y, x, rtol=0, atol=1e-12)


@pytest.mark.parametrize("n_fft, hop, length", [(512, 128, 7919), (2048, 512, 3001), (400, 100, 1001)])
def test_round_trip_float32(n_fft, hop, length, make_signal):
    x = make_signal(length, dtype=np.float32)
    stft = sg.compute_stft(x, _params(n_fft, hop), dtype="float32")
    assert stft.data.dtype == np.complex64
    y = sg.compute_istft(stft, n_fft, hop, length=length)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, x, rtol=0, atol=1e-5 * np.abs(x).max())


LIBROSA_CASES = [
    # (n_fft, hop, length, centre, window)
    (512, 128, 7919, True, "hanning"),
    (512, 256, 7919, True, "hanning"),
    (1024, 256, 1001, True, "hamming"),
    (400, 160, 4000, True, "blackman"),
    (511, 100, 3001, True, "hanning"),
    (256, 64, 2000, False, "hanning"),
    (1024, 256, 7919, False, "hamming"),
    (2048, 512, 7919, True, "hanning"),
]


@pytest.mark.parametrize("use_length", [False, True])
@pytest.mark.parametrize("n_fft, hop, length, centre, window", LIBROSA_CASES)
def test_matches_librosa_istft(n_fft, hop, length, centre, window, use_length, make_signal, assert_close):
    wt = getattr(sg.WindowType, window)
    w = {"hanning": np.hanning, "hamming": np.hamming, "blackman": np.blackman}[window](n_fft)
    matrix = sg.compute_stft(make_signal(length), _params(n_fft, hop, centre, wt)).data
    kwargs = {"length": length} if use_length else {}
    y = sg.compute_istft(matrix, n_fft, hop, wt, center=centre, **kwargs)
    expected = librosa.istft(matrix, hop_length=hop, n_fft=n_fft, window=w, center=centre, **kwargs)
    assert_close(y, expected, "float64", what="istft")


@pytest.mark.parametrize("length", [4000, 5000, 6000])
def test_length_trims_or_zero_pads_like_librosa(length, make_signal, assert_close):
    matrix = sg.compute_stft(make_signal(5000), _params(512, 128)).data
    y = sg.compute_istft(matrix, 512, 128, length=length)
    expected = librosa.istft(matrix, hop_length=128, n_fft=512, window=np.hanning(512), center=True, length=length)
    assert y.shape == (length,)
    assert_close(y, expected, "float64")


def test_window_as_array(make_signal):
    matrix = sg.compute_stft(make_signal(3000), _params(512, 128)).data
    a = sg.compute_istft(matrix, 512, 128, sg.WindowType.hanning, length=3000)
    b = sg.compute_istft(matrix, 512, 128, np.hanning(512), length=3000)
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-14)


@pytest.mark.parametrize("matrix_dtype, dtype, expected", [
    (np.complex128, None, np.float64),
    (np.complex64, None, np.float32),
    (np.complex128, "float32", np.float32),
    (np.complex64, "float64", np.float64),
])
def test_dtype_follows_input_unless_given(matrix_dtype, dtype, expected, make_signal):
    matrix = sg.compute_stft(make_signal(3000), _params(512, 128)).data.astype(matrix_dtype)
    y = sg.compute_istft(matrix, 512, 128, dtype=dtype, length=3000)
    assert y.dtype == expected
    np.testing.assert_allclose(y, make_signal(3000), rtol=0, atol=1e-5 * 4)


def test_real_input_raises_type_error(make_signal):
    power = sg.compute_linear_magnitude_spectrogram(make_signal(3000), _params(512, 128)).data
    with pytest.raises(TypeError, match=r"complex.*got dtype float64"):
        sg.compute_istft(power, 512, 128)


def test_wrong_row_count_raises_dimension_mismatch(make_signal):
    matrix = sg.compute_stft(make_signal(3000), _params(512, 128)).data
    with pytest.raises(sg.DimensionMismatchError, match=r"257.*got 256"):
        sg.compute_istft(matrix[:-1], 512, 128)
    with pytest.raises(ValueError):
        sg.compute_istft(matrix, 1024, 128)


def test_torch_complex_tensor_input(make_signal):
    torch = pytest.importorskip("torch")
    x = make_signal(3000)
    matrix = sg.compute_stft(x, _params(512, 128)).data
    expected = sg.compute_istft(matrix, 512, 128, length=3000)
    y = sg.compute_istft(torch.from_numpy(matrix.copy()), 512, 128, length=3000)
    assert isinstance(y, np.ndarray) and y.dtype == np.float64
    np.testing.assert_array_equal(y, expected)
    y32 = sg.compute_istft(torch.from_numpy(matrix.astype(np.complex64)), 512, 128, length=3000)
    assert y32.dtype == np.float32
    np.testing.assert_allclose(y32, x, rtol=0, atol=1e-5 * np.abs(x).max())
