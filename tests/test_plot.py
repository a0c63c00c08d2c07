"""Spectrogram.plot (spectrograms._plot) on the Agg backend."""

from __future__ import annotations

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.axes  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

import spectrograms as sg  # noqa: E402
from spectrograms.audio import example_audio  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def clip():
    x, sr = example_audio()
    return x[: sr * 2], sr


def _mesh(ax):
    meshes = [c for c in ax.collections if isinstance(c, matplotlib.collections.QuadMesh)]
    assert len(meshes) == 1
    return meshes[0]


def test_linear_power_plot(clip):
    x, sr = clip
    params = sg.SpectrogramParams(sg.StftParams(1024, 256, sg.WindowType.hanning), sr)
    spec = sg.compute_linear_power_spectrogram(x, params)
    ax = spec.plot()
    assert isinstance(ax, matplotlib.axes.Axes)
    mesh = _mesh(ax)
    assert mesh.colorbar is not None
    assert mesh.colorbar.ax.get_ylabel() == "dB"
    shown = np.asarray(mesh.get_array()).reshape(spec.shape)
    np.testing.assert_allclose(shown, 10 * np.log10(np.maximum(spec.data, 1e-10)))
    assert ax.get_ylim() == pytest.approx((0.0, sr / 2))
    assert ax.get_xlim()[0] == pytest.approx(0.0)
    assert ax.get_xlim()[1] == pytest.approx(spec.times[-1] + 256 / sr / 2)
    assert "Hz" in ax.get_ylabel() and "s" in ax.get_xlabel()
    assert "Linear" in ax.get_title()
    ax.figure.canvas.draw()


def test_mel_db_plot_on_given_axes(clip):
    x, sr = clip
    params = sg.SpectrogramParams.music_default(sr)
    spec = sg.compute_mel_db_spectrogram(x, params, sg.MelParams(64, 50.0, 8000.0), dtype="float32")
    fig, ax = plt.subplots()
    out = spec.plot(ax=ax, cmap="viridis", title="my title")
    assert out is ax and ax.get_title() == "my title"
    mesh = _mesh(ax)
    assert mesh.colorbar is not None and mesh.colorbar.ax.get_ylabel() == "dB"
    assert mesh.get_cmap().name == "viridis"
    shown = np.asarray(mesh.get_array()).reshape(spec.shape)
    np.testing.assert_array_equal(shown, spec.data)  # dB is shown as it is
    # mel axis: Hz limits around the band centres, mel-spaced, labelled in Hz
    lo, hi = ax.get_ylim()
    assert 50.0 <= lo < spec.frequencies[0] and spec.frequencies[-1] < hi <= 8000.0 + 1e-6
    assert ax.get_yscale() == "function"
    ticks = ax.get_yticks()
    assert len(ticks) >= 3 and all(lo <= t <= hi for t in ticks)
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert "1k" in labels
    # equal heights for equal mel steps: centres map to evenly spaced display positions
    y = ax.transData.transform(np.column_stack([np.zeros(spec.n_bins), spec.frequencies]))[:, 1]
    steps = np.diff(y)
    np.testing.assert_allclose(steps, steps.mean(), rtol=1e-6)


def test_magnitude_and_no_colorbar(clip):
    x, sr = clip
    spec = sg.compute_mel_magnitude_spectrogram(x, sg.SpectrogramParams.music_default(sr), sg.MelParams(40, htk=True))
    ax = spec.plot(colorbar=False)
    mesh = _mesh(ax)
    assert mesh.colorbar is None
    shown = np.asarray(mesh.get_array()).reshape(spec.shape)
    np.testing.assert_allclose(shown, 20 * np.log10(np.maximum(spec.data, 1e-5)))
    y = ax.transData.transform(np.column_stack([np.zeros(spec.n_bins), spec.frequencies]))[:, 1]
    np.testing.assert_allclose(np.diff(y), np.diff(y).mean(), rtol=1e-6)  # HTK mel spacing


def test_single_frame_and_single_band():
    params = sg.SpectrogramParams(sg.StftParams(256, 128), 8000)
    x = np.random.default_rng(0).standard_normal(100)
    spec = sg.compute_mel_power_spectrogram(x, params, sg.MelParams(1))
    assert spec.shape == (1, 1)
    ax = spec.plot()
    ax.figure.canvas.draw()
    spec = sg.compute_linear_db_spectrogram(x, params)
    spec.plot().figure.canvas.draw()


def test_float32_linear_db_with_kwargs(clip):
    x, sr = clip
    spec = sg.compute_linear_db_spectrogram(x, sg.SpectrogramParams.speech_default(sr), dtype="float32")
    ax = spec.plot(vmin=-60, vmax=40)
    assert _mesh(ax).get_clim() == (-60, 40)


def test_missing_matplotlib_says_how_to_install(clip, monkeypatch):
    import sys

    x, sr = clip
    spec = sg.compute_linear_db_spectrogram(x[:4096], sg.SpectrogramParams.speech_default(sr))
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"pip install spectrograms\[plot\]"):
        spec.plot()
