"""One plan shared by many Python threads, and compute_batch across engine thread counts:
results are identical (bit for bit) to the single-threaded ones."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import spectrograms as sg

N_THREADS = 8
CALLS_PER_THREAD = 200
PARAMS = sg.SpectrogramParams(sg.StftParams(512, 128, sg.WindowType.hanning, True), 16000.0)


def _run_threads(worker, n_threads: int) -> list:
    barrier = threading.Barrier(n_threads)
    errors: list = []

    def target(tid: int) -> None:
        try:
            barrier.wait()
            worker(tid)
        except BaseException as exc:  # reported on the main thread
            errors.append((tid, exc))

    threads = [threading.Thread(target=target, args=(t,)) for t in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a worker thread hung"
    return errors


@pytest.mark.parametrize("kind", ["mel-db", "linear-power", "stft"])
def test_shared_plan_many_python_threads(kind, make_signal):
    planner = sg.SpectrogramPlanner()
    plan = {
        "mel-db": lambda: planner.mel_db_plan(PARAMS, sg.MelParams(64, 0.0, 8000.0, "slaney"), sg.LogParams(-80.0)),
        "linear-power": lambda: planner.linear_power_plan(PARAMS),
        "stft": lambda: planner.stft_plan(PARAMS),
    }[kind]()
    # Each thread gets its own signal (different lengths too), so a mix-up would show.
    signals = [make_signal(4000 + 37 * t, seed=t) for t in range(N_THREADS)]
    references = [plan.compute(x).data.copy() for x in signals]
    mismatches = [0] * N_THREADS

    def worker(tid: int) -> None:
        x, ref = signals[tid], references[tid]
        for i in range(CALLS_PER_THREAD):
            if not np.array_equal(plan.compute(x).data, ref):
                mismatches[tid] += 1
            if i % 50 == 0 and not np.array_equal(plan.compute_frame(x, 3), ref[:, 3]):
                mismatches[tid] += 1

    errors = _run_threads(worker, N_THREADS)
    assert not errors, errors
    assert mismatches == [0] * N_THREADS


def test_oneshot_functions_from_many_threads(make_signal):
    mel = sg.MelParams(40)
    signals = [make_signal(4000, seed=100 + t) for t in range(N_THREADS)]
    references = [sg.compute_mel_power_spectrogram(x, PARAMS, mel).data.copy() for x in signals]
    mismatches = [0] * N_THREADS

    def worker(tid: int) -> None:
        for _ in range(50):
            if not np.array_equal(sg.compute_mel_power_spectrogram(signals[tid], PARAMS, mel).data, references[tid]):
                mismatches[tid] += 1

    errors = _run_threads(worker, N_THREADS)
    assert not errors, errors
    assert mismatches == [0] * N_THREADS


@pytest.mark.parametrize("n_threads", [1, 2, 3, 8])
@pytest.mark.parametrize("kind", ["linear-power", "mel-db", "linear-magnitude-f32", "stft"])
def test_compute_batch_identical_across_thread_counts(kind, n_threads, make_signal):
    planner = sg.SpectrogramPlanner()
    plan = {
        "linear-power": lambda: planner.linear_power_plan(PARAMS),
        "mel-db": lambda: planner.mel_db_plan(PARAMS, sg.MelParams(40, norm="l2"), sg.LogParams(-60.0)),
        "linear-magnitude-f32": lambda: planner.linear_magnitude_plan(PARAMS, dtype="float32"),
        "stft": lambda: planner.stft_plan(PARAMS),
    }[kind]()
    lengths = [4000, 1, 511, 3999, 2500, 4000, 100, 3333, 1234, 4000, 2048]
    signals = [make_signal(n, seed=n + i) for i, n in enumerate(lengths)]
    singles = [plan.compute(x).data for x in signals]
    batch = plan.compute_batch(signals, n_threads=n_threads)
    max_frames = max(s.shape[1] for s in singles)
    assert batch.data.shape == (len(signals), plan.n_bins, max_frames)
    assert list(batch.lengths) == [s.shape[1] for s in singles]
    for b, single in enumerate(singles):
        n = single.shape[1]
        assert np.array_equal(batch.data[b, :, :n], single), f"item {b}"
        assert not np.any(batch.data[b, :, n:]), f"padding of item {b} is not zero"
        assert np.array_equal(batch[b].data, single)
    # Same data whatever the thread count.
    reference = plan.compute_batch(signals, n_threads=1).data
    assert np.array_equal(batch.data, reference)


@pytest.mark.parametrize("n_threads", [1, 2, 3, 8])
def test_batch_function_equals_loop(n_threads, make_signal):
    mel = sg.MelParams(40)
    x2d = np.stack([make_signal(4000, seed=s) for s in range(6)])
    batch = sg.compute_mel_db_spectrogram_batch(x2d, PARAMS, mel, n_threads=n_threads, pad=False)
    for b in range(len(x2d)):
        assert np.array_equal(batch.data[b], sg.compute_mel_db_spectrogram(x2d[b], PARAMS, mel).data)


def test_batch_from_many_python_threads(make_signal):
    plan = sg.SpectrogramPlanner().linear_power_plan(PARAMS)
    signals = [make_signal(4000, seed=s) for s in range(5)]
    reference = plan.compute_batch(signals, n_threads=1).data.copy()
    mismatches = [0] * 4

    def worker(tid: int) -> None:
        for _ in range(20):
            if not np.array_equal(plan.compute_batch(signals, n_threads=2).data, reference):
                mismatches[tid] += 1

    errors = _run_threads(worker, 4)
    assert not errors, errors
    assert mismatches == [0] * 4
