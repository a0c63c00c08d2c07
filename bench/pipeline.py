"""Audio in, audio out: the lab pipeline's steps 1-4 and the batch iSTFT, against librosa and torch.

Steps 1-4 of the seed pipeline (a 30 s file at 22.05 kHz, n_fft 2048, hop 512):
  librosa.load -> librosa.stft -> np.abs -> torch.from_numpy(...).unsqueeze(0).unsqueeze(0)
versus sg.load -> sg.compute_linear_magnitude_spectrogram (float32) -> torch.from_dlpack -> unsqueeze.
Targets: >= 2x for the whole step, >= 5x for STFT -> magnitude -> tensor. Ours also with the one
long clip split over 2 engine threads (``plan.compute_batch([y], n_threads=2)``, already
(1, F, T)); librosa/numpy's FFT has no threads to give it.

Batch iSTFT of 16 x 10 s (n_fft 2048, hop 512) with 2 engine threads, against torch.istft on the
stacked (16, F, T) tensor (2 torch threads) and librosa.istft on each item. Target >= 2x both.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h  # noqa: E402

import librosa  # noqa: E402
import soundfile as sf  # noqa: E402
import torch  # noqa: E402

import spectrograms as sg  # noqa: E402

SR, N_FFT, HOP = 22050, 2048, 512


def main() -> None:
    args = h.arg_parser(__doc__.splitlines()[0]).parse_args()
    rounds = args.rounds or (8 if args.quick else 25)
    tmp = Path(tempfile.mkdtemp())
    rng = np.random.default_rng(0)
    t = np.arange(30 * SR) / SR
    audio = (0.3 * np.sin(2 * np.pi * 220 * t) + 0.05 * rng.standard_normal(t.size)).astype(np.float32)
    path = tmp / "clip.wav"
    sf.write(path, audio, SR, subtype="PCM_16")
    window64 = np.hanning(N_FFT)
    window32 = window64.astype(np.float32)
    params = sg.SpectrogramParams(sg.StftParams(N_FFT, HOP, sg.WindowType.hanning), SR)
    plan = sg.SpectrogramPlanner().linear_magnitude_plan(params, dtype="float32")
    torch.set_num_threads(1)

    def librosa_steps():
        y, _ = librosa.load(path, sr=None)
        S = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP, window=window32, pad_mode="constant"))
        return torch.from_numpy(S).unsqueeze(0).unsqueeze(0)

    def our_steps():
        y, _ = sg.load(path)
        return torch.from_dlpack(plan.compute(y)).unsqueeze(0).unsqueeze(0)

    def our_steps_2t():
        y, _ = sg.load(path)
        return torch.from_dlpack(plan.compute_batch([y], n_threads=2)).unsqueeze(1)

    y32 = librosa.load(path, sr=None)[0]

    def librosa_stft_only():
        S = np.abs(librosa.stft(y32, n_fft=N_FFT, hop_length=HOP, window=window32, pad_mode="constant"))
        return torch.from_numpy(S).unsqueeze(0).unsqueeze(0)

    def our_stft_only():
        return torch.from_dlpack(plan.compute(y32)).unsqueeze(0).unsqueeze(0)

    def our_stft_only_2t():
        return torch.from_dlpack(plan.compute_batch([y32], n_threads=2)).unsqueeze(1)

    a, b = librosa_steps(), our_steps()
    assert a.shape == b.shape == our_steps_2t().shape, (a.shape, b.shape)
    assert torch.equal(b, our_steps_2t())
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-3, atol=1e-3 * float(a.max()))

    timed = h.interleaved([
        h.Contender("librosa: load+stft+abs+tensor", librosa_steps),
        h.Contender("spectrograms: load+magnitude+tensor", our_steps),
        h.Contender("librosa: stft+abs+tensor", librosa_stft_only),
        h.Contender("spectrograms: magnitude+tensor", our_stft_only),
        h.Contender("spectrograms: load+magnitude+tensor, 2 engine threads", our_steps_2t),
        h.Contender("spectrograms: magnitude+tensor, 2 engine threads", our_stft_only_2t),
    ], rounds=rounds, block_time=0.05)

    # batch iSTFT: 16 x 10 s
    clips = rng.standard_normal((16, 10 * SR)).astype(np.float32)
    X = sg.compute_stft_batch(clips, params, dtype="float32").data            # (16, 1025, T) complex64
    Xt = torch.from_numpy(X)
    wt = torch.from_numpy(window32)

    def ours_istft():
        return sg.compute_istft_batch(X, N_FFT, HOP, length=clips.shape[1], n_threads=2)

    def torch_istft():
        return torch.istft(Xt, N_FFT, HOP, window=wt, center=True, length=clips.shape[1])

    def librosa_istft():
        return [librosa.istft(X[i], hop_length=HOP, n_fft=N_FFT, window=window32, length=clips.shape[1])
                for i in range(X.shape[0])]

    np.testing.assert_allclose(ours_istft(), torch_istft().numpy(), atol=1e-4)
    np.testing.assert_allclose(ours_istft(), clips, atol=1e-4)
    istft = h.interleaved([
        h.Contender("spectrograms compute_istft_batch (2 threads)", ours_istft, units=16),
        h.Contender("torch.istft (2 threads)", torch_istft, units=16, before=lambda: torch.set_num_threads(2)),
        h.Contender("librosa.istft loop", librosa_istft, units=16, before=lambda: torch.set_num_threads(1)),
    ], rounds=rounds, block_time=0.1)

    m = {k: v.median for k, v in {**timed, **istft}.items()}
    whole = m["librosa: load+stft+abs+tensor"] / m["spectrograms: load+magnitude+tensor"]
    stft_only = m["librosa: stft+abs+tensor"] / m["spectrograms: magnitude+tensor"]
    whole_2t = m["librosa: load+stft+abs+tensor"] / m["spectrograms: load+magnitude+tensor, 2 engine threads"]
    stft_only_2t = m["librosa: stft+abs+tensor"] / m["spectrograms: magnitude+tensor, 2 engine threads"]
    vs_torch = m["torch.istft (2 threads)"] / m["spectrograms compute_istft_batch (2 threads)"]
    vs_librosa = m["librosa.istft loop"] / m["spectrograms compute_istft_batch (2 threads)"]
    rows = [[k, h.fmt_time(v)] for k, v in m.items()]
    md = ["## Audio pipeline (bench/pipeline.py)", "", h.machine_md(h.machine_info()), "",
          "30 s at 22.05 kHz, n_fft 2048, hop 512, float32, 1 engine thread unless the row says 2 (per file); batch iSTFT per 10 s item.", "",
          h.md_table(["step", "median"], rows), "",
          h.md_table(["ratio", "measured", "target", ""], [
              ["whole step 1-4, librosa / ours", h.fmt_ratio(whole), "≥ 2×", h.verdict(whole, 2, True)],
              ["STFT -> magnitude -> tensor, librosa / ours", h.fmt_ratio(stft_only), "≥ 5×", h.verdict(stft_only, 5, True)],
              ["whole step 1-4, librosa / ours with 2 engine threads", h.fmt_ratio(whole_2t), "≥ 2×",
               h.verdict(whole_2t, 2, True)],
              ["STFT -> magnitude -> tensor, librosa / ours with 2 engine threads", h.fmt_ratio(stft_only_2t), "≥ 5×",
               h.verdict(stft_only_2t, 5, True)],
              ["batch iSTFT, torch.istft / ours (2 threads)", h.fmt_ratio(vs_torch), "≥ 2×", h.verdict(vs_torch, 2, True)],
              ["batch iSTFT, librosa.istft / ours", h.fmt_ratio(vs_librosa), "≥ 2×", h.verdict(vs_librosa, 2, True)],
          ])]
    h.save("pipeline", "\n".join(md), args, h.results_payload({**timed, **istft}))
    os.remove(path)


if __name__ == "__main__":
    main()
