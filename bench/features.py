"""Chroma, MFCC and CQT side by side with librosa, in one run.

10 s of noise at 22.05 kHz, n_fft 2048, hop 512, float64, one thread everywhere (BLAS and our
engine). Each repetition times every case once, in turn (the order rotating from one repetition
to the next), so that the machine's state is shared; the table gives medians.

    PYTHONPATH=src SPECTROGRAMS_DEV_BUILD=build/devext python bench/features.py [--reps 30]

Cases compared:
- chroma: ``compute_chromagram`` (A4 = 440 Hz, Gaussian pitch-class weights, L2 frames) and
  ``librosa.feature.chroma_stft(tuning=0.0)`` (fixed tuning, like ours); librosa's default call
  also estimates the tuning, shown on its own row.
- MFCC: ``compute_mfcc`` with ``MfccParams.librosa()`` and librosa's periodic Hann window, which
  computes the same numbers as ``librosa.feature.mfcc(y=y, sr=sr)`` (13 coefficients, 128 mels).
- CQT: ``compute_cqt_magnitude_spectrogram`` (84 bins from C1, 12 per octave, our per-frame
  definition with kernels of at most n_fft samples) and ``librosa.cqt`` with the same bins and hop
  (a different algorithm: longer kernels for the low bins, recursive downsampling).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import scipy.signal  # noqa: E402

import spectrograms as sg  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=30, help="interleaved repetitions (default 30)")
    parser.add_argument("--seconds", type=float, default=10.0, help="signal length in seconds (default 10)")
    args = parser.parse_args()

    import librosa

    sg.set_num_threads(1)
    sr, n_fft, hop = 22050, 2048, 512
    y = np.random.default_rng(0).standard_normal(int(args.seconds * sr))
    stft = sg.StftParams(n_fft, hop)
    librosa_stft = sg.StftParams(n_fft, hop, sg.WindowType.custom(scipy.signal.get_window("hann", n_fft)))
    cqt_params = sg.CqtParams(12, 7, float(librosa.note_to_hz("C1")))
    spec_params = sg.SpectrogramParams(stft, sr)
    mfcc_params = sg.MfccParams.librosa()

    cases = {
        ("chroma", "spectrograms"): lambda: sg.compute_chromagram(y, stft, sr),
        ("chroma", "librosa"): lambda: librosa.feature.chroma_stft(y=y, sr=sr, n_fft=n_fft, hop_length=hop,
                                                                   tuning=0.0),
        ("chroma (librosa estimates tuning)", "librosa"): lambda: librosa.feature.chroma_stft(
            y=y, sr=sr, n_fft=n_fft, hop_length=hop),
        ("MFCC", "spectrograms"): lambda: sg.compute_mfcc(y, librosa_stft, sr, 128, mfcc_params),
        ("MFCC", "librosa"): lambda: librosa.feature.mfcc(y=y, sr=sr, n_mfcc=13),
        ("CQT", "spectrograms"): lambda: sg.compute_cqt_magnitude_spectrogram(y, spec_params, cqt_params),
        ("CQT", "librosa"): lambda: np.abs(librosa.cqt(y=y, sr=sr, hop_length=hop, n_bins=84, bins_per_octave=12)),
    }

    ours = sg.compute_mfcc(y, librosa_stft, sr, 128, mfcc_params).data
    theirs = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=13)
    mfcc_error = float(np.abs(ours - theirs).max() / np.abs(theirs).max())

    for fn in cases.values():  # warm-up: plans, librosa's caches, page faults
        fn()
    times: dict = {key: [] for key in cases}
    order = list(cases.items())
    for rep in range(args.reps):
        # The order rotates from one repetition to the next (as in _harness.interleaved), so no
        # case always follows the same neighbour: a fixed order would always time ours right
        # after librosa's CQT has swept the caches, and librosa's chroma right after ours.
        for key, fn in order[rep % len(order):] + order[:rep % len(order)]:
            t0 = time.perf_counter()
            fn()
            times[key].append(time.perf_counter() - t0)
    median = {key: statistics.median(v) * 1e3 for key, v in times.items()}

    print(f"{args.seconds:g} s at {sr} Hz, n_fft {n_fft}, hop {hop}, float64, 1 thread; "
          f"median of {args.reps} interleaved repetitions")
    print(f"python {platform.python_version()}, numpy {np.__version__}, librosa {librosa.__version__}, "
          f"spectrograms {sg.__version__}; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"MFCC preset vs librosa.feature.mfcc: max |difference| / max |librosa| = {mfcc_error:.1e}\n")
    print(f"| {'feature':36s} | {'spectrograms':>13s} | {'librosa':>10s} | {'speed-up':>8s} |")
    print(f"|{'-' * 38}|{'-' * 15}|{'-' * 12}|{'-' * 10}|")
    features = []
    for feature, _ in cases:
        if feature not in features:
            features.append(feature)
    for feature in features:
        mine = median.get((feature, "spectrograms"))
        ref = median[(feature, "librosa")]
        base = mine if mine is not None else median[("chroma", "spectrograms")]
        mine_text = f"{mine:10.2f} ms" if mine is not None else f"{'(as above)':>13s}"
        print(f"| {feature:36s} | {mine_text} | {ref:7.2f} ms | {ref / base:7.1f}x |")


if __name__ == "__main__":
    main()
