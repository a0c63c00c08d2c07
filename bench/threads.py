"""GIL release: one shared plan serving 2 Python threads, and compute_batch on 1 vs 2 engine threads.

* ``plan.compute`` (mel power, float64): 1 thread computing 2N calls vs 2 Python threads computing
  N calls each on the same plan (W1, W2; target speedup >= 1.8x on 2 cores). W0 (per-call cost
  dominated) and the one-shot function on W1 are shown too, without a target.
* ``plan.compute_batch`` on W3 (64 clips), ``n_threads=1`` vs ``n_threads=2`` (target >= 1.8x).
* The ceiling: the same work in two forked processes (each half of it), which no GIL and no shared
  state can slow down: on a shared 2-core VM it is often below 2x, and it bounds what threads can do.
  And the C floor's own 2-thread speedup (OpenMP over frames) on W1-W3, run before and after.

The two Python threads are started once (a pool of 2) and reused, so thread start-up is not timed;
N is chosen so that one measurement lasts ~0.3 s (1-thread). Serial and threaded runs alternate in rounds.

Run: PYTHONPATH=src SPECTROGRAMS_DEV_BUILD=build/devext .venv/bin/python bench/threads.py [--quick]
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any, Callable, Dict

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import _harness as H  # noqa: E402
import spectrograms as sg  # noqa: E402

TARGET = 1.8


def plan_for(w: H.Workload, dtype: str = "float64"):
    params = sg.SpectrogramParams(sg.StftParams(w.n_fft, w.hop, sg.WindowType.hanning, centre=True), w.sr)
    mel = sg.MelParams(w.n_mels, 0.0, w.sr / 2)
    return params, mel, sg.SpectrogramPlanner().mel_power_plan(params, mel, dtype=dtype)


_CALLS: Dict[str, Callable[[], Any]] = {}  # what the forked ceiling processes can run, by name


def _run_calls(key: str, n: int) -> None:  # in a worker process
    call = _CALLS[key]
    for _ in range(n):
        call()


def calls_for(call, run_time: float) -> int:
    """N such that 2N calls take ~run_time."""
    call()
    t0 = time.perf_counter()
    k = 0
    while time.perf_counter() - t0 < 0.05:
        call()
        k += 1
    return max(2, int(run_time / 2 / ((time.perf_counter() - t0) / k)))


def trio(key: str, call, n: int, threads: ThreadPoolExecutor, procs):
    """'1 thread' (2N calls), '2 threads' (N calls in each of two Python threads, one shared plan)
    and '2 processes' (N calls in each of two forked processes: the machine's ceiling for this work,
    with no GIL and nothing shared)."""

    def serial():
        _run_calls(key, 2 * n)

    def threaded():
        wait([threads.submit(_run_calls, key, n), threads.submit(_run_calls, key, n)])

    def processes():
        procs.starmap(_run_calls, [(key, n), (key, n)], chunksize=1)

    return (H.Contender(f"{key} | 1 thread", serial, 2 * n),
            H.Contender(f"{key} | 2 threads", threaded, 2 * n),
            H.Contender(f"{key} | 2 processes", processes, 2 * n))


def main() -> None:
    ap = H.arg_parser(__doc__.splitlines()[0])
    ap.add_argument("--no-floor", action="store_true", help="skip the C floor's 2-thread reference")
    args = ap.parse_args()
    rounds = args.rounds or (6 if args.quick else 20)
    run_time = 0.1 if args.quick else 0.3
    cores = len(os.sched_getaffinity(0))

    rows_spec = []  # (label, key, target)
    for w in (H.W0, H.W1, H.W2):
        params, mel, plan = plan_for(w)
        x = w.signals()[0]
        _CALLS[f"{w.key} plan.compute"] = lambda plan=plan, x=x: plan.compute(x)
        rows_spec.append((f"`plan.compute`, {w.label}", f"{w.key} plan.compute", TARGET if w.key != "W0" else None))
        if w.key == "W1":
            f = sg.compute_mel_power_spectrogram
            _CALLS["W1 one-shot"] = lambda x=x, p=params, m=mel, f=f: f(x, p, m)
            rows_spec.append((f"one-shot `compute_mel_power_spectrogram`, {w.label}", "W1 one-shot", None))
    _, _, plan3 = plan_for(H.W3)
    X3 = H.W3.signals()
    np.testing.assert_array_equal(plan3.compute_batch(X3[:4], n_threads=2).data[1], plan3.compute(X3[1]).data)
    half = H.W3.clips // 2
    _CALLS["W3 half batch"] = lambda: plan3.compute_batch(X3[:half], n_threads=1)  # the ceiling's share

    n_of = {key: calls_for(_CALLS[key], run_time) for _, key, _ in rows_spec}
    procs = mp.get_context("fork").Pool(2)  # forked now: the children see _CALLS
    threads = ThreadPoolExecutor(max_workers=2)
    wait([threads.submit(time.sleep, 0.01) for _ in range(2)])  # start both workers
    procs.starmap(time.sleep, [(0.01,), (0.01,)], chunksize=1)

    trios = {key: trio(key, _CALLS[key], n_of[key], threads, procs) for _, key, _ in rows_spec}
    b1 = H.Contender("W3 compute_batch | 1 thread", lambda: plan3.compute_batch(X3, n_threads=1), H.W3.clips)
    b2 = H.Contender("W3 compute_batch | 2 threads", lambda: plan3.compute_batch(X3, n_threads=2), H.W3.clips)
    bp = H.Contender("W3 compute_batch | 2 processes",
                     lambda: procs.starmap(_run_calls, [("W3 half batch", 1)] * 2, chunksize=1), H.W3.clips)
    trios["W3 compute_batch"] = (b1, b2, bp)
    rows_spec.append((f"`compute_batch` n_threads 1 vs 2, {H.W3.label} (per clip)", "W3 compute_batch", TARGET))

    contenders = [c for t in trios.values() for c in t]
    floor_w = {"W1 plan.compute": H.W1, "W2 plan.compute": H.W2, "W3 compute_batch": H.W3}
    floors: Dict[str, list] = {k: [] for k in floor_w}

    def run_floors():  # the C floor's own 1 vs 2 thread ratio (OpenMP over the frames of a clip)
        if not args.no_floor:
            for k, w in floor_w.items():
                floors[k].append(H.run_floor(w, 0.05 if args.quick else 0.15, threads=2, timeout=60))

    run_floors()
    print(f"{len(contenders)} contenders, {rounds} rounds ...", file=sys.stderr)
    timed = H.interleaved(contenders, rounds=rounds, block_time=0.0, verbose=True)
    if not args.quick:
        run_floors()
    threads.shutdown()
    procs.close()
    procs.join()

    rows = []
    for label, key, target in rows_spec:
        s, t, p = trios[key]
        sp = s.median / t.median
        cpu = (t.median * t.median_cores) / (s.median * s.median_cores)
        f1, f2 = (H.floor_value(floors.get(key, []), "f64", t, "mel") for t in (1, 2))
        rows.append([label, H.fmt_time(s.median), H.fmt_time(t.median), H.fmt_ratio(sp), f"{t.median_cores:.2f}",
                     H.fmt_ratio(cpu), H.fmt_ratio(s.median / p.median), H.fmt_ratio(f1 / f2 if f1 and f2 else None),
                     f"≥ {target}" if target else "—", H.verdict(sp, target, True) if target else "—"])

    info = H.machine_info()
    out = ["# Threads: GIL release and engine threads (float64, mel power)", "", H.machine_md(info), "",
           f"{cores} cores available. Times are per call (per clip for compute_batch), medians over "
           f"{rounds} interleaved rounds; '1 thread' runs 2N calls in one Python thread, '2 threads' N calls "
           "in each of two Python threads sharing one plan; speedup = 1-thread time / 2-thread time "
           "(wall clock). 'Cores busy': this process's CPU time / wall time in the 2-thread runs (2.0 = both "
           "threads ran all the time; near 1.0 = the threads took turns, or another process held a core); "
           "'CPU per call, 2 threads / 1': above 1.0, each call costs more CPU when two run at once (contention "
           "for caches, memory, locks), as opposed to threads waiting; 'ceiling': the speedup of the same "
           "calls in two forked processes (no GIL, nothing shared), i.e. what this machine allows right now; "
           "'C floor': the C program's own speedup with 2 OpenMP threads on that workload (mel, float64), "
           "run before and after.", "",
           H.md_table(["workload", "1 thread", "2 threads", "speedup", "cores busy (2 threads)",
                       "CPU per call, 2 threads / 1", "ceiling: 2 processes", "C floor mel, 2 threads vs 1",
                       "target", "verdict"], rows, "lrrrrrrrrl")]
    H.save("threads", "\n".join(out), args, {"machine": info, "results": H.results_payload(timed)})


if __name__ == "__main__":
    main()
