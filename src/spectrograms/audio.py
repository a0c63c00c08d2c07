"""Reading and writing audio files, and the example clip shipped with the package.

:func:`load` and :func:`save` use `soundfile <https://python-soundfile.readthedocs.io>`_
(libsndfile: WAV, FLAC, OGG/Vorbis, MP3 where libsndfile supports it, AIFF, ...) and resample
with `soxr <https://python-soxr.readthedocs.io>`_. Both are the optional ``audio`` extra::

    pip install spectrograms[audio]

:func:`example_path` and :func:`example_audio` need neither: the example is a 16-bit WAV file
read with the standard-library :mod:`wave` module.
"""

from __future__ import annotations

import os
import pathlib
import re
import wave
from typing import Any, BinaryIO, Optional, Tuple, Union

import numpy as np

from ._errors import AudioReadError, InvalidInputError
from .params import _float_param

__all__ = ["load", "save", "example_path", "example_audio", "RESAMPLE_QUALITIES"]

#: Quality names accepted by :func:`load` (``soxr`` recipes, from quick to very high quality).
RESAMPLE_QUALITIES = ("QQ", "LQ", "MQ", "HQ", "VHQ")

PathLike = Union[str, "os.PathLike[str]"]
Source = Union[str, "os.PathLike[str]", BinaryIO]

_INSTALL_HINT = "pip install spectrograms[audio]"


# libsndfile converts integer PCM to float at about 4 ns a sample. 16- and 24-bit samples are exact
# in float32, and libsndfile scales them by a power of two, so reading the integers and scaling in
# numpy gives the same bits, about 6x faster (tests/test_audio.py checks the equality).
_INTEGER_READS = {"PCM_16": ("int16", 2.0 ** -15), "PCM_24": ("int32", 2.0 ** -31)}


def _read_frames(f: Any, frames: int, dtype: np.dtype) -> np.ndarray:
    """``f.read(frames, dtype=dtype, always_2d=True)``, through integers where that is exact."""
    integer = _INTEGER_READS.get(f.subtype)
    if integer is None:
        return f.read(frames, dtype=dtype.name, always_2d=True)
    raw = f.read(frames, dtype=integer[0], always_2d=True)
    out = np.empty(raw.shape, dtype=dtype)
    np.multiply(raw, dtype.type(integer[1]), out=out, casting="unsafe")
    return out


def _import_soundfile() -> Any:
    try:
        import soundfile
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"reading and writing audio files needs the soundfile package: {_INSTALL_HINT} "
            f"(or pip install soundfile); the import failed with: {exc}"
        ) from exc
    except OSError as exc:  # pragma: no cover - soundfile installed but libsndfile missing
        raise ImportError(
            f"soundfile is installed but its libsndfile library could not be loaded ({exc}); "
            f"reinstall it with {_INSTALL_HINT}"
        ) from exc
    return soundfile


def _import_soxr() -> Any:
    try:
        import soxr
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"resampling needs the soxr package: {_INSTALL_HINT} (or pip install soxr); "
            f"the import failed with: {exc}"
        ) from exc
    return soxr


def _source_name(source: Any) -> str:
    """A readable name for a path or a file-like object, for error messages."""
    if isinstance(source, (str, bytes, os.PathLike)):
        return os.fsdecode(source)
    name = getattr(source, "name", None)
    if isinstance(name, (str, bytes)) and name:
        return os.fsdecode(name)
    return f"<{type(source).__name__} object>"


def _read_error(name: str, reason: str) -> AudioReadError:
    err = AudioReadError(f"cannot read audio file '{name}': {reason}")
    # ``strerror`` is the standard OSError attribute for the reason; ``path`` names the file.
    # (Setting OSError.filename would change str(err) to "[Errno None] ...", so it stays None.)
    err.strerror = reason
    err.path = name  # type: ignore[attr-defined]
    return err


def _check_rate(name: str, value: Any) -> Union[int, float]:
    rate = _float_param(name, value)
    if rate <= 0:
        raise InvalidInputError(f"{name} must be > 0 (in Hz), got {value!r}")
    return int(rate) if rate == int(rate) else rate


def _float_dtype(dtype: Any) -> np.dtype:
    try:
        d = np.dtype(dtype)
    except TypeError:
        if isinstance(dtype, str):
            raise InvalidInputError(f"dtype must be 'float32' or 'float64', got {dtype!r}") from None
        raise TypeError(f"dtype must be 'float32' or 'float64', got {type(dtype).__name__} {dtype!r}") from None
    if d not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise InvalidInputError(
            f"dtype must be 'float32' or 'float64', got {dtype!r}; integer PCM is scaled to [-1, 1] "
            "floats on reading"
        )
    return d


def _check_path(source: Any, name: str) -> None:
    """Precise reasons for the common path problems, before libsndfile turns them into 'System error'."""
    try:
        st = os.stat(source)
    except FileNotFoundError:
        raise _read_error(name, "no such file or directory") from None
    except PermissionError:
        raise _read_error(name, "permission denied") from None
    except OSError as exc:
        raise _read_error(name, exc.strerror or str(exc)) from None
    import stat

    if stat.S_ISDIR(st.st_mode):
        raise _read_error(name, "is a directory, not an audio file")
    if not stat.S_ISREG(st.st_mode):
        return  # a pipe or device: let libsndfile try
    if st.st_size == 0:
        raise _read_error(name, "the file is empty (0 bytes)")
    if not os.access(source, os.R_OK):
        raise _read_error(name, "permission denied")


def _check_stream(source: Any, name: str) -> None:
    seekable = getattr(source, "seekable", None)
    try:
        if callable(seekable) and seekable():
            pos = source.tell()
            end = source.seek(0, os.SEEK_END)
            source.seek(pos)
            if end - pos <= 0:
                raise _read_error(name, "the file is empty (no data left to read)")
    except (OSError, ValueError) as exc:
        if isinstance(exc, AudioReadError):
            raise
        raise _read_error(name, f"the file object cannot be read ({exc})") from None


_TRUNCATED = re.compile(r"^(data|SSND)\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)


def _check_truncated(f: Any, name: str) -> None:
    """WAV/AIFF files whose data chunk is shorter than its header declares (an interrupted copy)."""
    if f.format not in ("WAV", "WAVEX", "W64", "RF64", "AIFF"):
        return
    try:
        info = f.extra_info
    except Exception:  # pragma: no cover - informational only
        return
    for match in _TRUNCATED.finditer(info):
        declared, present = int(match.group(2)), int(match.group(3))
        # 0 and 0x7fffffff/0xffffffff are placeholders written by streaming recorders, not truncation.
        if present < declared < 0x7FFFFFFF:
            raise _read_error(
                name,
                f"truncated: the header declares {declared} bytes of audio data but only {present} are present",
            )


def load(
    path: Source,
    sample_rate: Optional[float] = None,
    mono: bool = True,
    offset: float = 0.0,
    duration: Optional[float] = None,
    dtype: Any = "float32",
    resample_quality: str = "HQ",
) -> Tuple[np.ndarray, Union[int, float]]:
    """Read an audio file as floating-point samples in [-1, 1].

    Uses soundfile (libsndfile): WAV, FLAC, OGG/Vorbis, MP3 (libsndfile >= 1.1), AIFF and the
    other formats in ``soundfile.available_formats()``. Integer PCM is scaled to [-1, 1)
    (int16 ``x`` becomes ``x / 32768``). Needs the ``audio`` extra.

    Parameters
    ----------
    path : str, pathlib.Path or file-like object
        The file to read. A file object must be opened in binary mode; reading starts at its
        current position.
    sample_rate : float, optional
        Resample to this rate in Hz with soxr. None (default) keeps the file's rate.
    mono : bool
        True (default): average the channels into one, giving shape ``(n_samples,)``. False: keep
        them, giving ``(n_channels, n_samples)`` (also for a mono file: ``(1, n_samples)``).
    offset : float
        Start reading this many seconds into the file (>= 0). Only the requested frames are read.
        An offset past the end gives zero samples.
    duration : float, optional
        Read at most this many seconds (> 0). None (default) reads to the end.
    dtype : {"float32", "float64"}
        Sample type of the result (default float32).
    resample_quality : {"QQ", "LQ", "MQ", "HQ", "VHQ"}
        soxr quality recipe used when resampling (default ``"HQ"``, as ``soxr.resample``).

    Returns
    -------
    samples : numpy.ndarray
        ``(n_samples,)`` when ``mono`` is True, else ``(n_channels, n_samples)``; C-contiguous.
    sample_rate : int or float
        The rate of ``samples``: the file's, or ``sample_rate`` when given.

    Raises
    ------
    spectrograms.AudioReadError
        The file is missing, a directory, empty, truncated, corrupt or not in a format libsndfile
        reads. The message names the file and the reason; the error is also an ``OSError``
        (``err.path`` holds the file name and ``err.strerror`` the reason).
    ValueError
        For a negative or non-finite ``offset``, ``duration <= 0``, ``sample_rate <= 0``, an unknown
        ``resample_quality`` or a dtype other than float32/float64 (these are
        :class:`spectrograms.InvalidInputError`).
    TypeError
        For arguments of the wrong type.
    ImportError
        When soundfile (or soxr, for resampling) is not installed.

    Examples
    --------
    >>> from spectrograms.audio import load, example_path
    >>> samples, sr = load(example_path())
    >>> samples.dtype, sr
    (dtype('float32'), 22050)
    >>> samples16k, sr = load(example_path(), sample_rate=16000, offset=1.0, duration=2.0)
    >>> samples16k.shape, sr
    ((32000,), 16000)
    """
    out_dtype = _float_dtype(dtype)
    offset = _float_param("offset", offset)
    if offset < 0:
        raise InvalidInputError(f"offset must be >= 0 seconds, got {offset}")
    if duration is not None:
        duration = _float_param("duration", duration)
        if duration <= 0:
            raise InvalidInputError(f"duration must be > 0 seconds (or None for the rest of the file), got {duration}")
    target_rate = None if sample_rate is None else _check_rate("sample_rate", sample_rate)
    if not isinstance(mono, (bool, np.bool_)):
        raise TypeError(f"mono must be a bool, got {type(mono).__name__} {mono!r}")
    if not isinstance(resample_quality, str) or resample_quality.upper() not in RESAMPLE_QUALITIES:
        raise InvalidInputError(
            f"resample_quality must be one of {', '.join(RESAMPLE_QUALITIES)}; got {resample_quality!r}"
        )
    quality = resample_quality.upper()

    is_path = isinstance(path, (str, bytes, os.PathLike))
    if not is_path and not hasattr(path, "read"):
        raise TypeError(
            f"path must be a str, a pathlib.Path or a binary file object, got {type(path).__name__} {path!r}"
        )
    name = _source_name(path)
    sf = _import_soundfile()
    if is_path:
        source: Any = os.fspath(path)
        _check_path(source, name)
    else:
        source = path
        _check_stream(source, name)

    try:
        with sf.SoundFile(source) as f:
            _check_truncated(f, name)
            rate = int(f.samplerate)
            total = int(f.frames)
            start = int(round(offset * rate))
            want = None if duration is None else int(round(duration * rate))
            if f.seekable() and 0 < total:
                if start >= total:
                    data = np.zeros((0, f.channels), dtype=out_dtype)
                else:
                    if start:
                        f.seek(start)
                    expected = total - start if want is None else min(want, total - start)
                    data = _read_frames(f, expected, out_dtype)
                    _check_complete(f.format, expected, data.shape[0], total, name)
            else:  # an unseekable stream or unknown length: read everything, then cut
                data = _read_frames(f, -1, out_dtype)
                data = data[start:] if want is None else data[start:start + want]
    except AudioReadError:
        raise
    except (sf.SoundFileError, RuntimeError) as exc:
        raise _read_error(name, _libsndfile_reason(exc)) from exc
    except (TypeError, ValueError, OSError) as exc:
        # soundfile raises these for unusable file objects and for files that vanish mid-read
        raise _read_error(name, str(exc) or type(exc).__name__) from exc

    if mono:
        samples = data.mean(axis=1, dtype=out_dtype) if data.shape[1] > 1 else data[:, 0]
    else:
        samples = data
    out_rate: Union[int, float] = rate
    if target_rate is not None and target_rate != rate:
        if samples.shape[0] > 0:
            soxr = _import_soxr()
            samples = soxr.resample(np.ascontiguousarray(samples), rate, target_rate, quality=quality)
        else:
            samples = np.zeros((0,) + samples.shape[1:], dtype=out_dtype)
        out_rate = target_rate
    samples = samples.T if not mono else samples
    return np.ascontiguousarray(samples, dtype=out_dtype), out_rate


def _check_complete(fmt: str, expected: int, got: int, total: int, name: str) -> None:
    if got >= expected:
        return
    # MP3 lengths come from a (Xing/Info) estimate: allow two MPEG frames and 1 % of slack.
    slack = max(2304, total // 100) if fmt == "MPEG" else 0
    if expected - got > slack:
        raise _read_error(
            name,
            f"truncated or corrupt: the header announces {total} frames but decoding stopped after "
            f"{total - expected + got}",
        )


def _libsndfile_reason(exc: BaseException) -> str:
    reason = getattr(exc, "error_string", None) or str(exc)
    reason = re.sub(r"^Error opening .*?: ", "", str(reason)).strip()
    reason = re.sub(r"^Error\s*:\s*", "", reason).strip()
    reason = reason.rstrip(".")
    if reason.startswith("File does not exist or is not a regular file"):
        # libsndfile's message when no decoder accepts a short or malformed file that does exist
        return "not a supported audio file or corrupt header (no decoder accepts it)"
    if reason in ("Format not recognised", "File contains data in an unimplemented format"):
        return f"not a supported audio file or corrupt header ({reason.lower()})"
    if reason == "Unspecified internal error":
        return "corrupt or undecodable audio data (libsndfile: unspecified internal error)"
    return f"corrupt or unreadable audio ({reason})" if reason else "unreadable audio file"


def save(
    path: Union[PathLike, BinaryIO],
    samples: Any,
    sample_rate: int,
    subtype: Optional[str] = None,
    format: Optional[str] = None,
) -> None:
    """Write samples to an audio file with soundfile (the ``audio`` extra).

    Parameters
    ----------
    path : str, pathlib.Path or file-like object
        Destination; the format follows the extension (``.wav``, ``.flac``, ``.ogg``, ``.mp3``, ...)
        unless ``format`` is given (required for file objects without a name).
    samples : array_like
        ``(n_samples,)`` or ``(n_channels, n_samples)``. Floats are expected in [-1, 1]; integer
        arrays are written as they are (int16 into a 16-bit file unchanged).
    sample_rate : int
        Samples per second (a positive integer).
    subtype : str, optional
        ``"PCM_16"``, ``"PCM_24"``, ``"FLOAT"``, ... (``soundfile.available_subtypes()``); None
        uses the format's default (16-bit PCM for WAV and FLAC).
    format : str, optional
        ``"WAV"``, ``"FLAC"``, ... overriding the extension.

    Raises
    ------
    ValueError
        For a bad sample rate, shape, format or subtype.
    TypeError
        For samples that are not real numbers.
    OSError
        When the file cannot be written.
    ImportError
        When soundfile is not installed.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from spectrograms.audio import save, load
    >>> path = os.path.join(tempfile.mkdtemp(), "tone.flac")
    >>> save(path, 0.5 * np.sin(2 * np.pi * 440 * np.arange(8000) / 8000), 8000)
    >>> load(path)[0].shape
    (8000,)
    """
    rate = _check_rate("sample_rate", sample_rate)
    if rate != int(rate):
        raise InvalidInputError(f"sample_rate must be a whole number of Hz to write a file, got {sample_rate!r}")
    arr = np.asarray(samples)
    if arr.dtype.kind not in "fiu" or arr.dtype == np.bool_:
        raise TypeError(f"samples must be real numbers (float or integer PCM), got dtype {arr.dtype}")
    if arr.ndim == 1:
        frames = arr
    elif arr.ndim == 2:
        if arr.shape[0] > 256 and arr.shape[1] <= 256:
            raise InvalidInputError(
                f"samples must be (n_channels, n_samples); shape {arr.shape} looks like (n_samples, n_channels): "
                "pass samples.T"
            )
        frames = arr.T
    else:
        raise InvalidInputError(f"samples must be (n_samples,) or (n_channels, n_samples), got shape {arr.shape}")
    if arr.dtype.kind == "u":
        raise TypeError(f"unsigned integer samples ({arr.dtype}) are ambiguous; convert to float in [-1, 1] first")
    if arr.dtype == np.float16:
        frames = frames.astype(np.float32)
    sf = _import_soundfile()
    target = os.fspath(path) if isinstance(path, (str, bytes, os.PathLike)) else path
    name = _source_name(path)
    if isinstance(target, (str, bytes)):
        folder = os.path.dirname(os.path.abspath(target))
        if not os.path.isdir(folder):
            raise FileNotFoundError(f"cannot write audio file {name!r}: the folder {os.fsdecode(folder)!r} does not exist")
    try:
        sf.write(target, np.ascontiguousarray(frames), int(rate), subtype=subtype, format=format)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"cannot write audio file '{name}': {exc}") from exc
    except sf.SoundFileError as exc:
        reason = _libsndfile_reason(exc)
        raise OSError(f"cannot write audio file '{name}': {reason}") from exc


# --------------------------------------------------------------------------- the example clip

_EXAMPLE = "example.wav"


def example_path() -> pathlib.Path:
    """Path of the example clip shipped with the package.

    About 4 s of synthetic music (a melody of harmonic notes, a bass line and noise percussion),
    mono, 22050 Hz, 16-bit PCM WAV; made by ``tools/make_example.py``.

    Returns
    -------
    pathlib.Path
        An existing file (extracted to a temporary file when the package is zipped).

    Examples
    --------
    >>> from spectrograms.audio import example_path
    >>> example_path().name
    'example.wav'
    """
    from importlib import resources

    resource = resources.files("spectrograms").joinpath("_assets", _EXAMPLE)
    if isinstance(resource, pathlib.Path):
        return resource
    global _EXAMPLE_CONTEXT
    if _EXAMPLE_CONTEXT is None:  # pragma: no cover - zipped installs only
        import contextlib

        _EXAMPLE_CONTEXT = contextlib.ExitStack()
        _EXAMPLE_CONTEXT.__enter__()
        _EXAMPLE_PATH.append(_EXAMPLE_CONTEXT.enter_context(resources.as_file(resource)))
    return pathlib.Path(_EXAMPLE_PATH[0])


_EXAMPLE_CONTEXT: Any = None
_EXAMPLE_PATH: list = []


def example_audio() -> Tuple[np.ndarray, int]:
    """The example clip as float32 samples in [-1, 1] (no soundfile needed).

    Returns
    -------
    samples : numpy.ndarray
        float32, shape ``(n_samples,)``.
    sample_rate : int
        22050.

    Examples
    --------
    >>> import spectrograms as sg
    >>> from spectrograms.audio import example_audio
    >>> samples, sr = example_audio()
    >>> spec = sg.compute_mel_db_spectrogram(samples, sg.SpectrogramParams.music_default(sr),
    ...                                      sg.MelParams(128), dtype="float32")
    >>> spec.shape[0]
    128
    """
    return read_wav_pcm16(example_path())


def read_wav_pcm16(path: PathLike) -> Tuple[np.ndarray, int]:
    """Read a 16-bit PCM WAV file with the standard-library :mod:`wave` module.

    Parameters
    ----------
    path : str or pathlib.Path

    Returns
    -------
    samples : numpy.ndarray
        float32 in [-1, 1), channels averaged to mono.
    sample_rate : int

    Raises
    ------
    spectrograms.AudioReadError
        When the file is missing or not a 16-bit PCM WAV file.
    """
    name = os.fspath(path)
    try:
        with wave.open(name, "rb") as w:
            if w.getsampwidth() != 2 or w.getcomptype() != "NONE":
                raise _read_error(name, "not a 16-bit PCM WAV file")
            channels, rate = w.getnchannels(), w.getframerate()
            raw = w.readframes(w.getnframes())
    except AudioReadError:
        raise
    except FileNotFoundError:
        raise _read_error(name, "no such file or directory") from None
    except (wave.Error, EOFError, OSError) as exc:
        raise _read_error(name, f"not a valid WAV file ({exc})") from exc
    pcm = np.frombuffer(raw, dtype="<i2").reshape(-1, channels)
    samples = pcm.astype(np.float32) / np.float32(32768.0)
    return (samples.mean(axis=1, dtype=np.float32) if channels > 1 else samples[:, 0].copy()), int(rate)
