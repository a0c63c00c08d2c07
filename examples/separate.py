"""The lab pipeline end to end: load -> STFT -> (1, 1, F, T) tensor -> U-Net mask -> iSTFT -> WAV.

    python examples/separate.py [INPUT.wav] [--out separated.wav] [--weights unet.pt]

With no input it uses the example clip shipped with spectrograms. With --weights (written by
examples/train_separator.py) the U-Net is the trained one; otherwise it is freshly initialised, and
the output shows the plumbing, not a separation.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

import spectrograms as sg
import spectrograms.torch  # noqa: F401  (adds .to_torch())

N_FFT, HOP = 1024, 256


class UNet(nn.Module):
    """A small 2-level U-Net on (B, 1, F, T) log-magnitudes; predicts a mask in [0, 1]."""

    def __init__(self, width: int = 16) -> None:
        super().__init__()

        def block(i: int, o: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU(),
                                 nn.Conv2d(o, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU())

        self.enc1, self.enc2 = block(1, width), block(width, 2 * width)
        self.bottom = block(2 * width, 4 * width)
        self.up2, self.dec2 = nn.ConvTranspose2d(4 * width, 2 * width, 2, stride=2), block(4 * width, 2 * width)
        self.up1, self.dec1 = nn.ConvTranspose2d(2 * width, width, 2, stride=2), block(2 * width, width)
        self.head = nn.Conv2d(width, 1, 1)

    @staticmethod
    def _fit(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        # odd F or T: pad the upsampled map back to the skip connection's size
        return nn.functional.pad(x, (0, like.shape[-1] - x.shape[-1], 0, like.shape[-2] - x.shape[-2]))

    def forward(self, magnitude: torch.Tensor) -> torch.Tensor:
        x = torch.log1p(magnitude)
        e1 = self.enc1(x)
        e2 = self.enc2(nn.functional.max_pool2d(e1, 2))
        b = self.bottom(nn.functional.max_pool2d(e2, 2))
        d2 = self.dec2(torch.cat([self._fit(self.up2(b), e2), e2], 1))
        d1 = self.dec1(torch.cat([self._fit(self.up1(d2), e1), e1], 1))
        return torch.sigmoid(self.head(d1))


def separate(samples: np.ndarray, sample_rate: float, model: nn.Module, device: torch.device) -> np.ndarray:
    """Mask the STFT of `samples` with the model's prediction and return the masked signal."""
    params = sg.SpectrogramParams(sg.StftParams(N_FFT, HOP, sg.WindowType.hanning), sample_rate)
    stft = sg.compute_stft(samples, params, dtype="float32")                          # (F, T) complex64
    magnitude = sg.compute_linear_magnitude_spectrogram(samples, params, dtype="float32")
    x = magnitude.to_torch().unsqueeze(0).unsqueeze(0).to(device)                    # (1, 1, F, T), zero-copy on CPU
    with torch.no_grad():
        mask = model(x)[0, 0].cpu()                                                   # (F, T)
    masked = stft.to_torch() * mask                                                   # complex64, CPU
    return sg.compute_istft(masked, N_FFT, HOP, sg.WindowType.hanning, length=samples.shape[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input", nargs="?", help="audio file (default: the example clip)")
    ap.add_argument("--out", default="separated.wav", help="output WAV (default: %(default)s)")
    ap.add_argument("--weights", help="U-Net weights from examples/train_separator.py")
    args = ap.parse_args(argv)

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    path = args.input or sg.audio.example_path()
    t0 = time.perf_counter()
    samples, sr = sg.load(path)
    model = UNet().to(device).eval()
    if args.weights:
        model.load_state_dict(torch.load(args.weights, map_location=device))
    out = separate(samples, sr, model, device)
    sg.save(args.out, out, sr)
    print(f"input  {Path(str(path)).name}: {samples.size / sr:.2f} s at {sr:g} Hz")
    print(f"device {device}, U-Net {'trained' if args.weights else 'untrained'} "
          f"({sum(p.numel() for p in model.parameters()):,} parameters)")
    print(f"wrote  {args.out} ({out.size} samples) in {time.perf_counter() - t0:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
