"""Plans pickled to other processes compute the same bits there (FFTW wisdom travels with them)."""

from __future__ import annotations

import multiprocessing as mp
import pickle

import numpy as np
import pytest

import spectrograms as sg


def _compute_in_child(payload, queue):
    plan, x = pickle.loads(payload)
    queue.put(plan.compute(x).data)


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_unpickled_plan_in_a_fresh_process_gives_identical_bits(method):
    params = sg.SpectrogramParams(sg.StftParams(1024, 256, sg.WindowType.hanning), 22050.0)
    plan = sg.SpectrogramPlanner().mel_db_plan(params, sg.MelParams(96, 0.0, 11025.0))
    x = np.random.default_rng(7).standard_normal(50_000)
    expected = plan.compute(x).data
    ctx = mp.get_context(method)
    queue = ctx.Queue()
    proc = ctx.Process(target=_compute_in_child, args=(pickle.dumps((plan, x)), queue))
    proc.start()
    got = queue.get(timeout=120)
    proc.join(timeout=60)
    assert np.array_equal(got, expected)


def test_pickled_plan_is_small():
    """A plan pickles as its parameters plus FFTW's wisdom, never FFTW state. The wisdom is what this
    process has learnt (about 1 KB per FFT size planned), so measure in a fresh interpreter."""
    import subprocess
    import sys

    code = (
        "import pickle, spectrograms as sg\n"
        "p = sg.SpectrogramParams(sg.StftParams(2048, 512, sg.WindowType.hanning), 22050.0)\n"
        "plan = sg.SpectrogramPlanner().mel_power_plan(p, sg.MelParams(128, 0.0, 11025.0))\n"
        "print(len(pickle.dumps(plan)), len(sg._core.export_wisdom()))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    total, wisdom = map(int, out.stdout.split())
    assert total - wisdom < 2048, f"without its wisdom a pickled plan should be tiny, got {total - wisdom} bytes"
    assert total < 16 * 1024, f"a pickled plan in a fresh process took {total} bytes"
    params = sg.SpectrogramParams(sg.StftParams(2048, 512, sg.WindowType.hanning), 22050.0)
    stft = sg.SpectrogramPlanner().stft_plan(params, dtype="float32")
    again = pickle.loads(pickle.dumps(stft))
    assert isinstance(again, sg.StftPlan) and again.dtype == np.float32


def test_unpickled_input_arrays_are_accepted():
    # An unpickled array's dtype is a new object, not numpy's canonical float64 instance.
    params = sg.SpectrogramParams(sg.StftParams(256, 64, sg.WindowType.hanning), 16000.0)
    x = np.random.default_rng(1).standard_normal(3000)
    y = pickle.loads(pickle.dumps(x))
    np.testing.assert_array_equal(sg.compute_linear_power_spectrogram(y, params).data,
                                  sg.compute_linear_power_spectrogram(x, params).data)
    X = pickle.loads(pickle.dumps(sg.compute_stft(x, params).data))
    np.testing.assert_allclose(sg.compute_istft(X, 256, 64, length=3000), x, atol=1e-12)
