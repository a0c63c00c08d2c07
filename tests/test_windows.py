"""Windows against numpy/scipy, custom-window normalisation, and the parameter dataclasses
(repr, equality, hashing, pickling, immutability)."""

from __future__ import annotations

import dataclasses
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

import spectrograms as sg

scipy_windows = pytest.importorskip("scipy.signal.windows")

LENGTHS = (1, 2, 3, 7, 256, 400, 511, 2048)


@pytest.mark.parametrize("n", LENGTHS)
@pytest.mark.parametrize("name, reference", [
    ("hanning", np.hanning), ("hamming", np.hamming), ("blackman", np.blackman),
    ("rectangular", np.ones),
])
def test_builtin_windows_equal_numpy(name, reference, n):
    w = getattr(sg.WindowType, f"make_{name}")(n)
    assert w.dtype == np.float64 and w.shape == (n,)
    np.testing.assert_allclose(w, reference(n), rtol=0, atol=1e-15)
    # The module-level alias is the same helper.
    np.testing.assert_array_equal(getattr(sg, f"make_{name}")(n), w)
    # And the window the engine applies is the same array.
    np.testing.assert_array_equal(getattr(sg.WindowType, name).coefficients_for(n), w)


@pytest.mark.parametrize("n", LENGTHS)
@pytest.mark.parametrize("beta", [0.0, 1.0, 3.75, 5.0, 8.6, 14.0, 30.0])
def test_kaiser_equals_numpy_for_every_beta(beta, n):
    w = sg.WindowType.make_kaiser(n, beta)
    np.testing.assert_allclose(w, np.kaiser(n, beta), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(sg.WindowType.kaiser(beta).coefficients_for(n), w)


@pytest.mark.parametrize("n", LENGTHS)
@pytest.mark.parametrize("std", [0.5, 1.0, 7.0, 64.0, 1000.0])
def test_gaussian_equals_scipy_symmetric(std, n):
    w = sg.WindowType.make_gaussian(n, std)
    np.testing.assert_allclose(w, scipy_windows.gaussian(n, std, sym=True), rtol=0, atol=1e-12)


@pytest.mark.parametrize("make", [
    lambda n: sg.WindowType.make_hanning(n), lambda n: sg.WindowType.make_hamming(n),
    lambda n: sg.WindowType.make_blackman(n), lambda n: sg.WindowType.make_rectangular(n),
    lambda n: sg.WindowType.make_kaiser(n, 8.6), lambda n: sg.WindowType.make_gaussian(n, 3.0),
], ids=["hanning", "hamming", "blackman", "rectangular", "kaiser", "gaussian"])
def test_length_one_window_is_one(make):
    np.testing.assert_array_equal(make(1), [1.0])


@pytest.mark.parametrize("dtype, expected", [(None, np.float64), ("float32", np.float32), ("f64", np.float64)])
def test_window_helper_dtype(dtype, expected):
    w = sg.WindowType.make_hanning(64, dtype=dtype)
    assert w.dtype == expected
    np.testing.assert_allclose(w, np.hanning(64), rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("window, reference", [
    (sg.WindowType.hamming, np.hamming(512)),
    (sg.WindowType.blackman, np.blackman(512)),
    (sg.WindowType.rectangular, np.ones(512)),
    (sg.WindowType.kaiser(14.0), np.kaiser(512, 14.0)),
    (sg.WindowType.gaussian(60.0), None),
    (sg.WindowType.custom(np.linspace(0.1, 1.0, 512) ** 2), np.linspace(0.1, 1.0, 512) ** 2),
], ids=["hamming", "blackman", "rectangular", "kaiser", "gaussian", "custom"])
def test_stft_applies_the_window(window, reference, make_signal, librosa_reference, assert_close):
    if reference is None:
        reference = scipy_windows.gaussian(512, 60.0, sym=True)
    x = make_signal(3001)
    params = sg.SpectrogramParams(sg.StftParams(512, 128, window, True), 16000.0)
    expected = librosa_reference.naive_stft(x, 512, 128, True, window=reference)
    assert_close(sg.compute_stft(x, params).data, expected, "float64")


# ---------------------------------------------------------------------------------------------
# Custom windows
# ---------------------------------------------------------------------------------------------
RAW = np.hanning(64) * 3.0 + 0.25  # positive, not normalised


@pytest.mark.parametrize("normalize, measure", [
    ("sum", lambda w: np.sum(w)),
    ("peak", lambda w: np.max(np.abs(w))),
    ("max", lambda w: np.max(np.abs(w))),
    ("energy", lambda w: np.sum(w ** 2)),
    ("rms", lambda w: np.sqrt(np.mean(w ** 2))),
])
def test_custom_window_normalisation(normalize, measure):
    w = np.asarray(sg.WindowType.custom(RAW, normalize=normalize).coefficients_for(64))
    assert measure(w) == pytest.approx(1.0, rel=1e-12)
    # Only scaled: proportional to the raw coefficients.
    np.testing.assert_allclose(w / w[10], RAW / RAW[10], rtol=1e-12)


def test_custom_window_without_normalisation_is_kept():
    w = sg.WindowType.custom(RAW)
    np.testing.assert_array_equal(w.coefficients_for(64), RAW)
    assert sg.WindowType.custom(list(RAW)) == w
    assert sg.WindowType.custom(RAW.astype(np.float32)).coefficients_for(64).dtype == np.float64


def test_custom_window_of_wrong_length_raises():
    window = sg.WindowType.custom(np.hanning(500))
    with pytest.raises(sg.DimensionMismatchError, match=r"500 coefficients.*n_fft is 512"):
        sg.StftParams(512, 128, window)
    with pytest.raises(sg.DimensionMismatchError, match=r"500 coefficients.*n_fft is 512"):
        window.coefficients_for(512)


# ---------------------------------------------------------------------------------------------
# Parameter dataclasses: repr, equality, hashing, pickling, immutability
# ---------------------------------------------------------------------------------------------
PARAM_VALUES = [
    sg.WindowType.hanning,
    sg.WindowType.rectangular,
    sg.WindowType.kaiser(8.6),
    sg.WindowType.gaussian(12.5),
    sg.WindowType.custom(RAW, normalize="energy"),
    sg.StftParams(512, 128),
    sg.StftParams(400, 160, sg.WindowType.kaiser(5.0), False),
    sg.StftParams(64, 16, sg.WindowType.custom(RAW)),
    sg.SpectrogramParams(sg.StftParams(1024, 256, sg.WindowType.hamming), 22050),
    sg.SpectrogramParams.speech_default(16000),
    sg.SpectrogramParams.music_default(44100),
    sg.LogParams(),
    sg.LogParams(-60.0),
    sg.MelParams(40),
    sg.MelParams(128, 30.0, 8000.0, "slaney"),
    sg.MelParams(64, 0.0, 4000.0, sg.MelNorm.l2),
    sg.MelNorm.none,
    sg.MelNorm.slaney,
    sg.MelNorm.l1,
    sg.MelNorm.l2,
]


@pytest.mark.parametrize("value", PARAM_VALUES, ids=repr)
def test_params_pickle_round_trip(value):
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        restored = pickle.loads(pickle.dumps(value, protocol=protocol))
        assert restored == value
        assert hash(restored) == hash(value)
        assert repr(restored) == repr(value)
        assert type(restored) is type(value)


def test_custom_window_hash_is_cached_but_not_pickled():
    """A custom window's hash is computed once (one-shot calls hash it for their plan lookup), and
    an unpickled window hashes as its new process's own windows do: str hashes are seeded per
    process, so a pickled cache would be stale there."""
    w = sg.WindowType.custom(RAW)
    assert hash(w) == hash(w) == hash(("custom", None, w.coefficients))
    assert w.__dict__["_hash"] == hash(w)
    assert "_hash" not in pickle.loads(pickle.dumps(w)).__dict__
    code = ("import pickle, sys; import spectrograms as sg; w = pickle.loads(sys.stdin.buffer.read()); "
            "fresh = sg.WindowType.custom(w.coefficients); print(hash(w) == hash(fresh), {w: 1}.get(fresh))")
    env = dict(os.environ, PYTHONHASHSEED="12345")
    out = subprocess.run([sys.executable, "-c", code], input=pickle.dumps(w), env=env, capture_output=True,
                         check=True).stdout.decode().split()
    assert out == ["True", "1"]


@pytest.mark.parametrize("value", PARAM_VALUES, ids=repr)
def test_params_hashable_and_usable_as_keys(value):
    d = {value: 1}
    assert d[value] == 1
    assert len({value, pickle.loads(pickle.dumps(value))}) == 1


@pytest.mark.parametrize("value", [v for v in PARAM_VALUES if dataclasses.is_dataclass(v)], ids=repr)
def test_params_are_frozen(value):
    field = dataclasses.fields(value)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(value, field, getattr(value, field))


def test_params_repr_is_readable():
    assert repr(sg.WindowType.hanning) == "WindowType.hanning"
    assert repr(sg.WindowType.kaiser(8.6)) == "WindowType.kaiser(beta=8.6)"
    assert repr(sg.WindowType.gaussian(2.0)) == "WindowType.gaussian(std=2.0)"
    assert "64" in repr(sg.WindowType.custom(RAW))
    r = repr(sg.StftParams(512, 128))
    assert "n_fft=512" in r and "hop_size=128" in r and "WindowType.hanning" in r and "centre=True" in r
    r = repr(sg.SpectrogramParams(sg.StftParams(512, 128), 16000))
    assert "sample_rate=16000" in r and "StftParams(" in r
    assert repr(sg.LogParams(-60.0)) == "LogParams(floor_db=-60.0)"
    r = repr(sg.MelParams(40, 0.0, 8000.0, "slaney"))
    assert "n_mels=40" in r and "f_max=8000.0" in r and "slaney" in r
    assert repr(sg.MelNorm.l1) == "MelNorm.l1"


def test_params_equality_is_by_value():
    assert sg.StftParams(512, 128) == sg.StftParams(512, 128, sg.WindowType.hanning, True)
    assert sg.StftParams(512, 128) != sg.StftParams(512, 128, centre=False)
    assert sg.WindowType.kaiser(5) == sg.WindowType.kaiser(5.0)
    assert sg.WindowType.kaiser(5.0) != sg.WindowType.kaiser(6.0)
    assert sg.MelParams(40, norm="SLANEY") == sg.MelParams(40, norm=sg.MelNorm.slaney)
    assert sg.MelParams(40, norm=None) == sg.MelParams(40, norm="none")
    stft = sg.StftParams(512, 128)
    assert sg.SpectrogramParams(stft, 16000) == sg.SpectrogramParams(stft, 16000.0)
    assert sg.SpectrogramParams.speech_default(16000) == sg.SpectrogramParams(
        sg.StftParams(512, 160, sg.WindowType.hanning, True), 16000)
    assert sg.SpectrogramParams.music_default(22050) == sg.SpectrogramParams(
        sg.StftParams(2048, 512, sg.WindowType.hanning, True), 22050)
