#!/usr/bin/env python3
"""Synthesise the example clip shipped with spectrograms: ``src/spectrograms/_assets/example.wav``.

Four seconds of music-like audio at 22050 Hz, mono, 16-bit PCM: a melody of harmonic notes with
ADSR envelopes over a chord progression (Am - F - C - G), a bass line on every beat, and noise
percussion (kick, snare, hi-hat). Deterministic (fixed seed), peak-normalised to 0.9, and written
with the standard-library ``wave`` module, so neither soundfile nor any other audio library is needed.

Usage::

    python tools/make_example.py [OUTPUT]
"""

from __future__ import annotations

import pathlib
import sys
import wave

import numpy as np

SR = 22050
BPM = 120.0
BEAT = 60.0 / BPM  # 0.5 s
DURATION = 4.0
SEED = 20240601
PEAK = 0.9

# (start beat, length in beats, MIDI note) for the melody: 8 beats = 4 s at 120 bpm
MELODY = [
    (0.0, 0.5, 76), (0.5, 0.5, 72), (1.0, 1.0, 69), (2.0, 0.5, 77), (2.5, 0.5, 76),
    (3.0, 1.0, 72), (4.0, 0.5, 79), (4.5, 0.5, 76), (5.0, 0.75, 72), (5.75, 0.25, 74),
    (6.0, 0.5, 71), (6.5, 0.5, 74), (7.0, 1.0, 79),
]
# chord roots, one per two beats: A, F, C, G (bass octave)
ROOTS = [45, 41, 48, 43]


def midi_to_hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69) / 12)


def adsr(n: int, attack: float, decay: float, sustain: float, release: float) -> np.ndarray:
    """Attack/decay/sustain/release envelope of n samples (times in seconds, sustain a level)."""
    a, d, r = (max(1, int(t * SR)) for t in (attack, decay, release))
    env = np.full(n, sustain)
    a_n = min(a, n)
    env[:a_n] = np.linspace(0.0, 1.0, a, endpoint=False)[:a_n]
    d_end = min(a + d, n)
    if d_end > a:
        env[a:d_end] = np.linspace(1.0, sustain, d, endpoint=False)[: d_end - a]
    r_n = min(r, n)
    env[n - r_n:] *= np.linspace(1.0, 0.0, r_n)
    return env


def harmonic_note(freq: float, seconds: float, n_harmonics: int, rolloff: float, env: tuple) -> np.ndarray:
    n = int(seconds * SR)
    t = np.arange(n) / SR
    tone = np.zeros(n)
    for k in range(1, n_harmonics + 1):
        if k * freq >= SR / 2:
            break
        tone += np.sin(2 * np.pi * k * freq * t) / k ** rolloff
    vibrato = 1.0 + 0.003 * np.sin(2 * np.pi * 5.0 * t)
    return tone * adsr(n, *env) * vibrato


def add(out: np.ndarray, start_s: float, x: np.ndarray, gain: float) -> None:
    i = int(round(start_s * SR))
    j = min(len(out), i + len(x))
    out[i:j] += gain * x[: j - i]


def synthesise() -> np.ndarray:
    rng = np.random.default_rng(SEED)
    out = np.zeros(int(DURATION * SR))

    for start, length, note in MELODY:
        x = harmonic_note(midi_to_hz(note), length * BEAT, 8, 1.2, (0.01, 0.08, 0.6, 0.06))
        add(out, start * BEAT, x, 0.35)

    for beat in range(8):
        root = ROOTS[beat // 2]
        note = root + (7 if beat % 2 else 0)  # root, fifth
        x = harmonic_note(midi_to_hz(note), 0.9 * BEAT, 5, 1.6, (0.005, 0.1, 0.5, 0.05))
        add(out, beat * BEAT, x, 0.5)

    for beat in range(8):
        if beat % 2 == 0:  # kick: a falling sine with a click
            n = int(0.25 * SR)
            t = np.arange(n) / SR
            freq = 50 + 90 * np.exp(-t / 0.03)
            kick = np.sin(2 * np.pi * np.cumsum(freq) / SR) * np.exp(-t / 0.08)
            kick[:64] += 0.3 * rng.standard_normal(64)
            add(out, beat * BEAT, kick, 0.8)
        else:  # snare: a noise burst with a tonal body
            n = int(0.18 * SR)
            t = np.arange(n) / SR
            snare = rng.standard_normal(n) * np.exp(-t / 0.045) + 0.5 * np.sin(2 * np.pi * 190 * t) * np.exp(-t / 0.03)
            add(out, beat * BEAT, snare, 0.35)
    for eighth in range(16):  # hi-hat: short high-passed noise on every eighth
        n = int(0.05 * SR)
        t = np.arange(n) / SR
        hat = np.diff(rng.standard_normal(n + 1)) * np.exp(-t / 0.012)
        add(out, eighth * BEAT / 2, hat, 0.12 if eighth % 2 else 0.2)

    fade = int(0.02 * SR)
    out[-fade:] *= np.linspace(1.0, 0.0, fade)
    return out * (PEAK / np.max(np.abs(out)))


def write_wav(path: pathlib.Path, samples: np.ndarray) -> None:
    pcm = np.clip(np.round(samples * 32767.0), -32768, 32767).astype("<i2")
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(pcm.tobytes())


def main(argv: list) -> int:
    default = pathlib.Path(__file__).resolve().parent.parent / "src" / "spectrograms" / "_assets" / "example.wav"
    path = pathlib.Path(argv[0]) if argv else default
    samples = synthesise()
    write_wav(path, samples)
    print(f"wrote {path}: {len(samples)} samples, {len(samples) / SR:.2f} s at {SR} Hz, "
          f"{path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
