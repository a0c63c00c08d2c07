"""Bad input for every new parameter class: one test each, with the message checked."""

import math

import numpy as np
import pytest

import spectrograms as sg

SR = 16000.0
PARAMS = sg.SpectrogramParams(sg.StftParams(512, 128), SR)
X = np.random.default_rng(0).standard_normal(4000)


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(n_filters=1, f_min=50.0, f_max=8000.0), ValueError, "n_filters must be >= 2"),
    (dict(n_filters=2.5, f_min=50.0, f_max=8000.0), TypeError, "n_filters must be an integer"),
    (dict(n_filters=8, f_min=-1.0, f_max=8000.0), ValueError, "f_min must be >= 0"),
    (dict(n_filters=8, f_min=math.nan, f_max=8000.0), ValueError, "f_min must be finite"),
    (dict(n_filters=8, f_min=50.0, f_max=math.inf), ValueError, "f_max must be finite"),
    (dict(n_filters=8, f_min=500.0, f_max=500.0), ValueError, "f_max must be > f_min"),
])
def test_erb_params_rejects(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        sg.ErbParams(**kwargs)


def test_erb_f_max_above_nyquist():
    with pytest.raises(sg.InvalidInputError, match="Nyquist frequency sample_rate/2 = 8000 Hz, got 9000"):
        sg.compute_erb_power_spectrogram(X, PARAMS, sg.ErbParams(8, 50.0, 9000.0))


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(n_bins=0, f_min=50.0, f_max=8000.0), ValueError, "n_bins must be >= 1"),
    (dict(n_bins=8, f_min=0.0, f_max=8000.0), ValueError, "f_min must be > 0"),
    (dict(n_bins=8, f_min=math.nan, f_max=8000.0), ValueError, "f_min must be finite"),
    (dict(n_bins=8, f_min=100.0, f_max=50.0), ValueError, "f_max must be > f_min"),
    (dict(n_bins=8, f_min="100", f_max=500.0), TypeError, "f_min must be a real number"),
])
def test_loghz_params_rejects(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        sg.LogHzParams(**kwargs)


def test_loghz_f_max_above_nyquist():
    with pytest.raises(sg.InvalidInputError, match="Nyquist"):
        sg.SpectrogramPlanner().loghz_db_plan(PARAMS, sg.LogHzParams(8, 50.0, 8000.5))


def test_filter_params_of_the_wrong_type():
    with pytest.raises(TypeError, match="erb plans need a ErbParams, got MelParams"):
        sg.compute_erb_power_spectrogram(X, PARAMS, sg.MelParams(40))
    with pytest.raises(TypeError, match="missing the filterbank parameters"):
        sg.compute_loghz_power_spectrogram(X, PARAMS)
    with pytest.raises(TypeError, match="pass either filter_params or erb_params"):
        sg.compute_erb_power_spectrogram(X, PARAMS, sg.ErbParams(8, 0, 8000), erb_params=sg.ErbParams(8, 0, 8000))


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(tuning=0.0), ValueError, "tuning must be > 0"),
    (dict(tuning=math.nan), ValueError, "tuning must be finite"),
    (dict(f_min=-5.0), ValueError, "f_min must be >= 0"),
    (dict(f_min=500.0, f_max=100.0), ValueError, "f_max must be > f_min"),
    (dict(f_max=math.inf), ValueError, "f_max must be finite"),
    (dict(norm="l3"), ValueError, "chroma norm must be None, 'l2', 'l1', 'max' or 'none'"),
])
def test_chroma_params_rejects(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        sg.ChromaParams(**kwargs)


def test_chroma_range_without_bins_and_bad_stft_params():
    with pytest.raises(sg.InvalidInputError, match="no FFT bin lies between f_min"):
        sg.compute_chromagram(X, sg.StftParams(64, 16), SR, sg.ChromaParams(f_min=440.0, f_max=441.0))
    with pytest.raises(TypeError, match="stft_params must be a StftParams, got SpectrogramParams"):
        sg.compute_chromagram(X, PARAMS, SR, sg.ChromaParams())
    with pytest.raises(TypeError, match="chroma_params must be a ChromaParams"):
        sg.compute_chromagram(X, PARAMS.stft, SR, sg.MelParams(12))
    with pytest.raises(ValueError, match="sample_rate must be finite"):
        sg.compute_chromagram(X, PARAMS.stft, math.nan)


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(n_mfcc=0), ValueError, "n_mfcc must be >= 1"),
    (dict(n_mfcc=13.0), TypeError, "n_mfcc must be an integer"),
    (dict(dct_norm="forward"), ValueError, "dct_norm must be None or 'ortho'"),
    (dict(lifter=-1.0), ValueError, "lifter must be >= 0"),
    (dict(lifter=math.inf), ValueError, "lifter must be finite"),
    (dict(log="ln"), ValueError, "log must be 'db' or 'librosa'"),
    (dict(mel_norm="area"), ValueError, "mel norm must be"),
    (dict(htk="yes"), TypeError, "htk must be a bool"),
])
def test_mfcc_params_rejects(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        sg.MfccParams(**kwargs)


def test_mfcc_more_coefficients_than_mel_bands():
    with pytest.raises(sg.InvalidInputError, match=r"n_mfcc \(20\) must be <= n_mels \(16\)"):
        sg.compute_mfcc(X, PARAMS.stft, SR, 16, sg.MfccParams(20))
    with pytest.raises(ValueError, match="n_mels must be >= 1"):
        sg.compute_mfcc(X, PARAMS.stft, SR, 0)


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(bins_per_octave=0, n_octaves=7, f_min=32.7), ValueError, "bins_per_octave must be >= 1"),
    (dict(bins_per_octave=12, n_octaves=0, f_min=32.7), ValueError, "n_octaves must be >= 1"),
    (dict(bins_per_octave=12, n_octaves=7, f_min=0.0), ValueError, "f_min must be > 0"),
    (dict(bins_per_octave=12, n_octaves=7, f_min=math.nan), ValueError, "f_min must be finite"),
    (dict(bins_per_octave=12.0, n_octaves=7, f_min=32.7), TypeError, "bins_per_octave must be an integer"),
])
def test_cqt_params_rejects(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        sg.CqtParams(**kwargs)


@pytest.mark.parametrize("f_min", [4000.0 / 2 ** (83 / 12), 5000.0 / 2 ** (83 / 12)], ids=["at", "above"])
def test_cqt_top_bin_at_or_above_nyquist(f_min):
    cqt = sg.CqtParams(12, 7, f_min)
    with pytest.raises(sg.InvalidInputError, match="top CQT bin, .* Hz, must be below the Nyquist frequency 4000 Hz"):
        sg.compute_cqt_power_spectrogram(X, sg.SpectrogramParams(sg.StftParams(512, 128), 8000.0), cqt)


def test_one_shot_plan_memory_still_validates():
    """compute_mfcc/compute_chromagram remember their plan by their own arguments; a value equal
    to a remembered one but of a rejected type (bool) must still be rejected, and
    clear_fft_plan_cache forgets the plans."""
    y = np.random.default_rng(0).standard_normal(4000)
    stft = sg.StftParams(512, 128)
    first = sg.compute_mfcc(y, stft, 1, 20).data  # sample rate 1 Hz: valid for MFCC
    with pytest.raises(TypeError, match="sample_rate must be a real number, got bool True"):
        sg.compute_mfcc(y, stft, True, 20)
    with pytest.raises(TypeError, match="n_mels must be an integer, got bool True"):
        sg.compute_mfcc(y, stft, 1, True)
    c = sg.compute_chromagram(y, stft, 16000).data
    with pytest.raises(TypeError, match="sample_rate must be a real number, got bool True"):
        sg.compute_chromagram(y, stft, True)
    sg.clear_fft_plan_cache()
    from spectrograms.features import _ONE_SHOT

    assert not _ONE_SHOT
    np.testing.assert_array_equal(sg.compute_mfcc(y, stft, 1, 20).data, first)
    np.testing.assert_array_equal(sg.compute_chromagram(y, stft, 16000.0).data, c)
