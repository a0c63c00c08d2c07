"""Audio in, audio out: load -> STFT -> mask -> iSTFT -> file, Griffin-Lim, batch iSTFT."""

from __future__ import annotations

import numpy as np
import pytest

import spectrograms as sg

sf = pytest.importorskip("soundfile")
librosa = pytest.importorskip("librosa")

SR = 22050
N_FFT, HOP = 1024, 256


def _params(n_fft=N_FFT, hop=HOP, sr=SR):
    return sg.SpectrogramParams(sg.StftParams(n_fft, hop, sg.WindowType.hanning), sr)


def _tone_mix(seconds=2.0, sr=SR, seed=0):
    t = np.arange(int(seconds * sr)) / sr
    low = 0.6 * np.sin(2 * np.pi * 220 * t) + 0.3 * np.sin(2 * np.pi * 330 * t)
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal(t.size)
    spec = np.fft.rfft(noise)
    f = np.fft.rfftfreq(t.size, 1 / sr)
    spec[(f < 3000) | (f > 6000)] = 0  # band-limited noise, far from the tones
    high = 0.3 * np.fft.irfft(spec, n=t.size) / np.std(np.fft.irfft(spec, n=t.size))
    return low, high


def _sdr(reference, estimate):
    return 10 * np.log10(np.sum(reference**2) / np.sum((reference - estimate) ** 2))


@pytest.mark.parametrize("channels", [1, 2])
def test_round_trip_through_files(tmp_path, channels):
    rng = np.random.default_rng(channels)
    audio = (0.5 * rng.standard_normal((channels, 30011))).astype(np.float32)  # odd length
    src = tmp_path / "in.wav"
    sg.save(src, audio if channels > 1 else audio[0], SR, subtype="FLOAT")
    x, sr = sg.load(src, mono=False)
    assert sr == SR and x.shape == (channels, 30011)
    p = _params()
    stft = sg.compute_stft_batch(x, p, dtype="float32")          # (C, F, T): channels through the batch API
    assert stft.shape[:2] == (channels, N_FFT // 2 + 1)
    mask = np.ones(stft.shape, dtype=np.float32)                  # the identity mask
    y = sg.compute_istft_batch(stft.data * mask, N_FFT, HOP, length=x.shape[-1])
    assert y.shape == x.shape and y.dtype == np.float32
    out = tmp_path / "out.wav"
    sg.save(out, y, SR, subtype="FLOAT")
    back, _ = sg.load(out, mono=False)
    np.testing.assert_allclose(back, x, atol=1e-6)


def test_oracle_ratio_mask_separates_bands():
    low, high = _tone_mix()
    mix = low + high
    p = _params()
    X = sg.compute_stft(mix, p).data
    L = np.abs(sg.compute_stft(low, p).data)
    H = np.abs(sg.compute_stft(high, p).data)
    masks = np.stack([L / (L + H + 1e-12), H / (L + H + 1e-12)])   # ideal ratio masks, (2, F, T)
    est = sg.compute_istft_batch(masks * X[None], N_FFT, HOP, length=mix.size)
    assert _sdr(low, est[0]) >= 20.0
    assert _sdr(high, est[1]) >= 20.0


def test_griffin_lim_converges_at_least_as_well_as_librosa():
    low, high = _tone_mix(1.5)
    x = low + 0.3 * high
    p = _params()
    S = np.abs(sg.compute_stft(x, p).data)
    window = np.hanning(N_FFT)

    def spectral_convergence(y):
        Z = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP, window=window, pad_mode="constant"))
        return np.linalg.norm(Z - S) / np.linalg.norm(S)

    ours = sg.griffin_lim(S, p, n_iter=32, momentum=0.99, length=x.size, init=None)
    ref = librosa.griffinlim(S, n_iter=32, momentum=0.99, hop_length=HOP, n_fft=N_FFT, window=window,
                             init=None, length=x.size, pad_mode="constant")
    assert ours.shape == x.shape
    assert spectral_convergence(ours) <= spectral_convergence(ref) * (1 + 1e-9)
    np.testing.assert_allclose(ours, ref, atol=1e-9)  # the same algorithm, the same numbers
    # random initial phases: reproducible with a seed, and better than no iterations at all
    a = sg.griffin_lim(S, p, n_iter=16, seed=3, length=x.size)
    b = sg.griffin_lim(S, p, n_iter=16, seed=3, length=x.size)
    np.testing.assert_array_equal(a, b)
    assert spectral_convergence(a) < spectral_convergence(sg.griffin_lim(S, p, n_iter=0, seed=3, length=x.size))


def test_griffin_lim_float32_and_spectrogram_input():
    x = _tone_mix(1.0)[0].astype(np.float32)
    p = _params()
    mag = sg.compute_linear_magnitude_spectrogram(x, p, dtype="float32")
    y = sg.griffin_lim(mag, p, n_iter=8, init=None, length=x.size)
    assert y.dtype == np.float32 and y.shape == x.shape
    y64 = sg.griffin_lim(mag.data.astype(np.float64), p, n_iter=8, init=None, length=x.size)
    np.testing.assert_allclose(y, y64, atol=1e-3)


@pytest.mark.parametrize("n_threads", [1, 2, 3])
def test_istft_batch_equals_single_and_librosa(n_threads):
    rng = np.random.default_rng(5)
    xs = rng.standard_normal((5, 9000))
    p = _params()
    X = sg.compute_stft_batch(xs, p)
    batch = sg.compute_istft_batch(X, N_FFT, HOP, n_threads=n_threads)
    for i in range(5):
        single = sg.compute_istft(X[i], N_FFT, HOP)
        np.testing.assert_array_equal(batch[i], single)
        ref = librosa.istft(X.data[i], hop_length=HOP, n_fft=N_FFT, window=np.hanning(N_FFT))
        np.testing.assert_allclose(batch[i], ref, atol=1e-10)
    four_d = sg.compute_istft_batch(np.stack([X.data, X.data]), N_FFT, HOP, length=9000)
    assert four_d.shape == (2, 5, 9000)
    np.testing.assert_allclose(four_d[1, 3], xs[3], atol=1e-12)


def test_istft_takes_torch_and_dlpack_inputs():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).standard_normal(5000)
    p = _params()
    stft = sg.compute_stft(x, p)
    t = torch.from_dlpack(stft)
    assert t.dtype == torch.complex128 and t.data_ptr() == stft.data.ctypes.data  # zero-copy
    np.testing.assert_allclose(sg.compute_istft(t, N_FFT, HOP, length=x.size), x, atol=1e-12)
    batch = torch.from_numpy(np.stack([stft.data, stft.data]))
    np.testing.assert_allclose(sg.compute_istft_batch(batch, N_FFT, HOP, length=x.size)[1], x, atol=1e-12)


def test_magnitude_tensor_is_zero_copy():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(2).standard_normal(5000).astype(np.float32)
    p = _params()
    mag = sg.compute_linear_magnitude_spectrogram(x, p, dtype="float32")
    t = torch.from_dlpack(mag)
    assert t.data_ptr() == mag.data.ctypes.data
    stft = sg.compute_stft(x, p, dtype="float32")
    np.testing.assert_allclose(mag.data, stft.magnitude(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.angle(stft.data), stft.phase())


# ---- bad input ------------------------------------------------------------------------------------


def test_real_array_to_istft():
    with pytest.raises(TypeError, match="stft_matrix must be complex.*Griffin-Lim"):
        sg.compute_istft(np.zeros((513, 10)), 1024, 256)


def test_mask_of_the_wrong_shape():
    X = sg.compute_stft_batch(np.zeros((2, 4000)), _params()).data
    with pytest.raises(ValueError, match="must have n_fft/2\\+1 = 513 rows for n_fft = 1024, got 512"):
        sg.compute_istft_batch(X[:, :512, :], N_FFT, HOP)
    with pytest.raises(ValueError, match="operands could not be broadcast"):
        X * np.ones((3, 513, 5))  # numpy reports a broadcast error before we see it


def test_istft_batch_of_wrong_rank():
    with pytest.raises(TypeError, match=r"3-D or 4-D .* got shape \(513, 10\)"):
        sg.compute_istft_batch(np.zeros((513, 10), complex), N_FFT, HOP)


def test_griffin_lim_errors():
    p = _params()
    with pytest.raises(ValueError, match="513 rows for n_fft = 1024, got 100"):
        sg.griffin_lim(np.ones((100, 10)), p)
    with pytest.raises(TypeError, match="real floating-point"):
        sg.griffin_lim(np.ones((513, 10), complex), p)
    with pytest.raises(ValueError, match="momentum must be finite and >= 0"):
        sg.griffin_lim(np.ones((513, 10)), p, momentum=-1)
    with pytest.raises(ValueError, match="init must be 'random' or None"):
        sg.griffin_lim(np.ones((513, 10)), p, init="zeros")
    mel = sg.compute_mel_power_spectrogram(np.ones(4000), p, sg.MelParams(20, 0.0, 8000.0))
    with pytest.raises(ValueError, match="linear magnitude spectrogram, got a mel power one"):
        sg.griffin_lim(mel, p)


@pytest.mark.parametrize("case", ["missing", "corrupt", "empty", "directory"])
def test_load_errors(tmp_path, case):
    path = tmp_path / "x.wav"
    if case == "corrupt":
        path.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt garbage" + bytes(range(200)))
    elif case == "empty":
        path.write_bytes(b"")
    elif case == "directory":
        path.mkdir()
    with pytest.raises(sg.AudioReadError, match="x.wav"):
        sg.load(path)
