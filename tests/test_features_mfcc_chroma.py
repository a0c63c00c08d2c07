"""MFCC and chromagram: against the API.md §5 formulas and, for the presets, against librosa."""

import numpy as np
import pytest
import scipy.signal

import spectrograms as sg
import features_reference as ref

librosa = pytest.importorskip("librosa")

SR = 22050
RNG = np.random.default_rng(99)
NOISE = RNG.standard_normal(SR)
# noise with a silent second half, so that the top_db clamp of the librosa convention matters
QUIET_END = np.concatenate([RNG.standard_normal(SR // 2), np.zeros(SR // 2)])


def periodic_hann(n):
    return sg.WindowType.custom(scipy.signal.get_window("hann", n))


def close_to(ours, expected, rel):
    """|ours - expected| <= rel * max|expected| everywhere (coefficients cross zero)."""
    assert ours.shape == expected.shape
    err = np.abs(ours - expected).max() / np.abs(expected).max()
    assert err <= rel, err


# ---- MFCC ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("n_fft,hop,n_mels,n_mfcc", [(512, 160, 40, 13), (2048, 512, 128, 20), (400, 100, 26, 26)])
def test_mfcc_default_matches_the_formula(n_fft, hop, n_mels, n_mfcc):
    out = sg.compute_mfcc(NOISE, sg.StftParams(n_fft, hop), SR, n_mels, sg.MfccParams(n_mfcc))
    expected = ref.mfcc(NOISE, SR, n_fft, hop, np.hanning(n_fft), n_mels, n_mfcc, lifter=22)
    close_to(out.data, expected, 1e-12)
    assert out.n_mfcc == n_mfcc and out.shape == expected.shape
    np.testing.assert_allclose(out.times, np.arange(out.n_frames) * hop / SR, rtol=1e-15)


def test_mfcc_without_lifter_and_orthonormal_dct():
    out = sg.compute_mfcc(NOISE, sg.StftParams(512, 256), SR, 40, sg.MfccParams(13, dct_norm="ortho", lifter=0))
    plain = ref.mfcc(NOISE, SR, 512, 256, np.hanning(512), 40, 13, lifter=0)
    scale = np.full(13, np.sqrt(2 / 40))
    scale[0] = np.sqrt(1 / 40)
    close_to(out.data, plain * scale[:, None], 1e-12)


@pytest.mark.parametrize("y", [NOISE, QUIET_END], ids=["noise", "quiet_end"])
@pytest.mark.parametrize("n_mfcc", [13, 20])
def test_mfcc_librosa_preset_equals_librosa(y, n_mfcc):
    stft = sg.StftParams(2048, 512, periodic_hann(2048))
    out = sg.compute_mfcc(y, stft, SR, 128, sg.MfccParams.librosa(n_mfcc))
    close_to(out.data, librosa.feature.mfcc(y=y, sr=SR, n_mfcc=n_mfcc), 1e-6)


@pytest.mark.filterwarnings("ignore:Empty filters detected")  # 128 mels at n_fft 400, as torchaudio has it
def test_mfcc_torchaudio_preset_is_the_librosa_pipeline_with_htk_mels():
    # torchaudio.transforms.MFCC's pipeline (HTK mel without norm, AmplitudeToDB(top_db=80),
    # ortho DCT) expressed in librosa; torchaudio itself pads by reflection (see docs/features.md).
    stft = sg.StftParams(400, 200, periodic_hann(400))
    out = sg.compute_mfcc(QUIET_END, stft, 16000, 128, sg.MfccParams.torchaudio())
    mel = librosa.feature.melspectrogram(y=QUIET_END, sr=16000, n_fft=400, hop_length=200, n_mels=128, htk=True,
                                         norm=None, dtype=np.float64)
    expected = librosa.feature.mfcc(S=librosa.power_to_db(mel), n_mfcc=40)
    close_to(out.data, expected, 1e-6)


def test_mel_librosa_preset_equals_melspectrogram():
    params = sg.SpectrogramParams(sg.StftParams(2048, 512, periodic_hann(2048)), SR)
    out = sg.compute_mel_power_spectrogram(NOISE, params, sg.MelParams(128, norm="slaney"))
    # librosa builds its mel filterbank in float32 by default: agreement is at that level
    close_to(out.data, librosa.feature.melspectrogram(y=NOISE, sr=SR), 1e-6)


def test_mfcc_plan_compute_frame_is_a_column_of_compute():
    plan = sg.SpectrogramPlanner().mfcc_plan(sg.SpectrogramParams(sg.StftParams(512, 128), SR), 40,
                                             sg.MfccParams.librosa())
    full = plan.compute(QUIET_END).data
    assert np.array_equal(plan.compute_frame(QUIET_END, 5), full[:, 5])
    with pytest.raises(IndexError):
        plan.compute_frame(QUIET_END, full.shape[1])
    assert plan.output_shape(len(QUIET_END)) == full.shape
    assert plan.n_mels == 40


# ---- chroma --------------------------------------------------------------------------------------

@pytest.mark.parametrize("n_fft,hop,sr", [(2048, 512, 22050), (4096, 1024, 44100), (1023, 256, 8000)])
def test_chroma_matches_the_formula(n_fft, hop, sr):
    out = sg.compute_chromagram(NOISE, sg.StftParams(n_fft, hop), sr, sg.ChromaParams())
    expected = ref.chroma(NOISE, sr, n_fft, hop, np.hanning(n_fft))
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(np.linalg.norm(out.data, axis=0), 1.0, rtol=1e-14)


def test_chroma_weights_rows_sum_to_one_and_tuning_moves_them():
    params = sg.SpectrogramParams(sg.StftParams(4096, 1024), SR)
    for tuning in (440.0, 432.0):
        cp = sg.ChromaParams(tuning=tuning, f_min=50.0, f_max=5000.0)
        W = sg.SpectrogramPlanner().chroma_plan(params, cp)._engine.filterbank()
        np.testing.assert_allclose(W, ref.chroma_weights(SR, 4096, tuning, 50.0, 5000.0), rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(W.sum(axis=1), 1.0, rtol=1e-14)


@pytest.mark.parametrize("norm", ["l1", "max", "none"])
def test_chroma_other_normalisations(norm):
    stft = sg.StftParams(2048, 512)
    raw = ref.chroma_weights(SR, 2048, 440.0, 32.7, 4186.0) @ np.abs(ref.stft(NOISE, 2048, 512, np.hanning(2048)))
    size = {"l1": np.abs(raw).sum(axis=0), "max": np.abs(raw).max(axis=0), "none": np.ones(raw.shape[1])}[norm]
    out = sg.compute_chromagram(NOISE, stft, SR, sg.ChromaParams(norm=norm))
    np.testing.assert_allclose(out.data, raw / size, rtol=1e-12)


def test_chroma_labels_pitch_and_silence():
    t = np.arange(SR) / SR
    c = sg.compute_chromagram(np.sin(2 * np.pi * 261.6256 * t), sg.StftParams(4096, 1024), SR)
    assert c.labels == ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
    assert c.labels[int(c.data[:, c.n_frames // 2].argmax())] == "C"
    silent = sg.compute_chromagram(np.zeros(5000), sg.StftParams(1024, 256), SR)
    assert np.all(silent.data == 0)
    assert sg.ChromaParams.music_standard() == sg.ChromaParams()


def _cpu_flag(flag: str) -> bool:
    try:
        with open("/proc/cpuinfo") as f:
            return f" {flag}" in f.read()
    except OSError:
        return False


def _has_avx2() -> bool:
    return _cpu_flag("avx2")


def _has_avx512f() -> bool:
    return _cpu_flag("avx512f")


# Float64 frames of 2048 points and more whose filterbank tile has no mirror bins (chroma; mel
# below a quarter of the rate) take the column path; with a periodic cosine window (librosa's
# Hann, Hamming) it transforms the raw frames, read in place where FFTW can (16-byte aligned,
# inside a contiguous signal) and copied where not, and windows in the frequency domain.
@pytest.mark.parametrize("window", ["hann", "hamming"])
@pytest.mark.parametrize("n_fft,hop,sr", [(2048, 512, 22050), (4096, 1024, 44100), (2048, 301, 22050),
                                       (2400, 600, 22050)])
def test_cosine_windows_in_the_frequency_domain(window, n_fft, hop, sr, tmp_path):
    w = scipy.signal.get_window(window, n_fft)
    stft = sg.StftParams(n_fft, hop, sg.WindowType.custom(w))
    out = sg.compute_chromagram(NOISE, stft, sr).data
    np.testing.assert_allclose(out, ref.chroma(NOISE, sr, n_fft, hop, w), rtol=1e-12, atol=1e-14)
    params = sg.SpectrogramParams(stft, sr)
    mel = sg.MelParams(40, 0.0, sr / 4 - 100, "slaney")
    mel_power = sg.compute_mel_power_spectrogram(NOISE, params, mel).data
    weights = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=40, fmin=0.0, fmax=sr / 4 - 100, dtype=np.float64)
    close_to(mel_power, weights @ ref.power(NOISE, n_fft, hop, w), 1e-12)
    # log-Hz from 5 Hz: its lowest band interpolates between bins 0 and 1, so the sum reads X[-1]
    loghz = sg.compute_loghz_power_spectrogram(NOISE, params, loghz_params=sg.LogHzParams(32, 5.0, sr / 4 - 100)).data
    close_to(loghz, ref.loghz(ref.power(NOISE, n_fft, hop, w), sr, n_fft, 32, 5.0, sr / 4 - 100), 1e-12)
    # every frame at an odd 8-byte offset, then strided: the same bits
    shifted = np.empty(len(NOISE) + 1)
    shifted[1:] = NOISE
    parent = np.full(3 * len(NOISE), np.nan)
    parent[::3] = NOISE
    for x in (shifted[1:], parent[::3]):
        assert np.array_equal(sg.compute_chromagram(x, stft, sr).data, out)
        assert np.array_equal(sg.compute_mel_power_spectrogram(x, params, mel).data, mel_power)
    # a read-only mapping: FFTW reads frames in place and must not write there
    path = tmp_path / "noise.f64"
    NOISE.tofile(path)
    mapped = np.memmap(path, dtype=np.float64, mode="r")
    assert np.array_equal(sg.compute_chromagram(mapped, stft, sr).data, out)
    assert np.array_equal(np.fromfile(path), NOISE)
    plan = sg.SpectrogramPlanner().chroma_plan(params, sg.ChromaParams())
    if _has_avx2():  # the path this test is about is taken (the symmetric window keeps the product)
        assert plan._engine.column_path and plan._engine.frequency_window
        symmetric = sg.SpectrogramParams(sg.StftParams(n_fft, hop, sg.WindowType.hanning), sr)
        assert not sg.SpectrogramPlanner().chroma_plan(symmetric)._engine.frequency_window
    for t in (0, 1, out.shape[1] // 2, out.shape[1] - 1):
        assert np.array_equal(plan.compute_frame(NOISE, t), out[:, t])
    batch = plan.compute_batch([NOISE, NOISE[: len(NOISE) // 3]]).data
    assert np.array_equal(batch[0], out)
    short = sg.compute_chromagram(NOISE[: len(NOISE) // 3], stft, sr).data
    assert np.array_equal(batch[1, :, : short.shape[1]], short)




# The frequency-domain window rounds relative to the raw frame, not the windowed one. Frames whose
# samples sit where the window is (nearly) zero are computed the time-domain way instead: a click
# on the window's zero gives a zero frame (not normalised noise), and a short signal or an onset at
# a frame's edge keeps float64 accuracy. Odd n_fft / 2 (2054), a tile reaching Nyquist (X[m + 1])
# and a tile narrower than one vector of bins also take the path.
@pytest.mark.parametrize("n_fft", [2048, 2054, 4100])
def test_frequency_window_edge_frames_and_tiles(n_fft):
    sr, hop = 22050, 301
    w = scipy.signal.get_window("hann", n_fft)
    stft = sg.StftParams(n_fft, hop, sg.WindowType.custom(w))
    click = np.zeros(20000)
    click[hop * 10 - n_fft // 2] = 0.7234567  # frame 10's first sample: the window's zero
    chroma = sg.compute_chromagram(click, stft, sr).data
    assert np.all(chroma[:, 10] == 0)
    np.testing.assert_allclose(chroma, ref.chroma(click, sr, n_fft, hop, w), rtol=1e-12, atol=1e-14)

    edge = sg.StftParams(n_fft, hop, sg.WindowType.custom(w), centre=False)
    onset = np.zeros(6 * n_fft)
    onset[2 * hop + n_fft - 3:] = RNG.standard_normal(len(onset) - 2 * hop - n_fft + 3)  # frame 2: 3 samples
    for x in (NOISE[:7], onset):
        params = sg.SpectrogramParams(edge, sr)
        mel = sg.MelParams(40, 0.0, sr / 4 - 100, "slaney")
        weights = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=40, fmin=0.0, fmax=sr / 4 - 100, dtype=np.float64)
        P = ref.power(x, n_fft, hop, w, centre=False)
        got, expected = sg.compute_mel_power_spectrogram(x, params, mel).data, weights @ P
        # each frame to its own largest cell, the edge frames included
        live = np.abs(expected).max(axis=0) > 0  # silent frames must come out exactly zero
        assert np.all(got[:, ~live] == 0)
        per_frame = np.abs(got - expected)[:, live].max(axis=0) / np.abs(expected)[:, live].max(axis=0)
        assert per_frame.max() <= 1e-12, per_frame.max()

    params = sg.SpectrogramParams(stft, sr)
    planner = sg.SpectrogramPlanner()
    P = ref.power(NOISE, n_fft, hop, w)
    high = sg.MelParams(24, 0.3 * sr, sr / 2, "slaney")
    mel_weights = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=24, fmin=0.3 * sr, fmax=sr / 2, dtype=np.float64)
    cases = [
        (planner.mel_power_plan(params, high), mel_weights @ P),
        # log-Hz up to Nyquist: its top band weighs bin m, so the sum reads X[m + 1] = conj X[m - 1]
        (planner.loghz_power_plan(params, sg.LogHzParams(16, 0.3 * sr, sr / 2)),
         ref.loghz(P, sr, n_fft, 16, 0.3 * sr, sr / 2)),
        (planner.loghz_power_plan(params, sg.LogHzParams(2, 440.0, 452.0)),  # a tile of a few bins
         ref.loghz(P, sr, n_fft, 2, 440.0, 452.0)),
    ]
    for plan, expected in cases:
        if _has_avx2():
            assert plan._engine.frequency_window
        close_to(plan.compute(NOISE).data, expected, 1e-12)


@pytest.mark.skipif(not _has_avx512f(), reason="the AVX-512 kernel needs a CPU with AVX-512F")
@pytest.mark.parametrize("n_fft,sr", [(2048, 22050), (4096, 44100), (2400, 22050)])
def test_cosine_window_kernels_agree_bit_for_bit(n_fft, sr, monkeypatch):
    """The column path's AVX-512 kernel against its AVX2 kernel (SPECTROGRAMS_NO_AVX512, read when
    a plan is made): the same operations in the same order, so the same bits. Both plans share
    one FFTW plan, so only the kernels differ."""
    for window in ("hann", "hamming"):
        params = sg.SpectrogramParams(
            sg.StftParams(n_fft, n_fft // 4, sg.WindowType.custom(scipy.signal.get_window(window, n_fft))), sr)

        def plans():
            planner = sg.SpectrogramPlanner()
            return [planner.chroma_plan(params, sg.ChromaParams(norm="none")),
                    planner.mel_power_plan(params, sg.MelParams(40, 0.0, sr / 4 - 100, "slaney")),
                    planner.loghz_power_plan(params, sg.LogHzParams(57, 5.0, sr / 4 - 300))]

        monkeypatch.delenv("SPECTROGRAMS_NO_AVX512", raising=False)
        wide = plans()
        monkeypatch.setenv("SPECTROGRAMS_NO_AVX512", "1")
        narrow = plans()
        for a, b in zip(wide, narrow):
            x = NOISE[: 3 * n_fft + 77]
            assert np.array_equal(a.compute(NOISE).data, b.compute(NOISE).data)
            assert np.array_equal(a.compute(x).data, b.compute(x).data)


def test_chroma_f_max_above_nyquist_uses_the_bins_there_are():
    out = sg.compute_chromagram(NOISE, sg.StftParams(512, 128), 8000, sg.ChromaParams(f_max=4186.0))
    expected = ref.chroma(NOISE, 8000, 512, 128, np.hanning(512), f_max=4186.0)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-14)
