"""spectrograms.audio: load/save on soundfile, soxr resampling, errors, and the example clip."""

from __future__ import annotations

import io
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import spectrograms as sg
from spectrograms import audio

sf = pytest.importorskip("soundfile")
soxr = pytest.importorskip("soxr")

REPO = pathlib.Path(__file__).resolve().parent.parent


def tone(freq: float, sr: int, seconds: float, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(sr * seconds)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


# --------------------------------------------------------------------------- round trips

@pytest.mark.parametrize("ext, subtype", [("wav", "FLOAT"), ("wav", "DOUBLE"), ("flac", "PCM_24")])
def test_round_trip_float(tmp_path, ext, subtype):
    x = tone(440, 22050, 0.5)
    path = tmp_path / f"x.{ext}"
    audio.save(path, x, 22050, subtype=subtype)
    y, sr = audio.load(path)
    assert sr == 22050 and isinstance(sr, int)
    assert y.dtype == np.float32 and y.shape == x.shape and y.flags.c_contiguous
    atol = 0 if subtype in ("FLOAT", "DOUBLE") else 2.0 ** -23
    np.testing.assert_allclose(y, x, rtol=0, atol=atol)
    y64, _ = audio.load(path, dtype="float64")
    assert y64.dtype == np.float64
    np.testing.assert_allclose(y64, x, rtol=0, atol=max(atol, 1e-7))


@pytest.mark.parametrize("ext", ["wav", "flac", "aiff"])
@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_24"])
@pytest.mark.parametrize("channels", [1, 2])
def test_integer_pcm_equals_libsndfile_float_read_bit_for_bit(tmp_path, ext, subtype, channels):
    """load reads 16/24-bit PCM as integers and scales in numpy: the bits of libsndfile's read."""
    rng = np.random.default_rng(3)
    bits = 16 if subtype == "PCM_16" else 24
    ints = rng.integers(-(2 ** (bits - 1)), 2 ** (bits - 1), size=(5001, channels))
    ints[:4, 0] = [-(2 ** (bits - 1)), 2 ** (bits - 1) - 1, 0, -1]  # the extremes, zero, -1 LSB
    path = tmp_path / f"pcm.{ext}"
    sf.write(str(path), (ints * 2.0 ** -(bits - 1)).squeeze(), 16000, subtype=subtype)
    assert sf.info(str(path)).subtype == subtype
    for dtype in ("float32", "float64"):
        expected, _ = sf.read(str(path), dtype=dtype, always_2d=True)
        assert np.array_equal(expected, ints * 2.0 ** -(bits - 1))  # the file holds what we wrote
        y, _ = audio.load(path, mono=False, dtype=dtype)
        assert y.dtype == np.dtype(dtype) and np.array_equal(y, expected.T)
        part, _ = audio.load(path, mono=False, dtype=dtype, offset=1000 / 16000, duration=0.1)
        assert np.array_equal(part, expected[1000:2600].T)
        with open(path, "rb") as stream:  # an unseekable-style read of a file object
            whole, _ = audio.load(stream, mono=False, dtype=dtype)
        assert np.array_equal(whole, expected.T)


@pytest.mark.parametrize("ext", ["wav", "flac"])
def test_int16_pcm_is_scaled(tmp_path, ext):
    pcm = np.array([0, 1, -1, 16384, -16384, 32767, -32768, 1000], dtype=np.int16)
    path = tmp_path / f"pcm.{ext}"
    audio.save(path, pcm, 8000, subtype="PCM_16")
    info = sf.info(str(path))
    assert info.subtype == "PCM_16"
    y, sr = audio.load(path)
    assert sr == 8000
    np.testing.assert_array_equal(y, pcm.astype(np.float32) / 32768)
    assert y.min() >= -1.0 and y.max() < 1.0


def test_default_float_wav_is_16_bit_and_within_one_lsb(tmp_path):
    x = tone(1000, 16000, 0.25)
    audio.save(tmp_path / "x.wav", x, 16000)
    assert sf.info(str(tmp_path / "x.wav")).subtype == "PCM_16"
    y, _ = audio.load(tmp_path / "x.wav")
    np.testing.assert_allclose(y, x, atol=1.0 / 32768)


def test_stereo(tmp_path):
    left, right = tone(440, 16000, 0.3), tone(880, 16000, 0.3, amp=0.25)
    path = tmp_path / "stereo.wav"
    audio.save(path, np.stack([left, right]), 16000, subtype="FLOAT")
    assert sf.info(str(path)).channels == 2
    both, sr = audio.load(path, mono=False)
    assert both.shape == (2, left.size) and both.flags.c_contiguous
    np.testing.assert_array_equal(both[0], left)
    np.testing.assert_array_equal(both[1], right)
    mono, _ = audio.load(path)
    assert mono.shape == (left.size,)
    np.testing.assert_allclose(mono, (left + right) / 2, atol=1e-7)
    # a mono file with mono=False keeps a channel axis
    audio.save(tmp_path / "m.wav", left, 16000, subtype="FLOAT")
    assert audio.load(tmp_path / "m.wav", mono=False)[0].shape == (1, left.size)


def test_stereo_resampled_keeps_channels(tmp_path):
    x = np.stack([tone(440, 44100, 0.2), tone(660, 44100, 0.2)])
    audio.save(tmp_path / "s.wav", x, 44100, subtype="FLOAT")
    y, sr = audio.load(tmp_path / "s.wav", sample_rate=22050, mono=False)
    assert sr == 22050 and y.shape == (2, x.shape[1] // 2)
    expected = soxr.resample(x.T.copy(), 44100, 22050, quality="HQ").T
    np.testing.assert_array_equal(y, expected)


def test_offset_and_duration(tmp_path):
    sr = 8000
    x = np.random.default_rng(0).uniform(-0.5, 0.5, sr * 2).astype(np.float32)
    path = tmp_path / "x.wav"
    audio.save(path, x, sr, subtype="FLOAT")
    y, _ = audio.load(path, offset=0.5, duration=0.25)
    np.testing.assert_array_equal(y, x[4000:6000])
    y, _ = audio.load(path, offset=1.5)
    np.testing.assert_array_equal(y, x[12000:])
    y, _ = audio.load(path, duration=10.0)  # longer than the file: up to the end
    np.testing.assert_array_equal(y, x)
    y, _ = audio.load(path, offset=5.0)  # past the end: nothing
    assert y.shape == (0,) and y.dtype == np.float32
    y, _ = audio.load(path, offset=0.5, duration=0.25, mono=False)
    assert y.shape == (1, 2000)


# --------------------------------------------------------------------------- resampling

def test_resample_equals_soxr(tmp_path):
    x = np.random.default_rng(1).uniform(-0.5, 0.5, 44100).astype(np.float32)
    path = tmp_path / "x44.wav"
    audio.save(path, x, 44100, subtype="FLOAT")
    y, sr = audio.load(path, sample_rate=16000)
    assert sr == 16000
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, soxr.resample(x, 44100, 16000))
    for quality in ("QQ", "LQ", "MQ", "VHQ"):
        y, _ = audio.load(path, sample_rate=16000, resample_quality=quality)
        np.testing.assert_array_equal(y, soxr.resample(x, 44100, 16000, quality=quality))
    y64, _ = audio.load(path, sample_rate=16000, dtype="float64")
    np.testing.assert_array_equal(y64, soxr.resample(x.astype(np.float64), 44100, 16000))


def test_resample_keeps_tone_frequency(tmp_path):
    path = tmp_path / "tone.wav"
    audio.save(path, tone(1000, 44100, 1.0), 44100, subtype="FLOAT")
    y, sr = audio.load(path, sample_rate=16000)
    assert sr == 16000 and abs(y.size - 16000) <= 1
    spectrum = np.abs(np.fft.rfft(y * np.hanning(y.size)))
    peak_hz = np.argmax(spectrum) * sr / y.size
    assert abs(peak_hz - 1000) <= 1.0
    # same rate: no resampling at all
    z, sr2 = audio.load(path, sample_rate=44100)
    assert sr2 == 44100
    np.testing.assert_array_equal(z, audio.load(path)[0])


# --------------------------------------------------------------------------- sources

def test_pathlib_str_and_file_objects(tmp_path):
    x = tone(300, 16000, 0.2)
    path = tmp_path / "x.flac"
    audio.save(path, x, 16000)
    ref, _ = audio.load(str(path))
    np.testing.assert_array_equal(audio.load(path)[0], ref)
    with open(path, "rb") as f:
        np.testing.assert_array_equal(audio.load(f)[0], ref)
    buf = io.BytesIO(path.read_bytes())
    y, sr = audio.load(buf, offset=0.05)
    assert sr == 16000
    np.testing.assert_array_equal(y, ref[800:])
    out = io.BytesIO()
    audio.save(out, x, 16000, format="WAV", subtype="FLOAT")
    out.seek(0)
    np.testing.assert_array_equal(audio.load(out)[0], x)


# --------------------------------------------------------------------------- errors

def _assert_read_error(excinfo, name, reason_part):
    err = excinfo.value
    assert isinstance(err, sg.AudioReadError)
    assert isinstance(err, OSError) and isinstance(err, sg.SpectrogramError)
    assert name in str(err)
    assert reason_part in str(err).lower()
    assert name in err.path
    assert err.strerror and str(err).endswith(err.strerror)
    assert not str(err).startswith("[Errno")


def test_missing_file(tmp_path):
    with pytest.raises(sg.AudioReadError) as e:
        audio.load(tmp_path / "nope.wav")
    _assert_read_error(e, "nope.wav", "no such file")
    with pytest.raises(OSError):  # catchable as a plain OSError
        audio.load(str(tmp_path / "nope.wav"))


def test_corrupt_header(tmp_path):
    path = tmp_path / "garbage.wav"
    path.write_bytes(np.random.default_rng(2).bytes(5000))
    with pytest.raises(sg.AudioReadError) as e:
        audio.load(path)
    _assert_read_error(e, "garbage.wav", "not a supported audio file")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.flac"
    path.write_bytes(b"")
    with pytest.raises(sg.AudioReadError) as e:
        audio.load(path)
    _assert_read_error(e, "empty.flac", "empty")
    with pytest.raises(sg.AudioReadError, match="empty"):
        audio.load(io.BytesIO(b""))


def test_directory(tmp_path):
    folder = tmp_path / "folder.wav"
    folder.mkdir()
    with pytest.raises(sg.AudioReadError) as e:
        audio.load(folder)
    _assert_read_error(e, "folder.wav", "directory")


def test_truncated_wav_and_flac(tmp_path):
    x = tone(440, 16000, 1.0)
    for ext in ("wav", "flac"):
        good = tmp_path / f"good.{ext}"
        audio.save(good, x, 16000)
        data = good.read_bytes()
        bad = tmp_path / f"cut.{ext}"
        bad.write_bytes(data[: len(data) // 2])
        with pytest.raises(sg.AudioReadError) as e:
            audio.load(bad)
        _assert_read_error(e, f"cut.{ext}", "")
        assert "trunc" in str(e.value) or "corrupt" in str(e.value)
    header_only = tmp_path / "header.wav"
    header_only.write_bytes((tmp_path / "good.wav").read_bytes()[:30])
    with pytest.raises(sg.AudioReadError) as e:
        audio.load(header_only)
    _assert_read_error(e, "header.wav", "")


def test_bad_arguments(tmp_path):
    path = tmp_path / "x.wav"
    audio.save(path, tone(440, 8000, 0.1), 8000)
    with pytest.raises(ValueError, match="offset"):
        audio.load(path, offset=-1.0)
    with pytest.raises(ValueError, match="offset"):
        audio.load(path, offset=float("nan"))
    with pytest.raises(ValueError, match="duration"):
        audio.load(path, duration=0)
    for rate in (0, -8000, float("inf")):
        with pytest.raises(ValueError, match="sample_rate"):
            audio.load(path, sample_rate=rate)
    with pytest.raises(TypeError, match="sample_rate"):
        audio.load(path, sample_rate="16k")
    with pytest.raises(ValueError, match="dtype"):
        audio.load(path, dtype="int16")
    with pytest.raises(ValueError, match="dtype"):
        audio.load(path, dtype="float16")
    with pytest.raises(ValueError, match="dtype"):
        audio.load(path, dtype="banana")
    with pytest.raises(TypeError, match="dtype"):
        audio.load(path, dtype=object())
    with pytest.raises(ValueError, match="resample_quality"):
        audio.load(path, sample_rate=4000, resample_quality="best")
    with pytest.raises(TypeError, match="path"):
        audio.load(12345)
    with pytest.raises(TypeError, match="mono"):
        audio.load(path, mono="yes")
    # save
    with pytest.raises(ValueError, match="sample_rate"):
        audio.save(tmp_path / "y.wav", np.zeros(10), 0)
    with pytest.raises(ValueError, match="n_channels"):
        audio.save(tmp_path / "y.wav", np.zeros((1000, 2)), 8000)
    with pytest.raises(ValueError, match="shape"):
        audio.save(tmp_path / "y.wav", np.zeros((2, 2, 2)), 8000)
    with pytest.raises(TypeError):
        audio.save(tmp_path / "y.wav", np.zeros(4, dtype=complex), 8000)
    with pytest.raises(ValueError, match="y.xyz"):
        audio.save(tmp_path / "y.xyz", np.zeros(10), 8000)


def test_save_to_missing_folder_is_an_oserror(tmp_path):
    with pytest.raises(OSError, match="nowhere"):
        audio.save(tmp_path / "nowhere" / "y.wav", np.zeros(10), 8000)


# --------------------------------------------------------------------------- the example clip

def test_example_clip():
    path = audio.example_path()
    assert isinstance(path, pathlib.Path) and path.is_file() and path.name == "example.wav"
    assert path.stat().st_size < 200_000
    x, sr = audio.example_audio()
    assert sr == 22050 and x.dtype == np.float32 and x.ndim == 1
    assert 3.5 <= x.size / sr <= 4.5
    assert 0.85 <= np.max(np.abs(x)) <= 0.9
    info = sf.info(str(path))
    assert (info.samplerate, info.channels, info.subtype) == (22050, 1, "PCM_16")
    y, sr2 = audio.load(path)
    assert sr2 == sr
    np.testing.assert_array_equal(x, y)
    spec = sg.compute_mel_db_spectrogram(x, sg.SpectrogramParams.music_default(sr), sg.MelParams(128))
    lo, hi = spec.db_range()
    assert hi - lo > 60  # it has structure: loud notes and quiet gaps


def test_read_wav_pcm16_rejects_other_files(tmp_path):
    audio.save(tmp_path / "f.wav", np.zeros(10), 8000, subtype="FLOAT")
    with pytest.raises(sg.AudioReadError, match="f.wav"):
        audio.read_wav_pcm16(tmp_path / "f.wav")
    with pytest.raises(sg.AudioReadError, match="missing.wav"):
        audio.read_wav_pcm16(tmp_path / "missing.wav")


@pytest.mark.skipif(not (REPO / "tools" / "make_example.py").exists(), reason="source checkout only")
def test_example_clip_is_reproducible(tmp_path):
    out = tmp_path / "example.wav"
    subprocess.run([sys.executable, str(REPO / "tools" / "make_example.py"), str(out)], check=True,
                   capture_output=True, env={**os.environ})
    assert out.read_bytes() == audio.example_path().read_bytes()


def test_missing_soundfile_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "soundfile", None)  # makes `import soundfile` fail
    with pytest.raises(ImportError, match=r"pip install spectrograms\[audio\]"):
        audio.load(tmp_path / "x.wav")
    with pytest.raises(ImportError, match=r"pip install spectrograms\[audio\]"):
        audio.save(tmp_path / "x.wav", np.zeros(10), 8000)
    x, sr = audio.example_audio()  # needs only the standard library
    assert sr == 22050 and x.size > 0


def test_missing_soxr_says_how_to_install(tmp_path, monkeypatch):
    audio.save(tmp_path / "x.wav", np.zeros(100), 8000)
    monkeypatch.setitem(sys.modules, "soxr", None)
    assert audio.load(tmp_path / "x.wav")[1] == 8000  # no resampling: soxr not needed
    with pytest.raises(ImportError, match=r"pip install spectrograms\[audio\]"):
        audio.load(tmp_path / "x.wav", sample_rate=16000)


def test_save_into_a_missing_folder_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="folder .* does not exist"):
        sg.save(tmp_path / "no" / "such" / "x.wav", np.zeros(100, np.float32), 16000)
