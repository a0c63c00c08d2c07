"""ERB and log-Hz filterbank scales against naive dense references written from API.md §5."""

import numpy as np
import pytest

import spectrograms as sg
import features_reference as ref

RNG = np.random.default_rng(1234)
SIGNAL = RNG.standard_normal(7000)


def params(n_fft=512, hop=160, sr=16000.0, centre=True):
    return sg.SpectrogramParams(sg.StftParams(n_fft, hop, sg.WindowType.hanning, centre), sr)


@pytest.mark.parametrize("n_fft,sr,n_filters,f_min,f_max", [
    (512, 16000.0, 64, 50.0, 8000.0),
    (511, 16000.0, 2, 0.0, 7000.0),
    (2048, 22050.0, 40, 100.0, 10000.0),
])
def test_erb_power_matches_dense_reference(n_fft, sr, n_filters, f_min, f_max):
    p = params(n_fft, n_fft // 4, sr)
    erb = sg.ErbParams(n_filters, f_min, f_max)
    out = sg.compute_erb_power_spectrogram(SIGNAL, p, erb)
    P = ref.power(SIGNAL, n_fft, n_fft // 4, np.hanning(n_fft))
    expected = ref.erb_weights(sr, n_fft, n_filters, f_min, f_max) @ P
    # Weights below 1e-10 of a band's peak (<= 1) are dropped: each cell may lose at most
    # 1e-10 * (total power of its frame); the rest agrees to rounding.
    bound = 1e-12 * np.abs(expected) + 1e-10 * P.sum(axis=0)[None, :]
    assert out.shape == expected.shape
    assert np.all(np.abs(out.data - expected) <= bound)
    np.testing.assert_allclose(out.frequencies, np.linspace(f_min, f_max, n_filters), rtol=1e-15)


def test_erb_magnitude_and_db_come_from_power():
    p, erb = params(), sg.ErbParams(32, 30.0, 7500.0)
    P = sg.compute_erb_power_spectrogram(SIGNAL, p, erb).data
    np.testing.assert_allclose(sg.compute_erb_magnitude_spectrogram(SIGNAL, p, erb).data, np.sqrt(P), rtol=1e-15)
    db = sg.compute_erb_db_spectrogram(SIGNAL, p, erb, db=sg.LogParams(-60.0)).data
    np.testing.assert_allclose(db, ref.db(P, -60.0), rtol=1e-13, atol=1e-12)


def test_erb_weights_of_the_engine_are_the_formula_where_kept():
    p, erb = params(), sg.ErbParams(16, 50.0, 8000.0)
    W = sg.SpectrogramPlanner().erb_power_plan(p, erb)._engine.filterbank()
    dense = ref.erb_weights(16000.0, 512, 16, 50.0, 8000.0)
    kept = W > 0
    np.testing.assert_allclose(W[kept], dense[kept], rtol=1e-13)
    peak = np.broadcast_to(dense.max(axis=1, keepdims=True), dense.shape)
    assert np.all(dense[~kept] < 1e-10 * peak[~kept])


@pytest.mark.parametrize("n_fft,sr,n_bins,f_min,f_max", [
    (512, 16000.0, 100, 30.0, 8000.0),
    (1024, 22050.0, 1, 440.0, 880.0),
    (513, 16000.0, 57, 31.25, 7999.0),
    (256, 8000.0, 300, 20.0, 4000.0),
])
def test_loghz_power_matches_interpolation(n_fft, sr, n_bins, f_min, f_max):
    p = params(n_fft, 128, sr)
    lh = sg.LogHzParams(n_bins, f_min, f_max)
    out = sg.compute_loghz_power_spectrogram(SIGNAL, p, loghz_params=lh)
    P = ref.power(SIGNAL, n_fft, 128, np.hanning(n_fft))
    expected = ref.loghz(P, sr, n_fft, n_bins, f_min, f_max)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12 * P.max())
    np.testing.assert_allclose(out.frequencies, np.geomspace(f_min, f_max, n_bins), rtol=1e-14)


def test_loghz_filters_are_two_taps_that_sum_to_one():
    plan = sg.SpectrogramPlanner().loghz_power_plan(params(), sg.LogHzParams(80, 20.0, 8000.0))
    W = plan._engine.filterbank()
    assert np.all((W > 0).sum(axis=1) <= 2)
    np.testing.assert_allclose(W.sum(axis=1), 1.0, rtol=1e-15)


def test_loghz_magnitude_and_db():
    p, lh = params(), sg.LogHzParams(64, 50.0, 8000.0)
    P = sg.compute_loghz_power_spectrogram(SIGNAL, p, lh).data
    np.testing.assert_allclose(sg.compute_loghz_magnitude_spectrogram(SIGNAL, p, lh).data, np.sqrt(P), rtol=1e-15)
    np.testing.assert_allclose(sg.compute_loghz_db_spectrogram(SIGNAL, p, lh).data, ref.db(P), rtol=1e-13,
                               atol=1e-12)
