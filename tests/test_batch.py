"""Parallel batches: one engine call for many signals, equal to the one-shot results bit for bit."""

from __future__ import annotations

import gc
import multiprocessing as mp
import pickle
import sys
import threading

import numpy as np
import pytest

import spectrograms as sg
from _dlpack_helpers import rss_bytes

N_FFT, HOP = 400, 160
MEL = sg.MelParams(40, 0.0, 8000.0)


def _params(centre=True):
    return sg.SpectrogramParams(sg.StftParams(N_FFT, HOP, sg.WindowType.hanning, centre), 16000.0)


def _signals(lengths, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(n).astype(dtype) for n in lengths]


UNEQUAL = [16000, 1, 399, 400, 401, 7919, 64000, 250]  # includes lengths shorter than n_fft
PLANS = {
    "linear_power": lambda p, d: sg.SpectrogramPlanner().linear_power_plan(p, dtype=d),
    "mel_db": lambda p, d: sg.SpectrogramPlanner().mel_db_plan(p, MEL, sg.LogParams(-60.0), dtype=d),
    "mel_magnitude": lambda p, d: sg.SpectrogramPlanner().mel_magnitude_plan(p, MEL, dtype=d),
    "stft": lambda p, d: sg.SpectrogramPlanner().stft_plan(p, dtype=d),
}


@pytest.mark.parametrize("kind", sorted(PLANS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n_threads", [1, 2, 3, 8])
@pytest.mark.parametrize("lengths", [UNEQUAL, [5000] * 5, [777]], ids=["unequal", "equal", "one"])
def test_batch_items_equal_one_shot_bit_for_bit(kind, dtype, n_threads, lengths):
    for centre in (True, False):
        plan = PLANS[kind](_params(centre), dtype)
        xs = _signals(lengths, dtype)
        batch = plan.compute_batch(xs, n_threads=n_threads)
        expected_frames = [plan.output_shape(len(x))[1] for x in xs]
        assert batch.shape == (len(xs), plan.n_bins, max(expected_frames))
        assert batch.lengths.dtype == np.int64
        assert batch.lengths.tolist() == expected_frames
        mask = batch.frame_mask()
        assert mask.shape == (len(xs), max(expected_frames)) and mask.dtype == bool
        for b, x in enumerate(xs):
            single = plan.compute(x).data
            n = expected_frames[b]
            assert np.array_equal(batch.data[b, :, :n], single), f"item {b} differs"
            assert np.all(batch.data[b, :, n:] == 0), f"padding of item {b} is not zero"
            assert mask[b].sum() == n and mask[b, :n].all()
            assert np.array_equal(batch[b].data, single)


def test_module_level_batch_helpers_mirror_one_shot():
    p = _params()
    xs = _signals([3000, 9000, 100])
    b = sg.compute_mel_power_spectrogram_batch(xs, p, MEL, n_threads=2)
    for i, x in enumerate(xs):
        np.testing.assert_array_equal(b[i].data, sg.compute_mel_power_spectrogram(x, p, MEL).data)
    s = sg.compute_stft_batch(xs, p, dtype="float32")
    assert s.dtype == np.complex64
    assert isinstance(s[0], sg.StftResult)
    np.testing.assert_array_equal(s[2].data, sg.compute_stft(xs[2], p, dtype="float32").data)
    lin = sg.compute_linear_db_spectrogram_batch(xs, p, db=sg.LogParams(-50.0))
    np.testing.assert_array_equal(lin[1].data, sg.compute_linear_db_spectrogram(xs[1], p, db=sg.LogParams(-50.0)).data)


def test_batch_items_are_views_of_the_batch_buffer():
    b = sg.compute_linear_power_spectrogram_batch(_signals([3000, 1000]), _params())
    item = b[1]
    assert item.data.base is not None
    assert np.shares_memory(item.data, b.data)
    assert item.shape == (N_FFT // 2 + 1, b.lengths[1])
    assert len(b) == 2 and b[-1].shape == item.shape
    with pytest.raises(IndexError, match="out of range for 2 items"):
        b[2]
    with pytest.raises(TypeError, match="integers"):
        b["0"]
    assert [s.shape for s in b] == [b[0].shape, b[1].shape]


def test_input_forms():
    p = _params()
    plan = sg.SpectrogramPlanner().linear_power_plan(p)
    two_d = np.random.default_rng(3).standard_normal((4, 6000))
    ref = plan.compute_batch(list(two_d)).data
    np.testing.assert_array_equal(plan.compute_batch(two_d).data, ref)
    np.testing.assert_array_equal(plan.compute_batch(tuple(two_d)).data, ref)
    objects = np.empty(4, dtype=object)  # what Ray Data hands over: read-only 1-D arrays
    for i, row in enumerate(two_d):
        r = row.copy()
        r.setflags(write=False)
        objects[i] = r
    np.testing.assert_array_equal(plan.compute_batch(objects).data, ref)
    strided = np.random.default_rng(3).standard_normal((4, 12000))[:, ::2]
    np.testing.assert_array_equal(plan.compute_batch(strided).data, plan.compute_batch(np.ascontiguousarray(strided)).data)
    torch = pytest.importorskip("torch")
    np.testing.assert_array_equal(plan.compute_batch(torch.from_numpy(two_d)).data, ref)
    np.testing.assert_array_equal(plan.compute_batch([torch.from_numpy(r) for r in two_d]).data, ref)


def test_pad_false():
    plan = sg.SpectrogramPlanner().linear_power_plan(_params())
    same = plan.compute_batch(_signals([4000, 4000]), pad=False)
    assert same.shape[0] == 2
    with pytest.raises(ValueError, match=r"item 0 has 26 frames and item 1 has 7 frames"):
        plan.compute_batch(_signals([4000, 1000]), pad=False)


def test_batch_pickles():
    b = sg.compute_mel_db_spectrogram_batch(_signals([3000, 1200]), _params(), MEL)
    again = pickle.loads(pickle.dumps(b))
    np.testing.assert_array_equal(again.data, b.data)
    np.testing.assert_array_equal(again.lengths, b.lengths)
    np.testing.assert_array_equal(again.frequencies, b.frequencies)
    assert again.params == b.params
    assert again.data.ctypes.data % 64 == 0


def test_concurrent_batches_on_one_plan_do_not_deadlock():
    plan = sg.SpectrogramPlanner().mel_power_plan(_params(), MEL)
    xs = _signals([32000] * 8)
    ref = plan.compute_batch(xs, n_threads=1).data
    results, errors = [], []

    def work():
        try:
            for _ in range(10):
                results.append(plan.compute_batch(xs, n_threads=3).data)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a batch hung"
    assert not errors
    assert len(results) == 30
    for r in results:
        np.testing.assert_array_equal(r, ref)


def _child_batch(queue):
    plan = sg.SpectrogramPlanner().mel_power_plan(_params(), MEL)
    out = plan.compute_batch(_signals([20000, 5000, 9000]), n_threads=2)
    queue.put((out.data.sum(), sg._core.pool_worker_count()))


def test_fork_after_a_batch_in_a_clean_interpreter(tmp_path):
    """fork() while the pool runs, in an interpreter that has not loaded JAX or torch (whose own
    threads make fork() unsafe in the test process itself)."""
    import subprocess
    import sys

    script = tmp_path / "fork_child.py"
    script.write_text(
        "import os, sys, numpy as np, spectrograms as sg\n"
        "p = sg.SpectrogramParams(sg.StftParams(400, 160, sg.WindowType.hanning), 16000.0)\n"
        "plan = sg.SpectrogramPlanner().mel_power_plan(p, sg.MelParams(40, 0.0, 8000.0))\n"
        "xs = [np.random.default_rng(i).standard_normal(n) for i, n in enumerate([20000, 5000, 9000])]\n"
        "parent = plan.compute_batch(xs, n_threads=2).data\n"
        "assert sg._core.pool_worker_count() >= 1\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    child = plan.compute_batch(xs, n_threads=2).data\n"
        "    ok = np.array_equal(child, parent) and sg._core.pool_worker_count() >= 1\n"
        "    os._exit(0 if ok else 3)\n"
        "_, status = os.waitpid(pid, 0)\n"
        "sys.exit(os.waitstatus_to_exitcode(status))\n")
    done = subprocess.run([sys.executable, str(script)], timeout=120, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_batches_in_child_processes(method):
    if method == "fork" and ("jax" in sys.modules or "torch" in sys.modules):
        pytest.skip("this process has loaded JAX or torch, whose threads make fork() unsafe; "
                    "test_fork_after_a_batch_in_a_clean_interpreter covers fork")
    plan = sg.SpectrogramPlanner().mel_power_plan(_params(), MEL)
    expected = plan.compute_batch(_signals([20000, 5000, 9000]), n_threads=2).data.sum()  # the parent's pool runs
    assert sg._core.pool_worker_count() >= 1
    ctx = mp.get_context(method)
    queue = ctx.Queue()
    proc = ctx.Process(target=_child_batch, args=(queue,))
    proc.start()
    total, workers = queue.get(timeout=120)
    proc.join(timeout=60)
    assert proc.exitcode == 0
    assert total == expected
    assert workers >= 1  # the child started a pool of its own


def test_num_threads_settings(monkeypatch):
    import os

    monkeypatch.delenv("SPECTROGRAMS_NUM_THREADS", raising=False)
    sg.set_num_threads(None)
    assert sg.get_num_threads() == len(os.sched_getaffinity(0))
    monkeypatch.setenv("SPECTROGRAMS_NUM_THREADS", "3")
    assert sg.get_num_threads() == 3
    sg.set_num_threads(2)
    assert sg.get_num_threads() == 2
    with sg.num_threads(1):
        assert sg.get_num_threads() == 1
    assert sg.get_num_threads() == 2
    sg.set_num_threads(None)
    assert sg.get_num_threads() == 3
    with pytest.raises(ValueError, match="n must be >= 1, got 0"):
        sg.set_num_threads(0)
    with pytest.raises(TypeError, match="positive integer"):
        sg.set_num_threads(1.5)


def test_threadpoolctl_sees_and_limits_the_engine():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    sg.set_num_threads(None)
    info = [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "spectrograms"]
    assert len(info) == 1 and info[0]["num_threads"] == sg.get_num_threads()
    with threadpoolctl.threadpool_limits(limits=1, user_api="spectrograms"):
        assert sg.get_num_threads() == 1
    sg.set_num_threads(None)


@pytest.mark.slow
def test_no_leak_over_10k_batch_calls():
    plan = sg.SpectrogramPlanner().mel_power_plan(_params(), MEL)
    xs = _signals([2000, 800, 3000])

    def run(n):
        for _ in range(n):
            b = plan.compute_batch(xs, n_threads=2)
            _ = b[1].data
            del b

    run(500)
    gc.collect()
    before = rss_bytes()
    run(10_000)
    gc.collect()
    growth = rss_bytes() - before
    assert growth < 4 * 2**20, f"RSS grew by {growth / 2**20:.1f} MiB over 10,000 batch calls"


# ---- bad input: one test each ---------------------------------------------------------------------

PLAN = None


def _plan():
    global PLAN
    if PLAN is None:
        PLAN = sg.SpectrogramPlanner().linear_power_plan(_params())
    return PLAN


def test_empty_list():
    with pytest.raises(ValueError, match="at least one signal, got an empty sequence"):
        _plan().compute_batch([])


def test_three_d_array():
    with pytest.raises(TypeError, match=r"must be 2-D \(B, L\), got 3-D with shape \(2, 3, 4\)"):
        _plan().compute_batch(np.zeros((2, 3, 4)))


def test_item_of_wrong_dtype_names_the_index():
    xs = _signals([1000, 1000]) + [np.zeros(1000, dtype=np.int16)]
    with pytest.raises(TypeError, match="signal 2 must be a floating-point array.*int16"):
        _plan().compute_batch(xs)


def test_two_d_item_names_the_index():
    with pytest.raises(TypeError, match="signal 1 must be a 1-D array"):
        _plan().compute_batch([np.zeros(100), np.zeros((2, 100))])


def test_empty_item_names_the_index():
    with pytest.raises(ValueError, match="signal 1 is empty"):
        _plan().compute_batch([np.zeros(100), np.zeros(0)])


@pytest.mark.parametrize("n", [0, -1])
def test_non_positive_threads(n):
    with pytest.raises(ValueError, match=f"n_threads must be >= 1, got {n}"):
        _plan().compute_batch(_signals([1000]), n_threads=n)


def test_non_integer_threads():
    with pytest.raises(TypeError, match="n_threads must be a positive integer"):
        _plan().compute_batch(_signals([1000]), n_threads=2.0)


def test_not_a_batch():
    with pytest.raises(TypeError, match="signals must be a list or tuple"):
        _plan().compute_batch(42)
