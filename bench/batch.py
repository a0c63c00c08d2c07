"""Parallel batches: compute_batch on W3 (64 x 4 s @ 16 kHz, 400/160, 80 mels) vs a loop, torch, librosa.

For float32 and float64, in interleaved rounds, per clip:

* ours ``plan.compute_batch(X, n_threads=1)`` and ``n_threads=2`` (X: the (64, 64000) array);
* ours, a Python loop over ``plan.compute`` (each result dropped at once, as the C floor reuses one
  output buffer), and the same loop keeping all 64 results (the output memory a batch writes);
* ``torch.stft`` + dense mel matmul on the stacked (64, 64000) tensor, ``torch.set_num_threads``
  1 and 2 (same Hann window, zero padding, mel matrix from ``librosa.filters.mel``);
* librosa ``feature.melspectrogram`` in a loop over the clips;
* the C floor's W3 ``mel`` rows (1 and 2 threads) for reference, run before and after.

Plus a batch of 16 unequal clips (1 to 30 s, seeded) with 2 engine threads vs 1.

Targets: compute_batch 1 thread per clip / plan.compute per clip <= 1.1; 2 threads vs 1 >= 1.8x;
float32 / float64 <= 0.8; torch / ours at the same threads and dtype >= 3x; unequal batch
2 threads vs 1 >= 1.7x.

Run: PYTHONPATH=src SPECTROGRAMS_DEV_BUILD=build/devext .venv/bin/python bench/batch.py [--quick]
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # librosa/numpy: 1 thread
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402

import _harness as H  # noqa: E402
import spectrograms as sg  # noqa: E402

W = H.W3
DTYPES = ("float64", "float32")
SHORT = {"float64": "f64", "float32": "f32"}


def contenders(X64: np.ndarray, have_torch: bool, have_librosa: bool, check: bool = True):
    params = sg.SpectrogramParams(sg.StftParams(W.n_fft, W.hop, sg.WindowType.hanning, centre=True), W.sr)
    mel = sg.MelParams(W.n_mels, 0.0, W.sr / 2)
    planner = sg.SpectrogramPlanner()
    cs = []
    for dt in DTYPES:
        d = SHORT[dt]
        plan = planner.mel_power_plan(params, mel, dtype=dt)
        X = X64.astype(dt)
        xs = list(X)
        ref = plan.compute(xs[0]).data
        if check:
            batch = plan.compute_batch(X[:3], n_threads=2).data
            np.testing.assert_array_equal(batch[0], ref)  # a batch item equals plan.compute, bit for bit
            np.testing.assert_array_equal(batch[2], plan.compute(xs[2]).data)

        def loop(plan=plan, xs=xs):
            for x in xs:
                plan.compute(x)

        def loop_keep(plan=plan, xs=xs):
            return [plan.compute(x) for x in xs]

        cs += [H.Contender(f"batch 1t {d}", lambda plan=plan, X=X: plan.compute_batch(X, n_threads=1), W.clips),
               H.Contender(f"batch 2t {d}", lambda plan=plan, X=X: plan.compute_batch(X, n_threads=2), W.clips),
               H.Contender(f"loop {d}", loop, W.clips),
               H.Contender(f"loop keep {d}", loop_keep, W.clips)]
        scale = float(ref.max())
        tol = dict(rtol=1e-7, atol=1e-12 * scale) if dt == "float64" else dict(rtol=1e-3, atol=1e-5 * scale)
        if have_torch:
            import librosa
            import torch

            tdt = getattr(torch, dt)
            fb = torch.from_numpy(librosa.filters.mel(sr=W.sr, n_fft=W.n_fft, n_mels=W.n_mels, fmin=0.0,
                                                      fmax=W.sr / 2, norm=None, htk=False, dtype=dt))
            tw = torch.hann_window(W.n_fft, periodic=False, dtype=tdt)
            T = torch.from_numpy(X)

            def tor(T=T, tw=tw, fb=fb):
                S = torch.stft(T, W.n_fft, hop_length=W.hop, window=tw, center=True, pad_mode="constant",
                               return_complex=True)
                return fb @ (S.abs() ** 2)  # (64, n_mels, n_frames)

            if check:
                with torch.no_grad():
                    np.testing.assert_allclose(tor().numpy()[0], ref, **tol)
            for t in (1, 2):
                cs.append(H.Contender(f"torch {t}t {d}", tor, W.clips, before=lambda t=t: torch.set_num_threads(t)))
        if have_librosa:
            import librosa

            window = np.hanning(W.n_fft).astype(dt)

            def lib(x, window=window, dt=dt):  # defaults bind this iteration's values
                return librosa.feature.melspectrogram(
                    y=x, sr=W.sr, n_fft=W.n_fft, hop_length=W.hop, n_mels=W.n_mels, power=2.0, center=True,
                    pad_mode="constant", window=window, norm=None, htk=False, fmin=0.0, fmax=W.sr / 2,
                    dtype=dt)

            if check:
                np.testing.assert_allclose(lib(xs[0]), ref, **tol)

            def lib_loop(xs=xs, lib=lib):
                for x in xs:
                    lib(x)

            cs.append(H.Contender(f"librosa {d}", lib_loop, W.clips))
    return cs


def unequal_contenders(seed: int = 0):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1 * W.sr, 30 * W.sr + 1, size=16)
    params = sg.SpectrogramParams(sg.StftParams(W.n_fft, W.hop, sg.WindowType.hanning, centre=True), W.sr)
    mel = sg.MelParams(W.n_mels, 0.0, W.sr / 2)
    cs = []
    for dt in DTYPES:
        plan = sg.SpectrogramPlanner().mel_power_plan(params, mel, dtype=dt)
        xs = [(rng.random(n) - 0.5).astype(dt) for n in lengths]
        for t in (1, 2):
            cs.append(H.Contender(f"unequal {t}t {SHORT[dt]}",
                                  lambda plan=plan, xs=xs, t=t: plan.compute_batch(xs, n_threads=t), len(xs)))
    return cs, lengths


def main() -> None:
    ap = H.arg_parser(__doc__.splitlines()[0])
    ap.add_argument("--no-floor", action="store_true", help="skip the C floor")
    args = ap.parse_args()
    rounds = args.rounds or (5 if args.quick else 20)
    floor_time = 0.05 if args.quick else 0.2
    warnings.filterwarnings("ignore", category=UserWarning)
    try:
        import librosa  # noqa: F401
        have_librosa = True
    except ImportError:
        have_librosa = False
    try:
        import torch  # noqa: F401
        have_torch = have_librosa
    except ImportError:
        have_torch = False

    X64 = W.signals("float64")
    cs = contenders(X64, have_torch, have_librosa)
    ucs, lengths = unequal_contenders()
    floors = [] if args.no_floor else [H.run_floor(W, floor_time, threads=2, timeout=60)]
    print(f"{len(cs) + len(ucs)} contenders, {rounds} rounds ...", file=sys.stderr)
    timed = H.interleaved(cs + ucs, rounds=rounds, block_time=0.0, verbose=True)
    if not args.no_floor and not args.quick:
        floors.append(H.run_floor(W, floor_time, threads=2, timeout=60))
    v = {name: c.median for name, c in timed.items()}
    for d in ("f64", "f32"):
        for t in (1, 2):
            f = H.floor_value(floors, d, t, "mel")
            if f is not None:
                v[f"floor {t}t {d}"] = f

    def r(a, b):
        return v[a] / v[b] if a in v and b in v else None

    # --- table 1: per clip times
    names = [("ours `compute_batch`, 1 thread", "batch 1t"), ("ours `compute_batch`, 2 threads", "batch 2t"),
             ("ours loop over `plan.compute`", "loop"),
             ("ours loop over `plan.compute`, keeping the 64 results", "loop keep"), ("torch.stft + mel, stacked, 1 thread", "torch 1t"),
             ("torch.stft + mel, stacked, 2 threads", "torch 2t"), ("librosa, loop", "librosa"),
             ("C floor mel, 1 thread (norm slaney)", "floor 1t"), ("C floor mel, 2 threads (norm slaney)", "floor 2t")]
    rows = [[label, H.fmt_time(v.get(f"{k} f64")), H.fmt_time(v.get(f"{k} f32"))] for label, k in names]
    t1 = H.md_table(["contender (per clip)", "float64", "float32"], rows)

    # --- table 2: targets
    tg = []

    def add(label, val, target, higher):
        tg.append([label, H.fmt_ratio(val), f"{'≥' if higher else '≤'} {target}", H.verdict(val, target, higher)])

    for d in ("f64", "f32"):
        add(f"{d}: compute_batch 1 thread / plan.compute loop", r(f"batch 1t {d}", f"loop {d}"), 1.1, False)
        add(f"{d}: compute_batch speedup, 2 threads vs 1", r(f"batch 1t {d}", f"batch 2t {d}"), 1.8, True)
    for t in (1, 2):
        add(f"f32 / f64, compute_batch {t} thread{'s' if t > 1 else ''}", r(f"batch {t}t f32", f"batch {t}t f64"),
            0.8, False)
    for d in ("f64", "f32"):
        for t in (1, 2):
            add(f"{d}: torch / ours, {t} thread{'s' if t > 1 else ''}", r(f"torch {t}t {d}", f"batch {t}t {d}"),
                3.0, True)
    for d in ("f64", "f32"):
        add(f"{d}: unequal batch (16 clips, 1-30 s) speedup, 2 threads vs 1",
            r(f"unequal 1t {d}", f"unequal 2t {d}"), 1.7, True)
    t2 = H.md_table(["target", "measured", "target", "verdict"], tg, "lrrl")

    # --- informative ratios
    info_rows = []
    for d in ("f64", "f32"):
        info_rows.append([f"{d}: compute_batch 1 thread / loop keeping its results (same output memory traffic)",
                          H.fmt_ratio(r(f"batch 1t {d}", f"loop keep {d}"))])
        info_rows.append([f"{d}: librosa loop / ours compute_batch 1 thread", H.fmt_ratio(r(f"librosa {d}", f"batch 1t {d}"))])
        info_rows.append([f"{d}: ours compute_batch / C floor mel, 1 thread", H.fmt_ratio(r(f"batch 1t {d}", f"floor 1t {d}"))])
        info_rows.append([f"{d}: ours compute_batch / C floor mel, 2 threads", H.fmt_ratio(r(f"batch 2t {d}", f"floor 2t {d}"))])
        info_rows.append([f"{d}: torch speedup, 2 threads vs 1", H.fmt_ratio(r(f"torch 1t {d}", f"torch 2t {d}"))])
    t3 = H.md_table(["ratio", "measured"], info_rows)

    urows = [[f"unequal batch, {t} thread{'s' if t > 1 else ''}", H.fmt_time(v.get(f"unequal {t}t f64")),
              H.fmt_time(v.get(f"unequal {t}t f32"))] for t in (1, 2)]
    t4 = H.md_table(["16 clips of 1-30 s (per clip)", "float64", "float32"], urows)
    crow = [[name, f"{c.median_cores:.2f}"] for name, c in timed.items() if " 2t " in name]
    t5 = H.md_table(["2-thread contender", "cores busy (process CPU time / wall time)"], crow)

    info = H.machine_info()
    out = ["# Batch benchmark: " + W.label, "", H.machine_md(info), "",
           f"Per-clip medians over {rounds} interleaved rounds (one round = one call of every contender). "
           "Mel power, norm none (the floor uses norm='slaney': same work). "
           f"Unequal batch lengths (s): {', '.join(f'{n / W.sr:.1f}' for n in lengths)}.", "",
           t1, "", "## Targets", "", t2, "", "## Other ratios", "", t3, "", "## Unequal batch", "", t4, "",
           "## Parallelism actually obtained", "", "2.0 = both threads busy all the time; near 1.0 = they "
           "took turns, or another process held a core.", "", t5]
    H.save("batch", "\n".join(out), args,
           {"machine": info, "median_s_per_clip": v, "detail": H.results_payload(timed), "floor_runs": floors,
            "unequal_lengths": [int(n) for n in lengths]})


if __name__ == "__main__":
    main()
