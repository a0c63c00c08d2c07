"""Constant-Q spectrogram against the naive reference written from API.md §5."""

import numpy as np
import pytest

import spectrograms as sg
import features_reference as ref

RNG = np.random.default_rng(11)
SIGNAL = RNG.standard_normal(12000)


@pytest.mark.parametrize("sr,n_fft,hop,bpo,n_oct,f_min,centre", [
    (22050.0, 2048, 512, 12, 7, 32.70319566257483, True),
    (16000.0, 1024, 256, 24, 3, 100.0, True),
    (8000.0, 513, 100, 5, 2, 200.0, False),
    (16000.0, 64, 64, 1, 1, 1000.0, True),
])
def test_cqt_power_matches_the_naive_reference(sr, n_fft, hop, bpo, n_oct, f_min, centre):
    params = sg.SpectrogramParams(sg.StftParams(n_fft, hop, sg.WindowType.hanning, centre), sr)
    cqt = sg.CqtParams(bpo, n_oct, f_min)
    out = sg.compute_cqt_power_spectrogram(SIGNAL, params, cqt)
    expected = np.abs(ref.cqt(SIGNAL, sr, n_fft, hop, bpo, n_oct, f_min, centre)) ** 2
    assert out.shape == expected.shape == (cqt.num_bins, expected.shape[1])
    # time-domain kernels, no sparsification beyond the 1 % rule: rounding only
    np.testing.assert_allclose(out.data, expected, rtol=1e-10, atol=1e-12 * expected.max())
    np.testing.assert_allclose(out.frequencies, f_min * 2.0 ** (np.arange(cqt.num_bins) / bpo), rtol=1e-15)


def test_cqt_magnitude_db_and_keywords():
    params = sg.SpectrogramParams(sg.StftParams(1024, 256), 16000.0)
    cqt = sg.CqtParams(12, 4, 110.0)
    P = sg.compute_cqt_power_spectrogram(SIGNAL, params, cqt_params=cqt).data
    np.testing.assert_allclose(sg.compute_cqt_magnitude_spectrogram(SIGNAL, params, cqt=cqt).data, np.sqrt(P),
                               rtol=1e-15)
    db = sg.compute_cqt_db_spectrogram(SIGNAL, params, cqt, db=sg.LogParams(-50.0)).data
    np.testing.assert_allclose(db, ref.db(P, -50.0), rtol=1e-13, atol=1e-12)


def test_cqt_ignores_the_window_and_finds_a_tone():
    sr = 16000.0
    t = np.arange(16000) / sr
    tone = np.sin(2 * np.pi * 440.0 * t)
    cqt = sg.CqtParams(12, 5, 110.0)
    outs = [sg.compute_cqt_power_spectrogram(tone, sg.SpectrogramParams(sg.StftParams(2048, 512, w), sr), cqt).data
            for w in (sg.WindowType.hanning, sg.WindowType.rectangular, sg.WindowType.kaiser(8.0))]
    assert np.array_equal(outs[0], outs[1]) and np.array_equal(outs[0], outs[2])
    assert int(outs[0][:, 10].argmax()) == 24  # 440 Hz is two octaves above 110 Hz


def test_cqt_params_properties():
    c = sg.CqtParams(12, 7, 32.7)
    assert c.num_bins == 84
    assert c.f_max == pytest.approx(32.7 * 2 ** (83 / 12))
