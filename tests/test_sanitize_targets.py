"""Lifetime scenarios that `make sanitize` runs under AddressSanitizer + UBSan.

They use numpy as the only consumer (no torch) so that the sanitized extension is the only
instrumented code; any use-after-free or double free in the DLPack path aborts the run.
"""

from __future__ import annotations

import gc

import numpy as np

import spectrograms as sg


def _params():
    return sg.SpectrogramParams(sg.StftParams(256, 64, sg.WindowType.hanning), 16000.0)


def _x(n=3000):
    return np.random.default_rng(1).standard_normal(n)


def test_dropped_result_while_consumer_lives():
    spec = sg.compute_mel_db_spectrogram(_x(), _params(), sg.MelParams(32, 0.0, 8000.0))
    expected = spec.data.copy()
    arr = np.from_dlpack(spec)
    view = spec.data
    del spec
    gc.collect()
    np.testing.assert_array_equal(arr, expected)
    np.testing.assert_array_equal(view, expected)


def test_unconsumed_capsules_free_themselves():
    spec = sg.compute_stft(_x(), _params())
    for _ in range(200):
        spec.__dlpack__()
        spec.__dlpack__(max_version=(1, 0))
        spec.__dlpack__(copy=True, max_version=(1, 0))
    gc.collect()


def test_batch_views_outlive_the_batch():
    batch = sg.compute_linear_power_spectrogram_batch([_x(3000), _x(700), _x(5000)], _params(), n_threads=2)
    item = batch[1]
    expected = item.data.copy()
    arr = np.from_dlpack(item)
    del batch, item
    gc.collect()
    np.testing.assert_array_equal(arr, expected)


def test_pickled_results_and_plans():
    import pickle

    plan = sg.SpectrogramPlanner().mel_power_plan(_params(), sg.MelParams(16, 0.0, 8000.0))
    spec = plan.compute(_x())
    again = pickle.loads(pickle.dumps(spec))
    np.testing.assert_array_equal(again.data, spec.data)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(plan)).compute(_x()).data, spec.data)


def test_threads_on_one_plan():
    from concurrent.futures import ThreadPoolExecutor

    plan = sg.SpectrogramPlanner().linear_db_plan(_params())
    x = _x(8000)
    ref = plan.compute(x).data
    with ThreadPoolExecutor(4) as ex:
        outs = list(ex.map(lambda _: plan.compute(x).data, range(40)))
    for o in outs:
        np.testing.assert_array_equal(o, ref)
