"""The examples in examples/ run, and training the separator improves the SDR."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("soundfile")

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture
def examples_path(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))
    yield
    for name in ("separate", "train_separator"):
        sys.modules.pop(name, None)


def test_train_separator_improves_sdr(examples_path, capsys, tmp_path):
    import train_separator

    weights = tmp_path / "unet.pt"
    assert train_separator.main(["--steps", "40", "--batch", "4", "--save", str(weights)]) == 0
    out = capsys.readouterr().out
    before = float(re.search(r"untrained U-Net:\s+(-?[\d.]+) dB", out).group(1))
    after = float(re.search(r"trained U-Net:\s+(-?[\d.]+) dB", out.split("trained 40 steps")[1]).group(1))
    assert after > before + 3.0, out
    assert weights.exists()

    import separate
    import spectrograms as sg

    wav = tmp_path / "separated.wav"
    assert separate.main(["--out", str(wav), "--weights", str(weights)]) == 0
    y, sr = sg.load(wav)
    x, sr0 = sg.load(sg.audio.example_path())
    assert sr == sr0 and y.shape == x.shape and np.isfinite(y).all()


def test_separate_identity_mask_reconstructs(examples_path):
    import separate
    import spectrograms as sg

    class Identity(torch.nn.Module):
        def forward(self, m):
            return torch.ones_like(m)

    x, sr = sg.load(sg.audio.example_path())
    y = separate.separate(x, sr, Identity(), torch.device("cpu"))
    np.testing.assert_allclose(y, x, atol=1e-5)
