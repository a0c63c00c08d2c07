"""Naive reference implementations written straight from the formulas in API.md §5.

Slow, dense and obvious on purpose: every test of a feature compares the engine with these.
"""

from __future__ import annotations

import numpy as np


def frames(x: np.ndarray, n_fft: int, hop: int, centre: bool = True) -> np.ndarray:
    """(n_frames, n_fft) frames of x, zero-padded by n_fft//2 at each end when centred."""
    pad = n_fft // 2 if centre else 0
    xp = np.concatenate([np.zeros(pad), np.asarray(x, dtype=np.float64), np.zeros(pad)])
    if len(xp) < n_fft:
        return np.concatenate([xp, np.zeros(n_fft - len(xp))])[None, :]
    n_frames = (len(xp) - n_fft) // hop + 1
    return np.stack([xp[t * hop:t * hop + n_fft] for t in range(n_frames)])


def stft(x: np.ndarray, n_fft: int, hop: int, window: np.ndarray, centre: bool = True) -> np.ndarray:
    """(n_fft//2+1, n_frames) complex STFT with numpy's FFT."""
    return np.fft.rfft(frames(x, n_fft, hop, centre) * window, axis=1).T


def power(x: np.ndarray, n_fft: int, hop: int, window: np.ndarray, centre: bool = True) -> np.ndarray:
    return np.abs(stft(x, n_fft, hop, window, centre)) ** 2


def bin_frequencies(sr: float, n_fft: int) -> np.ndarray:
    return np.arange(n_fft // 2 + 1) * sr / n_fft


def erb_weights(sr: float, n_fft: int, n_filters: int, f_min: float, f_max: float) -> np.ndarray:
    """Dense (n_filters, n_fft//2+1): |1 + j (f - fc)/b|^-8, b = 1.019*24.7*(4.37 fc/1000 + 1)."""
    f = bin_frequencies(sr, n_fft)
    fc = np.linspace(f_min, f_max, n_filters)
    b = 1.019 * 24.7 * (4.37 * fc / 1000 + 1)
    return np.abs(1 + 1j * (f[None, :] - fc[:, None]) / b[:, None]) ** -8


def loghz(P: np.ndarray, sr: float, n_fft: int, n_bins: int, f_min: float, f_max: float) -> np.ndarray:
    """Each output row linearly interpolates the power spectrum at a geometric frequency."""
    f = np.geomspace(f_min, f_max, n_bins)
    fk = bin_frequencies(sr, n_fft)
    return np.stack([np.interp(f, fk, P[:, t]) for t in range(P.shape[1])], axis=1)


def db(P: np.ndarray, floor_db: float = -80.0) -> np.ndarray:
    return 10 * np.log10(np.maximum(P, 10 ** (floor_db / 10)))


def chroma_weights(sr: float, n_fft: int, tuning: float, f_min: float, f_max: float) -> np.ndarray:
    """(12, n_fft//2+1): exp(-d^2/2) of the circular pitch-class distance; each row sums to 1."""
    f = bin_frequencies(sr, n_fft)
    W = np.zeros((12, len(f)))
    for k, fk in enumerate(f):
        if not (f_min <= fk <= f_max) or fk <= 0:
            continue
        pc = (69 + 12 * np.log2(fk / tuning)) % 12
        for c in range(12):
            d = abs(pc - c) % 12
            d = min(d, 12 - d)
            W[c, k] = np.exp(-d * d / 2)
    return W / W.sum(axis=1, keepdims=True)


def chroma(x: np.ndarray, sr: float, n_fft: int, hop: int, window: np.ndarray, tuning: float = 440.0,
           f_min: float = 32.7, f_max: float = 4186.0) -> np.ndarray:
    C = chroma_weights(sr, n_fft, tuning, f_min, f_max) @ np.abs(stft(x, n_fft, hop, window))
    norms = np.linalg.norm(C, axis=0)
    return C / np.where(norms > 0, norms, 1)


def cqt_kernels(sr: float, n_fft: int, bins_per_octave: int, n_bins: int, f_min: float) -> list:
    """Per bin: the complex kernel, Hann-weighted, entries below 1 % of the peak zeroed, L2-normalised."""
    Q = 1 / (2 ** (1 / bins_per_octave) - 1)
    kernels = []
    for k in range(n_bins):
        fk = f_min * 2 ** (k / bins_per_octave)
        N = int(np.clip(np.round(Q * sr / fk), 1, n_fft))
        m = np.arange(N)
        K = np.exp(2j * np.pi * fk * m / sr) * np.hanning(N)
        K[np.abs(K) < 0.01 * np.abs(K).max()] = 0
        kernels.append(K / np.linalg.norm(K))
    return kernels


def cqt(x: np.ndarray, sr: float, n_fft: int, hop: int, bins_per_octave: int, n_octaves: int,
        f_min: float, centre: bool = True) -> np.ndarray:
    """(n_bins, n_frames) complex: X_k = sum_m conj(K_k[m]) frame[n_fft - N_k + m], no window."""
    F = frames(x, n_fft, hop, centre)
    out = []
    for K in cqt_kernels(sr, n_fft, bins_per_octave, bins_per_octave * n_octaves, f_min):
        out.append(F[:, n_fft - len(K):] @ np.conj(K))
    return np.array(out)


def mel_slaney_none(sr: float, n_fft: int, n_mels: int) -> np.ndarray:
    import librosa

    return librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, htk=False, norm=None, dtype=np.float64)


def mfcc(x: np.ndarray, sr: float, n_fft: int, hop: int, window: np.ndarray, n_mels: int, n_mfcc: int = 13,
         lifter: float = 22) -> np.ndarray:
    """API.md §5: mel power (norm none, 0..sr/2) -> 10 log10(max(x, 1e-8)) -> DCT-II -> lifter."""
    M = mel_slaney_none(sr, n_fft, n_mels) @ power(x, n_fft, hop, window)
    L = 10 * np.log10(np.maximum(M, 1e-8))
    n = np.arange(n_mels)
    D = np.cos(np.pi * np.arange(n_mfcc)[:, None] * (n[None, :] + 0.5) / n_mels)
    C = D @ L
    if lifter > 0:
        C *= (1 + lifter / 2 * np.sin(np.pi * np.arange(n_mfcc) / lifter))[:, None]
    return C


def mdct(x: np.ndarray, window: np.ndarray, hop: int) -> np.ndarray:
    """O(N^2): C[k] = sum_n x[n] w[n] cos(pi (2n + 1 + N)(2k + 1) / (4N)), frames at t*hop."""
    two_n = len(window)
    N = two_n // 2
    n = np.arange(two_n)
    k = np.arange(N)
    basis = np.cos(np.pi * (2 * n[None, :] + 1 + N) * (2 * k[:, None] + 1) / (4 * N))
    n_frames = (len(x) - two_n) // hop + 1
    return np.stack([basis @ (x[t * hop:t * hop + two_n] * window) for t in range(n_frames)], axis=1)
