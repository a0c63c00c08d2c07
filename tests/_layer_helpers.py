"""Shared by the layer and export tests: parameters, engine references and the tolerances of the brief.

Parity: the layer's float32 output equals the engine's float32 output (``plan.compute``) within
1e-5 of max|reference| on power/magnitude/mel/MFCC, and within 1e-3 dB on every dB cell above
floor + 20 dB (:func:`assert_matches`).
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


def exact_reference(kind, x: np.ndarray, params=PARAMS, mel=MEL, db=None) -> np.ndarray:
    """The engine's float64 output for each row of the float32 ``x`` (upcast exactly), stacked."""
    scale, quantity = KINDS[kind]
    make = getattr(PLANNER, f"{scale}_{quantity}_plan")
    plan = make(params, db, dtype="float64") if scale == "linear" else make(params, mel, db, dtype="float64")
    out = np.stack([plan.compute(row).data for row in np.asarray(x, dtype=np.float64)])
    return mfcc_reference(out) if kind == "mfcc" else out


def run(layer, x: np.ndarray) -> np.ndarray:
    args = (torch.from_numpy(x),) + ((layer.dft_basis(),) if layer.needs_basis else ())
    with torch.no_grad():
        return layer(*args).numpy()


OWN_DB = 1e-4
"""dB: the most a float32 layer (``precision="float64"``) may differ from the engine's float64 output."""


def assert_matches(kind, actual, expected, floor_db=-80.0, what="", min_cells=0.0, exact=None):
    """Float32 ``actual`` against the engine's float32 output ``expected``, with the brief's tolerances.

    For float32 outputs only (float64 layers are held to 1e-10 relative of the float64 engine in
    test_layers.test_float64_layer_and_module_conversions).

    Power, magnitude, mel, MFCC: ``max|actual - expected| <= 1e-5 * max|expected|``.

    dB: every cell with ``expected > floor_db + 20`` within 1e-3 dB of ``expected`` (no cell left
    out), and every cell within 1e-5 of the largest power in the power domain. With ``exact`` (the
    engine's float64 output for the same float32 samples, :func:`exact_reference`) also every such
    cell within ``OWN_DB`` = 1e-4 dB of ``exact``: the layer's own rounding.

    The engine's float32 linear dB plans compute in float64 and round each cell once
    (``plan.compute_dtype``), so their output is the exact value to float32 rounding even at cells
    80-100 dB below their frame's peak, where a float32 FFT is ~1e-3 to 1e-2 dB off; the 1e-3 dB
    bound holds against it with no allowance.
    """
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != engine {expected.shape}"
    assert actual.dtype == np.float32, what
    assert np.all(np.isfinite(actual)), what
    scale, quantity = KINDS[kind]
    if quantity == "db" and kind != "mfcc":
        cells = expected > floor_db + 20.0
        assert cells.mean() >= min_cells, f"{what}: too few cells above floor + 20 dB to test"
        err = np.abs(actual.astype(np.float64) - expected)
        if exact is not None:
            assert exact.shape == expected.shape, what
            own = float(np.max(np.abs(actual - exact)[cells], initial=0.0))
            assert own <= OWN_DB, f"{what}: max dB error {own:.2e} > {OWN_DB:g} dB against the engine's float64 output"
        bad = cells & (err > 1e-3)
        worst = float(np.max(err[cells], initial=0.0))
        assert not bad.any(), (f"{what}: {int(bad.sum())} of {int(cells.sum())} cells above floor + 20 dB beyond "
                               f"1e-3 dB; max error {worst:.2e} dB")
        # every cell, in the power domain: 1e-5 of the largest power
        a, e = 10.0 ** (actual.astype(np.float64) / 10.0), 10.0 ** (expected.astype(np.float64) / 10.0)
        assert np.max(np.abs(a - e)) <= 1e-5 * np.max(e), what
    else:
        tol = 1e-5 * float(np.max(np.abs(expected)))
        err = float(np.max(np.abs(actual.astype(np.float64) - expected)))
        assert err <= tol, f"{what}: max error {err:.3e} > 1e-5 x max|engine| = {tol:.3e}"
