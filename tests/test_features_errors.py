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
