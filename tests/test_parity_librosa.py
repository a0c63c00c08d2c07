"""Parity with librosa (and a naive numpy STFT where librosa refuses): STFT, linear and mel
power/magnitude/dB with every mel norm, axes, and the frame-count rule (API.md §5)."""

from __future__ import annotations

import numpy as np
import pytest

import spectrograms as sg

# librosa warns when n_fft exceeds a (centred) signal; those cases are deliberate here.
pytestmark = [
    pytest.mark.filterwarnings("ignore:n_fft=.* is too large for input signal:UserWarning"),
    pytest.mark.filterwarnings("ignore:Empty filters detected:UserWarning"),
]

SR = 16000.0
N_FFTS = (256, 400, 512, 1024, 2048)
CENTRES = (True, False)
DTYPES = ("float64", "float32")


def _lengths(n_fft: int, hop: int):
    # hop=1 makes one frame per sample: keep those signals short (a shorter prime instead of 7919).
    prime = 2003 if hop == 1 else 7919
    return sorted({prime, 1001, n_fft // 2 + 1, 100, n_fft})


def _hops(n_fft: int):
    return sorted({1, n_fft // 4, n_fft})


FULL_SWEEP = [
    pytest.param(n_fft, hop, length, centre, id=f"n{n_fft}-h{hop}-L{length}-{'c' if centre else 'nc'}")
    for n_fft in N_FFTS
    for hop in _hops(n_fft)
    for length in _lengths(n_fft, hop)
    for centre in CENTRES
]

# A reduced sweep for the derived quantities: every n_fft, hop n_fft//4 and one hop=1, lengths
# covering prime, shorter than n_fft (incl. centre=False's single zero-padded frame) and exact.
REDUCED_SWEEP = [
    pytest.param(n_fft, hop, length, centre, id=f"n{n_fft}-h{hop}-L{length}-{'c' if centre else 'nc'}")
    for n_fft, hop, length in [
        (256, 64, 7919), (256, 1, 1001), (400, 100, 100), (512, 128, 513), (512, 512, 512),
        (1024, 256, 1001), (2048, 512, 7919), (2048, 2048, 1025),
        # odd n_fft (n_fft // 2 padding, (n_fft + 1) // 2 bins)
        (511, 127, 7919), (257, 64, 200), (401, 1, 500),
    ]
    for centre in CENTRES
]


def _params(n_fft: int, hop: int, centre: bool, sr: float = SR) -> sg.SpectrogramParams:
    return sg.SpectrogramParams(sg.StftParams(n_fft, hop, sg.WindowType.hanning, centre), sr)


def _signal(make_signal, length: int, dtype: str) -> tuple:
    """The signal fed to the library, and the float64 copy the reference sees (exact upcast)."""
    x = make_signal(length, dtype=np.dtype(dtype))
    return x, x.astype(np.float64)


# ---------------------------------------------------------------------------------------------
# Full sweep: complex STFT and linear power
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n_fft, hop, length, centre", FULL_SWEEP)
def test_stft_matches_librosa(n_fft, hop, length, centre, dtype, make_signal, librosa_reference, assert_close):
    x, x64 = _signal(make_signal, length, dtype)
    result = sg.compute_stft(x, _params(n_fft, hop, centre), dtype=dtype)
    expected = librosa_reference.stft(x64, n_fft, hop, centre)
    assert result.data.dtype == (np.complex64 if dtype == "float32" else np.complex128)
    assert result.data.shape == (n_fft // 2 + 1, librosa_reference.n_frames(length, n_fft, hop, centre))
    assert_close(result.data, expected, dtype, what="stft")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n_fft, hop, length, centre", FULL_SWEEP)
def test_linear_power_matches_librosa(n_fft, hop, length, centre, dtype, make_signal, librosa_reference, assert_close):
    x, x64 = _signal(make_signal, length, dtype)
    result = sg.compute_linear_power_spectrogram(x, _params(n_fft, hop, centre), dtype=dtype)
    assert result.data.dtype == np.dtype(dtype)
    assert_close(result.data, librosa_reference.power(x64, n_fft, hop, centre), dtype, what="power")


# ---------------------------------------------------------------------------------------------
# Reduced sweep: magnitude and dB
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n_fft, hop, length, centre", REDUCED_SWEEP)
def test_linear_magnitude_matches_librosa(n_fft, hop, length, centre, dtype, make_signal, librosa_reference,
                                          assert_close):
    x, x64 = _signal(make_signal, length, dtype)
    result = sg.compute_linear_magnitude_spectrogram(x, _params(n_fft, hop, centre), dtype=dtype)
    assert result.data.dtype == np.dtype(dtype)
    assert_close(result.data, librosa_reference.magnitude(x64, n_fft, hop, centre), dtype, what="magnitude")


@pytest.mark.parametrize("floor_db", [-80.0, -30.0, 10.0])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n_fft, hop, length, centre", REDUCED_SWEEP)
def test_linear_db_matches_librosa(n_fft, hop, length, centre, dtype, floor_db, make_signal, librosa_reference,
                                   assert_db_close):
    x, x64 = _signal(make_signal, length, dtype)
    result = sg.compute_linear_db_spectrogram(x, _params(n_fft, hop, centre), sg.LogParams(floor_db), dtype=dtype)
    expected = librosa_reference.db(librosa_reference.power(x64, n_fft, hop, centre), floor_db)
    assert result.data.dtype == np.dtype(dtype)
    assert result.data.min() >= floor_db
    assert_db_close(result.data, expected, dtype, what="dB")


def test_linear_db_default_floor_is_minus_80(make_signal, librosa_reference, assert_db_close):
    # An all-zero tail makes many bins hit the floor.
    x = np.concatenate([make_signal(1000), np.zeros(3000)])
    result = sg.compute_linear_db_spectrogram(x, _params(512, 128, True))
    expected = librosa_reference.db(librosa_reference.power(x, 512, 128, True), -80.0)
    assert result.data.min() == -80.0
    assert_db_close(result.data, expected, "float64")


# ---------------------------------------------------------------------------------------------
# Mel: power, magnitude (sqrt of mel power) and dB, every norm
# ---------------------------------------------------------------------------------------------
MEL_CONFIGS = [
    # (sr, n_fft, hop, length, n_mels, f_min, f_max)
    pytest.param(16000.0, 400, 160, 7919, 40, 0.0, None, id="sr16k-n400-40mels"),
    pytest.param(22050.0, 512, 128, 1001, 64, 30.0, 8000.0, id="sr22k-n512-64mels-30-8k"),
    pytest.param(44100.0, 2048, 512, 7919, 128, 0.0, 22050.0, id="sr44k-n2048-128mels"),
    pytest.param(16000.0, 1024, 1, 700, 80, 125.0, 7600.0, id="sr16k-n1024-hop1-short"),
    pytest.param(16000.0, 511, 127, 3001, 40, 0.0, 8000.0, id="sr16k-n511-odd"),
    # more bands than FFT bins at low frequencies: some filters are empty (all zero rows)
    pytest.param(16000.0, 256, 64, 3001, 128, 0.0, 8000.0, id="sr16k-n256-128mels-empty-filters"),
]
NORMS = ("none", "slaney", "l1", "l2")


def _mel_reference(librosa_reference, x64, sr, n_fft, hop, centre, n_mels, f_min, f_max, norm):
    return librosa_reference.mel_power(x64, sr, n_fft, hop, centre, n_mels, f_min,
                                       sr / 2 if f_max is None else f_max, norm)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("centre", CENTRES)
@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("sr, n_fft, hop, length, n_mels, f_min, f_max", MEL_CONFIGS)
def test_mel_power_magnitude_db_match_librosa(sr, n_fft, hop, length, n_mels, f_min, f_max, norm, centre, dtype,
                                              make_signal, librosa_reference, assert_close, assert_db_close):
    x, x64 = _signal(make_signal, length, dtype)
    params = _params(n_fft, hop, centre, sr)
    mel = sg.MelParams(n_mels, f_min, f_max, norm)
    expected = _mel_reference(librosa_reference, x64, sr, n_fft, hop, centre, n_mels, f_min, f_max, norm)

    power = sg.compute_mel_power_spectrogram(x, params, mel, dtype=dtype)
    assert power.data.shape == (n_mels, librosa_reference.n_frames(length, n_fft, hop, centre))
    assert power.data.dtype == np.dtype(dtype)
    assert_close(power.data, expected, dtype, what=f"mel power ({norm})")

    magnitude = sg.compute_mel_magnitude_spectrogram(x, params, mel, dtype=dtype)
    assert_close(magnitude.data, np.sqrt(expected), dtype, what=f"mel magnitude ({norm})")

    db = sg.compute_mel_db_spectrogram(x, params, mel, sg.LogParams(-100.0), dtype=dtype)
    assert_db_close(db.data, librosa_reference.db(expected, -100.0), dtype, what=f"mel dB ({norm})")


@pytest.mark.parametrize("norm", [*NORMS, "SLANEY", "L2", None, sg.MelNorm.l1])
def test_mel_norm_spellings(norm, make_signal, librosa_reference, assert_close):
    x = make_signal(3000)
    result = sg.compute_mel_power_spectrogram(x, _params(512, 128, True), sg.MelParams(32, 0.0, 8000.0, norm))
    name = "none" if norm is None else (norm.name if isinstance(norm, sg.MelNorm) else norm.lower())
    expected = librosa_reference.mel_power(x, SR, 512, 128, True, 32, 0.0, 8000.0, name)
    assert_close(result.data, expected, "float64")


@pytest.mark.parametrize("norm", NORMS)
def test_mel_htk_formula(norm, make_signal, assert_close):
    import librosa

    x = make_signal(3000)
    mel = sg.MelParams(40, 50.0, 7000.0, norm, htk=True)
    result = sg.compute_mel_power_spectrogram(x, _params(512, 128, True), mel)
    basis = librosa.filters.mel(sr=SR, n_fft=512, n_mels=40, fmin=50.0, fmax=7000.0, htk=True,
                                norm={"none": None, "slaney": "slaney", "l1": 1, "l2": 2}[norm], dtype=np.float64)
    power = np.abs(librosa.stft(x, n_fft=512, hop_length=128, window=np.hanning(512), center=True,
                                pad_mode="constant")) ** 2
    assert_close(result.data, basis @ power, "float64")


def test_mel_default_f_max_is_nyquist_and_default_norm_is_none(make_signal, librosa_reference, assert_close):
    x = make_signal(3000)
    result = sg.compute_mel_power_spectrogram(x, _params(512, 128, True), sg.MelParams(40))
    expected = librosa_reference.mel_power(x, SR, 512, 128, True, 40, 0.0, SR / 2, "none")
    assert_close(result.data, expected, "float64")


def test_mel_keyword_aliases(make_signal):
    x = make_signal(2000)
    params, mel, db = _params(512, 128, True), sg.MelParams(40), sg.LogParams(-60.0)
    a = sg.compute_mel_db_spectrogram(x, params, mel, db).data
    b = sg.compute_mel_db_spectrogram(x, params, mel_params=mel, db_params=db).data
    c = sg.compute_mel_db_spectrogram(samples=x, params=params, filter_params=mel, db=db).data
    assert np.array_equal(a, b) and np.array_equal(a, c)


def test_linear_db_keyword_aliases(make_signal):
    x = make_signal(2000)
    params, db = _params(512, 128, True), sg.LogParams(-60.0)
    a = sg.compute_linear_db_spectrogram(x, params, db).data
    b = sg.compute_linear_db_spectrogram(x, params, db=db).data
    c = sg.compute_linear_db_spectrogram(x, params, db_params=db).data
    assert np.array_equal(a, b) and np.array_equal(a, c)


# ---------------------------------------------------------------------------------------------
# Axes and shapes
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n_fft", N_FFTS)
@pytest.mark.parametrize("sr", [8000.0, 22050.0, 44100.0])
def test_linear_frequencies(n_fft, sr, make_signal):
    params = _params(n_fft, n_fft // 4, True, sr)
    expected = np.arange(n_fft // 2 + 1) * sr / n_fft
    for result in (sg.compute_linear_power_spectrogram(make_signal(3000), params),
                   sg.compute_stft(make_signal(3000), params)):
        np.testing.assert_allclose(result.frequencies, expected, rtol=1e-12, atol=0)
    np.testing.assert_allclose(np.fft.rfftfreq(n_fft, 1 / sr), expected, rtol=1e-12)


@pytest.mark.parametrize("sr, n_fft, n_mels, f_min, f_max", [
    (16000.0, 400, 40, 0.0, None),
    (22050.0, 2048, 128, 0.0, 11025.0),
    (44100.0, 1024, 64, 50.0, 14000.0),
    (16000.0, 512, 80, 125.0, 7600.0),
])
def test_mel_frequencies_are_band_centres(sr, n_fft, n_mels, f_min, f_max, make_signal, librosa_reference):
    result = sg.compute_mel_power_spectrogram(make_signal(3000), _params(n_fft, n_fft // 4, True, sr),
                                              sg.MelParams(n_mels, f_min, f_max))
    top = sr / 2 if f_max is None else f_max
    expected = librosa_reference.mel_frequencies(n_mels, f_min, top)
    assert result.frequencies.shape == (n_mels,)
    np.testing.assert_allclose(result.frequencies, expected, rtol=1e-10, atol=1e-9)
    assert f_min < result.frequencies[0] and result.frequencies[-1] < top


@pytest.mark.parametrize("hop, sr", [(1, 16000.0), (160, 16000.0), (512, 22050.0), (333, 44100.0)])
def test_times(hop, sr, make_signal):
    params = _params(1024, hop, True, sr)
    x = make_signal(2500)
    for result in (sg.compute_linear_power_spectrogram(x, params),
                   sg.compute_mel_db_spectrogram(x, params, sg.MelParams(40)),
                   sg.compute_stft(x, params)):
        n = result.data.shape[1]
        np.testing.assert_allclose(result.times, np.arange(n) * hop / sr, rtol=1e-14, atol=0)


@pytest.mark.parametrize("centre", CENTRES)
@pytest.mark.parametrize("n_fft, hop", [(256, 1), (256, 64), (400, 160), (512, 512), (1024, 300), (2048, 512)])
@pytest.mark.parametrize("length", [1, 2, 99, 255, 256, 257, 400, 511, 512, 513, 1001, 2047, 2048, 2049, 7919])
def test_shape_rule(length, n_fft, hop, centre, librosa_reference):
    params = _params(n_fft, hop, centre)
    expected = (n_fft // 2 + 1, librosa_reference.n_frames(length, n_fft, hop, centre))
    plan = sg.SpectrogramPlanner().linear_power_plan(params)
    assert plan.output_shape(length) == expected
    x = np.ones(length)
    assert plan.compute(x).shape == expected
    assert plan.compute(x).data.shape == expected
    assert sg.compute_stft(x, params).data.shape == expected


def test_output_is_c_contiguous_and_writable(make_signal):
    params = _params(512, 128, True)
    x = make_signal(3000)
    for result in (sg.compute_linear_power_spectrogram(x, params),
                   sg.compute_mel_magnitude_spectrogram(x, params, sg.MelParams(40)),
                   sg.compute_linear_db_spectrogram(x, params, dtype="float32"),
                   sg.compute_stft(x, params)):
        assert result.data.flags.c_contiguous
        assert result.data.flags.writeable


def test_single_sample_signal(librosa_reference, assert_close):
    # One sample: centre=True puts it in the middle of frame 0; centre=False gives one padded frame.
    for centre in CENTRES:
        x = np.array([0.75])
        result = sg.compute_stft(x, _params(256, 64, centre))
        assert_close(result.data, librosa_reference.naive_stft(x, 256, 64, centre), "float64")
