"""Chroma, MFCC and CQT side by side with librosa, in one run, under three timing models.

10 s of noise at 22.05 kHz, n_fft 2048, hop 512, float64, one thread everywhere (BLAS and our
engine). Every model runs the contenders alternately, rotating their order, and gives medians:

- **back to back, one clip**: _harness.interleaved's blocks of consecutive calls on the same clip
  (the model of compare.py and the README's headline figures): the steady state of a loop.
- **back to back, fresh clips**: the same blocks, each call on the next of ``--pool`` distinct
  clips (32 by default: 56 MB, more than the L3 cache), so each clip comes from memory, as in a
  pass over a dataset.
- **cold calls**: one call at a time, each after a 64 MB sweep that evicts the clip, plans and
  scratch from every cache level, in 3 ``--reps`` rounds: the worst case of a call between
  unrelated work.

    PYTHONPATH=src SPECTROGRAMS_DEV_BUILD=build/devext python bench/features.py [--reps 30]

Cases compared:
- chroma: ``compute_chromagram`` (A4 = 440 Hz, Gaussian pitch-class weights, L2 frames) with
  librosa's window (periodic Hann, as for MFCC), and ``librosa.feature.chroma_stft(tuning=0.0)``
  (fixed tuning, like ours). Also on their own rows: ours with our default window (symmetric Hann,
  which the engine cannot apply in the frequency domain: see docs/features.md), and librosa's
  default call, which also estimates the tuning.
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
import itertools  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import scipy.signal  # noqa: E402

import spectrograms as sg  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as H  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=30,
                        help="rounds per back-to-back model; cold calls get three times as many (default 30)")
    parser.add_argument("--seconds", type=float, default=10.0, help="signal length in seconds (default 10)")
    parser.add_argument("--pool", type=int, default=32, help="distinct clips of the fresh-clips model (default 32)")
    args = parser.parse_args()

    import librosa

    sg.set_num_threads(1)
    sr, n_fft, hop = 22050, 2048, 512
    y = np.random.default_rng(0).standard_normal(int(args.seconds * sr))
    pool = [np.random.default_rng(1 + i).standard_normal(len(y)) for i in range(args.pool)]
    stft = sg.StftParams(n_fft, hop)
    librosa_stft = sg.StftParams(n_fft, hop, sg.WindowType.custom(scipy.signal.get_window("hann", n_fft)))
    cqt_params = sg.CqtParams(12, 7, float(librosa.note_to_hz("C1")))
    spec_params = sg.SpectrogramParams(stft, sr)
    mfcc_params = sg.MfccParams.librosa()

    # (feature, library) -> the call on a clip
    cases = {
        ("chroma", "spectrograms"): lambda x: sg.compute_chromagram(x, librosa_stft, sr),
        ("chroma (symmetric Hann)", "spectrograms"): lambda x: sg.compute_chromagram(x, stft, sr),
        ("chroma", "librosa"): lambda x: librosa.feature.chroma_stft(y=x, sr=sr, n_fft=n_fft, hop_length=hop,
                                                                   tuning=0.0),
        ("chroma (librosa estimates tuning)", "librosa"): lambda x: librosa.feature.chroma_stft(
            y=x, sr=sr, n_fft=n_fft, hop_length=hop),
        ("MFCC", "spectrograms"): lambda x: sg.compute_mfcc(x, librosa_stft, sr, 128, mfcc_params),
        ("MFCC", "librosa"): lambda x: librosa.feature.mfcc(y=x, sr=sr, n_mfcc=13),
        ("CQT", "spectrograms"): lambda x: sg.compute_cqt_magnitude_spectrogram(x, spec_params, cqt_params),
        ("CQT", "librosa"): lambda x: np.abs(librosa.cqt(y=x, sr=sr, hop_length=hop, n_bins=84,
                                                         bins_per_octave=12)),
    }

    ours = sg.compute_mfcc(y, librosa_stft, sr, 128, mfcc_params).data
    theirs = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=13)
    mfcc_error = float(np.abs(ours - theirs).max() / np.abs(theirs).max())

    medians = {}  # model -> {(feature, library): ms}

    sweep = np.zeros(8 << 20)  # 64 MB, more than the L3 cache

    def sweep_caches():
        sweep[:] += 1.0

    def timed(clips, block_time, rounds, before=None):
        """_harness.interleaved over the cases, each call on the next of ``clips``."""
        def cycling(fn):
            it = itertools.cycle(clips)
            return lambda: fn(next(it))
        contenders = [H.Contender(f"{f}|{lib}", cycling(fn), before=before) for (f, lib), fn in cases.items()]
        result = H.interleaved(contenders, rounds=rounds, block_time=block_time)
        return {tuple(name.split("|")): c.median * 1e3 for name, c in result.items()}

    medians["back to back, one clip"] = timed([y], 0.02, args.reps)
    medians[f"back to back, {args.pool} fresh clips"] = timed(pool, 0.02, args.reps)
    # Blocks of one call, each after a sweep of the caches (untimed): what the call before was
    # does not matter (the rotation had our chroma nearly always follow librosa's CQT, and its
    # second row always follow its first). Noisier: three times the rounds.
    medians["cold calls"] = timed([y], 0.0, 3 * args.reps, before=sweep_caches)

    print(f"{args.seconds:g} s at {sr} Hz, n_fft {n_fft}, hop {hop}, float64, 1 thread; medians of "
          f"{args.reps} interleaved rounds (cold calls: {3 * args.reps})")
    print(f"python {platform.python_version()}, numpy {np.__version__}, librosa {librosa.__version__}, "
          f"spectrograms {sg.__version__}; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"MFCC preset vs librosa.feature.mfcc: max |difference| / max |librosa| = {mfcc_error:.1e}\n")
    # (row, our case, librosa's case)
    chroma = ("chroma", "spectrograms"), ("chroma", "librosa")
    rows = [
        ("chroma (librosa's window)",) + chroma,
        ("chroma (our default window, symmetric Hann)", ("chroma (symmetric Hann)", "spectrograms"), chroma[1]),
        ("chroma (librosa estimates tuning; ours librosa's window)", chroma[0],
         ("chroma (librosa estimates tuning)", "librosa")),
        ("MFCC", ("MFCC", "spectrograms"), ("MFCC", "librosa")),
        ("CQT", ("CQT", "spectrograms"), ("CQT", "librosa")),
    ]
    models = list(medians)
    header = "| feature | " + " | ".join(f"{m}: ours / librosa" for m in models) + " |"
    print(header)
    print("|---|" + "---:|" * len(models))
    for row, mine, theirs in rows:
        cells = []
        for m in models:
            a, b = medians[m][mine], medians[m][theirs]
            cells.append(f"{a:.2f} / {b:.2f} ms = **{b / a:.2f}×**")
        print(f"| {row} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
