"""Exception hierarchy of the spectrograms package.

Every error the library raises on purpose is a :class:`SpectrogramError`. The value errors are also
:class:`ValueError` and the backend errors :class:`RuntimeError`, so generic handlers keep working.
"""

from __future__ import annotations

__all__ = [
    "SpectrogramError",
    "InvalidInputError",
    "DimensionMismatchError",
    "FFTBackendError",
    "InternalError",
    "AudioReadError",
]


class SpectrogramError(Exception):
    """Base class of every error raised by spectrograms."""


class InvalidInputError(SpectrogramError, ValueError):
    """A parameter or input value is out of range, not finite, or inconsistent."""


class DimensionMismatchError(SpectrogramError, ValueError):
    """Two sizes that must agree do not (window length vs n_fft, matrix rows vs n_fft, ...)."""


class FFTBackendError(SpectrogramError, RuntimeError):
    """FFTW could not plan or run a transform."""


class InternalError(SpectrogramError, RuntimeError):
    """An engine invariant was broken; please report it as a bug."""


class AudioReadError(SpectrogramError, OSError):
    """An audio file is missing, unreadable, truncated or not audio; the message names the file."""
