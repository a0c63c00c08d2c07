"""Shared test helpers: the tolerance table, comparison helpers, seeded signals, librosa references.

Helpers are module-level functions and are also served as fixtures (``assert_close``,
``assert_db_close``, ``make_signal``, ``librosa_reference``), so test modules never import this file.
"""

from __future__ import annotations

import types
import zlib
from typing import Any, Optional

import numpy as np
import pytest

# ---------------------------------------------------------------------------------------------
# Tolerances: the one place they are stated.
#
# A result of a given compute dtype must satisfy
#     max |actual - expected| <= RTOL[dtype] * max |expected|
# i.e. the tolerance is relative to the largest magnitude of the reference array (a per-element
# relative tolerance would be meaningless for FFT bins near zero). References are always computed
# in float64 from the very samples the library saw (a float32 signal is upcast exactly).
# ---------------------------------------------------------------------------------------------
RTOL = {
    np.dtype(np.float64): 1e-10,
    np.dtype(np.float32): 1e-5,
}


def rtol_for(dtype: Any) -> float:
    """The relative-to-max tolerance for a compute dtype (float32/float64, or their complex kin)."""
    d = np.dtype(dtype)
    if d.kind == "c":
        d = np.dtype(np.float32) if d == np.complex64 else np.dtype(np.float64)
    return RTOL[d]


def assert_close(actual: Any, expected: Any, dtype: Any, *, what: str = "") -> None:
    """Assert ``max|actual - expected| <= RTOL[dtype] * max|expected|`` (shapes must match)."""
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, f"{what} shape {actual.shape} != reference {expected.shape}"
    assert np.all(np.isfinite(actual)), f"{what} has non-finite values"
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    err = float(np.max(np.abs(actual.astype(np.complex128) - expected.astype(np.complex128)))) if expected.size else 0.0
    tol = rtol_for(dtype) * max(scale, np.finfo(np.float64).tiny)
    assert err <= tol, (
        f"{what} max abs error {err:.3e} > {tol:.3e} (rtol {rtol_for(dtype):g} x max|ref| {scale:.3e})"
    )


def assert_db_close(actual_db: Any, expected_db: Any, dtype: Any, *, what: str = "") -> None:
    """Compare dB arrays.

    float64: directly, with the table tolerance relative to max|expected dB|.
    float32: in the power domain (``10**(dB/10)``), with the table tolerance relative to the largest
    power. dB turns a tiny absolute error of a small bin into an unbounded dB error, and single
    precision carries about 1e-7 x max absolute error per bin, so the dB of bins 40 dB below the
    peak legitimately differ by ~1e-3 dB; the power domain states the precision actually promised.
    """
    d = np.dtype(dtype)
    if d == np.float64:
        assert_close(actual_db, expected_db, d, what=what)
    else:
        a = np.power(10.0, np.asarray(actual_db, dtype=np.float64) / 10.0)
        e = np.power(10.0, np.asarray(expected_db, dtype=np.float64) / 10.0)
        assert_close(a, e, d, what=f"{what} (as power)")


# ---------------------------------------------------------------------------------------------
# Seeded signals
# ---------------------------------------------------------------------------------------------
def make_signal(length: int, dtype: Any = np.float64, seed: Optional[int] = None) -> np.ndarray:
    """White noise plus a sine, deterministic per (length, seed); float64 or float32."""
    if seed is None:
        seed = zlib.crc32(f"signal-{length}".encode())
    rng = np.random.default_rng(seed)
    n = np.arange(length)
    x = 0.5 * rng.standard_normal(length) + 0.8 * np.sin(2 * np.pi * 0.0371 * n + 0.3)
    return x.astype(dtype)


# ---------------------------------------------------------------------------------------------
# References (float64). librosa with matched settings; naive numpy where librosa refuses.
# ---------------------------------------------------------------------------------------------
MEL_NORM_LIBROSA = {"none": None, "slaney": "slaney", "l1": 1, "l2": 2}


def expected_n_frames(length: int, n_fft: int, hop: int, centre: bool) -> int:
    """API.md §5: ``(L + 2*pad - n_fft)//hop + 1`` when >= 1, else 1."""
    pad = n_fft // 2 if centre else 0
    span = length + 2 * pad - n_fft
    return span // hop + 1 if span >= 0 else 1


def naive_stft(x: np.ndarray, n_fft: int, hop: int, centre: bool, window: Optional[np.ndarray] = None) -> np.ndarray:
    """Frame (zero padding, also past the end for a signal shorter than one frame), window, rfft."""
    x = np.asarray(x, dtype=np.float64)
    w = np.hanning(n_fft) if window is None else np.asarray(window, dtype=np.float64)
    pad = n_fft // 2 if centre else 0
    n_frames = expected_n_frames(len(x), n_fft, hop, centre)
    padded = np.zeros(max(len(x) + 2 * pad, (n_frames - 1) * hop + n_fft))
    padded[pad:pad + len(x)] = x
    frames = np.stack([padded[t * hop:t * hop + n_fft] for t in range(n_frames)], axis=1)
    return np.fft.rfft(frames * w[:, None], axis=0)


def ref_stft(x: np.ndarray, n_fft: int, hop: int, centre: bool) -> np.ndarray:
    """``librosa.stft`` with a symmetric Hann window and zero padding (naive when librosa refuses)."""
    import librosa

    x = np.asarray(x, dtype=np.float64)
    if not centre and len(x) < n_fft:
        # librosa raises here; API.md §5 gives one zero-padded frame.
        return naive_stft(x, n_fft, hop, centre)
    return librosa.stft(x, n_fft=n_fft, hop_length=hop, window=np.hanning(n_fft), center=centre,
                        pad_mode="constant")


def ref_power(x: np.ndarray, n_fft: int, hop: int, centre: bool) -> np.ndarray:
    return np.abs(ref_stft(x, n_fft, hop, centre)) ** 2


def ref_magnitude(x: np.ndarray, n_fft: int, hop: int, centre: bool) -> np.ndarray:
    return np.abs(ref_stft(x, n_fft, hop, centre))


def ref_db(power: np.ndarray, floor_db: float = -80.0) -> np.ndarray:
    """``10*log10(max(P, 10**(floor/10)))``, reference 1, no top_db."""
    return 10.0 * np.log10(np.maximum(power, 10.0 ** (floor_db / 10.0)))


def ref_mel_basis(sr: float, n_fft: int, n_mels: int, f_min: float, f_max: Optional[float],
                  norm: str = "none") -> np.ndarray:
    import librosa

    return librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=f_min, fmax=f_max, htk=False,
                               norm=MEL_NORM_LIBROSA[norm], dtype=np.float64)


def ref_mel_power(x: np.ndarray, sr: float, n_fft: int, hop: int, centre: bool, n_mels: int, f_min: float,
                  f_max: Optional[float], norm: str = "none") -> np.ndarray:
    return ref_mel_basis(sr, n_fft, n_mels, f_min, f_max, norm) @ ref_power(x, n_fft, hop, centre)


def ref_mel_frequencies(n_mels: int, f_min: float, f_max: float) -> np.ndarray:
    """Band centres: the inner ``n_mels`` of ``n_mels + 2`` Slaney-mel-spaced points."""
    import librosa

    return librosa.mel_frequencies(n_mels + 2, fmin=f_min, fmax=f_max, htk=False)[1:-1]


librosa_reference = types.SimpleNamespace(
    stft=ref_stft,
    naive_stft=naive_stft,
    power=ref_power,
    magnitude=ref_magnitude,
    db=ref_db,
    mel_basis=ref_mel_basis,
    mel_power=ref_mel_power,
    mel_frequencies=ref_mel_frequencies,
    n_frames=expected_n_frames,
)


# ---------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------
@pytest.fixture(name="assert_close")
def _assert_close_fixture():
    return assert_close


@pytest.fixture(name="assert_db_close")
def _assert_db_close_fixture():
    return assert_db_close


@pytest.fixture(name="make_signal")
def _make_signal_fixture():
    return make_signal


@pytest.fixture(name="librosa_reference")
def _librosa_reference_fixture():
    return librosa_reference


@pytest.fixture
def signal():
    """A 7919-sample (prime length) float64 test signal."""
    return make_signal(7919)
