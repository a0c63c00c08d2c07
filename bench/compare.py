"""Engine benchmark: spectrograms vs the C floor, librosa and torch, per clip, 1 thread.

Workloads W0-W3 (see _harness.WORKLOADS). For each, in interleaved rounds:

* ours, ``plan.compute`` (mel power, Hann, centre, f_max = sr/2, norm='slaney' so that the mel
  step is the floor's), float64 and float32;
* ours, the one-shot ``sg.compute_mel_power_spectrogram`` (float64);
* ours, a linear power plan (float64), against the floor's ``full`` row;
* ours, the binding alone (``plan._engine.compute``, no Python result object): shows how much of
  a call is the Python layer;
* librosa ``feature.melspectrogram`` (float64 mel basis, symmetric Hann, zero padding);
* torch ``stft`` + dense mel matmul, float64, ``torch.set_num_threads(1)``;
* the C floor (shared/perf/floor.c, ``--pad zero``), one short run per round in the rotation; its ``mel`` and
  ``full`` rows, 1 thread.

Every figure is per clip; on W3 each call takes the next of the 64 clips in turn. Before timing, ours
is checked against librosa and torch (``allclose``), so all contenders compute the same thing.

Run: PYTHONPATH=src SPECTROGRAMS_DEV_BUILD=build/devext .venv/bin/python bench/compare.py [--quick]
"""

from __future__ import annotations

import itertools
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

TARGET_PLAN = 1.25  # plan.compute / floor mel, W1-W3
TARGET_ONESHOT = 1.5  # one-shot / floor mel, W1-W3


def setup(w: H.Workload, have_librosa: bool, have_torch: bool):
    """The contenders for one workload, after checking that they agree."""
    params = sg.SpectrogramParams(sg.StftParams(w.n_fft, w.hop, sg.WindowType.hanning, centre=True), w.sr)
    mel = sg.MelParams(w.n_mels, 0.0, w.sr / 2, norm="slaney")
    planner = sg.SpectrogramPlanner()
    plan64 = planner.mel_power_plan(params, mel)
    plan32 = planner.mel_power_plan(params, mel, dtype="float32")
    lin64 = planner.linear_power_plan(params)
    X64 = w.signals("float64")
    X32 = X64.astype(np.float32)
    xs64, xs32 = list(X64), list(X32)
    window = np.hanning(w.n_fft)

    ref = plan64.compute(xs64[0]).data
    scale = float(ref.max())
    # float32 is computed in single precision: compare with a tolerance relative to the peak
    np.testing.assert_allclose(plan32.compute(xs32[0]).data, ref, rtol=1e-3, atol=1e-5 * scale)
    np.testing.assert_array_equal(sg.compute_mel_power_spectrogram(xs64[0], params, mel).data, ref)

    def loop(f, xs):  # one clip per call, cycling through the clips (W3: 64 different clips)
        if len(xs) == 1:
            x = xs[0]
            return lambda: f(x)
        it = itertools.cycle(xs)
        return lambda: f(next(it))

    cs = [
        H.Contender("ours plan f64", loop(plan64.compute, xs64)),
        H.Contender("ours one-shot f64", loop(lambda x: sg.compute_mel_power_spectrogram(x, params, mel), xs64)),
        H.Contender("ours plan f32", loop(plan32.compute, xs32)),
        H.Contender("ours linear plan f64", loop(lin64.compute, xs64)),
    ]
    engine = getattr(plan64, "_engine", None)
    if engine is not None and hasattr(engine, "compute"):
        cs.append(H.Contender("ours binding only f64", loop(engine.compute, xs64)))

    if have_librosa:
        import librosa

        def lib(x):
            return librosa.feature.melspectrogram(
                y=x, sr=w.sr, n_fft=w.n_fft, hop_length=w.hop, n_mels=w.n_mels, power=2.0, center=True,
                pad_mode="constant", window=window, norm="slaney", htk=False, fmin=0.0, fmax=w.sr / 2,
                dtype=np.float64)

        np.testing.assert_allclose(ref, lib(xs64[0]), rtol=1e-7, atol=1e-12 * scale)
        cs.append(H.Contender("librosa f64", loop(lib, xs64)))

    if have_torch:
        import librosa
        import torch

        fb = torch.from_numpy(librosa.filters.mel(sr=w.sr, n_fft=w.n_fft, n_mels=w.n_mels, fmin=0.0,
                                                  fmax=w.sr / 2, norm="slaney", htk=False, dtype=np.float64))
        tw = torch.hann_window(w.n_fft, periodic=False, dtype=torch.float64)
        ts = [torch.from_numpy(x) for x in xs64]

        def tor(x):
            S = torch.stft(x, w.n_fft, hop_length=w.hop, window=tw, center=True, pad_mode="constant",
                           return_complex=True)
            return fb @ (S.abs() ** 2)

        with torch.no_grad():
            np.testing.assert_allclose(ref, tor(ts[0]).numpy(), rtol=1e-7, atol=1e-12 * scale)
        cs.append(H.Contender("torch f64", loop(tor, ts)))
    return cs


ROWS = [  # (label, key); keys "floor ..." come from the floor's JSON
    ("C floor, mel f64", "floor mel f64"),
    ("ours `plan.compute` f64", "ours plan f64"),
    ("ours one-shot f64", "ours one-shot f64"),
    ("librosa f64", "librosa f64"),
    ("torch.stft + mel f64", "torch f64"),
    ("C floor, mel f32", "floor mel f32"),
    ("ours `plan.compute` f32", "ours plan f32"),
    ("C floor, full (linear power) f64", "floor full f64"),
    ("ours linear power plan f64", "ours linear plan f64"),
    ("ours binding only (`_engine.compute`) f64", "ours binding only f64"),
]
RATIOS = [  # (label, numerator, denominator)
    (f"plan / floor mel, f64 (target ≤ {TARGET_PLAN} on W1-W3)", "ours plan f64", "floor mel f64"),
    (f"one-shot / floor mel, f64 (target ≤ {TARGET_ONESHOT} on W1-W3)", "ours one-shot f64", "floor mel f64"),
    ("plan / floor mel, f32", "ours plan f32", "floor mel f32"),
    ("linear plan / floor full, f64", "ours linear plan f64", "floor full f64"),
    ("librosa / ours plan, f64", "librosa f64", "ours plan f64"),
    ("torch / ours plan, f64", "torch f64", "ours plan f64"),
    ("ours f32 / ours f64 (plan)", "ours plan f32", "ours plan f64"),
    ("Python layer: plan / binding only", "ours plan f64", "ours binding only f64"),
]


def main() -> None:
    ap = H.arg_parser(__doc__.splitlines()[0])
    ap.add_argument("--workloads", default="W0,W1,W2,W3", help="comma-separated subset of W0,W1,W2,W3")
    args = ap.parse_args()
    rounds = args.rounds or (8 if args.quick else 30)
    block_time = 0.001  # short blocks, several per round: see _harness.interleaved
    round_time = 0.006 if args.quick else 0.015
    floor_time = 0.02 if args.quick else 0.04
    warnings.filterwarnings("ignore", category=UserWarning)  # librosa: n_fft too large for W0's 512 samples

    try:
        import librosa  # noqa: F401
        have_librosa = True
    except ImportError:
        have_librosa = False
    try:
        import torch

        torch.set_num_threads(1)
        have_torch = have_librosa  # torch's mel matrix comes from librosa.filters.mel
    except ImportError:
        have_torch = False

    workloads = [H.WORKLOADS[k.strip()] for k in args.workloads.split(",")]
    table: dict = {}
    payload: dict = {"machine": None, "workloads": {}}
    for w in workloads:
        print(f"{w.label} ...", file=sys.stderr)
        cs = setup(w, have_librosa, have_torch)
        foreign = H.ForeignLoad()
        floor = H.Floor(w, floor_time)  # one short floor run per round, in the rotation
        timed = H.interleaved(cs, rounds=rounds, block_time=block_time, round_time=round_time, verbose=True,
                              external=[floor])
        vals = {name: c.median for name, c in timed.items()}
        for prec in ("f64", "f32"):
            for stage in ("mel", "full"):
                v = floor.value(prec, 1, stage)
                if v is not None:
                    vals[f"floor {stage} {prec}"] = v
        floors = floor.runs
        vals["foreign"] = foreign.cores()
        table[w.key] = vals
        payload["workloads"][w.key] = {"label": w.label, "median_s_per_clip": vals,
                                       "detail": H.results_payload(timed), "floor_runs": floors}

    info = H.machine_info()
    payload["machine"] = info
    keys = [w.key for w in workloads]

    def ratio(k, num, den):
        a, b = table[k].get(num), table[k].get(den)
        return a / b if a and b else None

    rows = [[label] + [H.fmt_time(table[k].get(key)) for k in keys] for label, key in ROWS]
    rows += [[f"*{label}*"] + [H.fmt_ratio(ratio(k, n, d)) for k in keys] for label, n, d in RATIOS]
    rows.append(["other processes' CPU use during this column (cores)"] + [f"{table[k]['foreign']:.2f}" for k in keys])
    out = ["# Engine benchmark: time per clip, 1 thread", "", H.machine_md(info), "",
           "Medians over interleaved rounds; the floor is the C FFTW program (`--pad zero`, 1 thread), "
           "one short run of it per round, in the same rotation as the other contenders (median over the runs). "
           "Mel: Slaney, norm='slaney', 0 to sr/2, Hann, centred, zero padding.", "",
           H.md_table(["contender"] + [H.WORKLOADS[k].label for k in keys], rows)]

    targets = []
    for k in keys:
        if k == "W0":
            continue
        r = ratio(k, "ours plan f64", "floor mel f64")
        targets.append([f"{k}: plan.compute / floor mel ≤ {TARGET_PLAN}", H.fmt_ratio(r),
                        H.verdict(r, TARGET_PLAN, False)])
        r = ratio(k, "ours one-shot f64", "floor mel f64")
        targets.append([f"{k}: one-shot / floor mel ≤ {TARGET_ONESHOT}", H.fmt_ratio(r),
                        H.verdict(r, TARGET_ONESHOT, False)])
    if targets:
        out += ["", "## Targets", "", H.md_table(["target", "measured", "verdict"], targets, "lrl")]
    payload["targets"] = targets
    H.save("compare", "\n".join(out), args, payload)


if __name__ == "__main__":
    main()
