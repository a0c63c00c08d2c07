"""The ``spectrograms extract`` command (spectrograms.cli.main and ``python -m spectrograms``)."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import spectrograms as sg
from spectrograms import audio, cli

pytest.importorskip("soundfile")
pytest.importorskip("soxr")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _tone(freq, sr, seconds):
    t = np.arange(int(sr * seconds)) / sr
    return (0.4 * np.sin(2 * np.pi * freq * t) + 0.1 * np.sin(2 * np.pi * 3 * freq * t)).astype(np.float32)


@pytest.fixture()
def tree(tmp_path):
    """root/a.wav, root/sub/b.flac, root/sub/deeper/c.wav (good); root/sub/corrupt.wav, root/empty.flac (bad)."""
    root = tmp_path / "in"
    (root / "sub" / "deeper").mkdir(parents=True)
    audio.save(root / "a.wav", _tone(440, 22050, 1.0), 22050)
    audio.save(root / "sub" / "b.flac", _tone(220, 16000, 0.7), 16000)
    audio.save(root / "sub" / "deeper" / "c.wav", _tone(880, 22050, 0.5), 22050, subtype="FLOAT")
    (root / "notes.txt").write_text("not audio, not an audio extension")
    (root / ".hidden.wav").write_bytes(b"resource fork junk")
    return root


def _add_bad_files(root):
    (root / "sub" / "corrupt.wav").write_bytes(np.random.default_rng(3).bytes(4000))
    (root / "empty.flac").write_bytes(b"")


def _mel_db(path, sample_rate=None, n_fft=2048, hop=512, n_mels=128, dtype="float32"):
    x, sr = audio.load(path, sample_rate=sample_rate, dtype=dtype)
    params = sg.SpectrogramParams(sg.StftParams(n_fft, hop, sg.WindowType.hanning, True), sr)
    return sg.compute_mel_db_spectrogram(x, params, sg.MelParams(n_mels), sg.LogParams(-80.0), dtype=dtype)


def _outputs(out):
    return sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())


def test_folder_with_bad_files(tree, tmp_path, capsys):
    _add_bad_files(tree)
    out = tmp_path / "out"
    rc = cli.main(["extract", str(tree), "--out", str(out), "--jobs", "2"])
    captured = capsys.readouterr()
    assert rc == 1
    assert _outputs(out) == ["a.npz", "sub/b.npz", "sub/deeper/c.npz"]  # no temporary files left
    # the failure report names both bad files (and each reason) on stderr
    err = captured.err
    assert "corrupt.wav" in err and "empty.flac" in err
    assert "empty" in err and "not a supported audio file" in err
    assert "3 written, 2 failed" in captured.out
    tail = err[err.index("2 files failed"):]
    assert "corrupt.wav" in tail and "empty.flac" in tail
    for rel, src in [("a.npz", tree / "a.wav"), ("sub/b.npz", tree / "sub" / "b.flac"),
                     ("sub/deeper/c.npz", tree / "sub" / "deeper" / "c.wav")]:
        assert str(out / rel) in captured.out
        expected = _mel_db(src)
        with np.load(out / rel) as z:
            assert z["data"].dtype == np.float32
            np.testing.assert_array_equal(z["data"], expected.data)
            np.testing.assert_array_equal(z["frequencies"], expected.frequencies)
            np.testing.assert_array_equal(z["times"], expected.times)
            assert float(z["sample_rate"]) == expected.params.sample_rate
            assert int(z["n_fft"]) == 2048 and int(z["hop_size"]) == 512 and int(z["n_mels"]) == 128
            assert str(z["kind"]) == "mel" and str(z["scale"]) == "db"
            assert str(z["source"]) == str(src)
            params = json.loads(str(z["params"]))
            assert params["n_mels"] == 128 and params["floor_db"] == -80.0
            assert params["f_max"] == expected.params.sample_rate / 2 and params["centre"] is True


def test_good_files_exit_zero_and_options(tree, tmp_path, capsys):
    out = tmp_path / "out"
    rc = cli.main(["extract", str(tree), "--out", str(out), "--kind", "linear", "--scale", "power",
                   "--n-fft", "512", "--hop", "128", "--dtype", "float64", "--no-recursive"])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert _outputs(out) == ["a.npz"]
    assert "1 written, 0 failed" in captured.out
    x, sr = audio.load(tree / "a.wav", dtype="float64")
    expected = sg.compute_linear_power_spectrogram(x, sg.SpectrogramParams(sg.StftParams(512, 128), sr))
    with np.load(out / "a.npz") as z:
        assert z["data"].dtype == np.float64 and "n_mels" not in z.files
        np.testing.assert_array_equal(z["data"], expected.data)
        assert str(z["kind"]) == "linear" and str(z["scale"]) == "power"


def test_recursive_good_run_with_resampling_and_mel_options(tree, tmp_path, capsys):
    out = tmp_path / "out"
    rc = cli.main(["extract", str(tree), "--out", str(out), "--sample-rate", "16000", "--n-mels", "40",
                   "--f-min", "30", "--f-max", "7000", "--mel-norm", "slaney", "--window", "hamming",
                   "--no-centre", "--floor-db", "-60", "--jobs", "3"])
    assert rc == 0, capsys.readouterr().err
    assert _outputs(out) == ["a.npz", "sub/b.npz", "sub/deeper/c.npz"]
    x, sr = audio.load(tree / "a.wav", sample_rate=16000)
    assert sr == 16000
    params = sg.SpectrogramParams(sg.StftParams(2048, 512, sg.WindowType.hamming, False), 16000)
    expected = sg.compute_mel_db_spectrogram(x, params, sg.MelParams(40, 30.0, 7000.0, "slaney"),
                                             sg.LogParams(-60.0), dtype="float32")
    with np.load(out / "a.npz") as z:
        np.testing.assert_array_equal(z["data"], expected.data)
        assert float(z["sample_rate"]) == 16000.0
        p = json.loads(str(z["params"]))
        assert p["window"] == "hamming" and p["mel_norm"] == "slaney" and p["resampled_to"] == 16000.0


def test_single_file_goes_to_the_top_and_prints_a_summary(tree, tmp_path, capsys):
    out = tmp_path / "out"
    rc = cli.main(["extract", str(tree / "sub" / "deeper" / "c.wav"), "--out", str(out), "--plot"])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert _outputs(out) == ["c.npz", "c.png"]
    assert (out / "c.png").read_bytes()[:8] == PNG_MAGIC
    spec = _mel_db(tree / "sub" / "deeper" / "c.wav")
    assert f"shape {spec.shape}" in captured.out
    lo, hi = spec.db_range()
    assert f"dB range {lo:.1f} to {hi:.1f}" in captured.out
    assert str(out / "c.npz") in captured.out and str(out / "c.png") in captured.out


def test_same_stem_keeps_extensions(tmp_path, capsys):
    root = tmp_path / "in"
    root.mkdir()
    audio.save(root / "song.wav", _tone(440, 8000, 0.3), 8000)
    audio.save(root / "song.flac", _tone(330, 8000, 0.3), 8000)
    out = tmp_path / "out"
    assert cli.main(["extract", str(root), "--out", str(out), "--ext", "WAV,.flac"]) == 0
    assert _outputs(out) == ["song.flac.npz", "song.wav.npz"]
    capsys.readouterr()


def test_no_input_uses_the_example(tmp_path, capsys):
    out = tmp_path / "demo"
    rc = cli.main(["extract", "--out", str(out), "--plot"])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert _outputs(out) == ["example.npz", "example.png"]
    assert (out / "example.png").read_bytes()[:8] == PNG_MAGIC
    assert "example clip" in captured.out and "1 written, 0 failed" in captured.out
    expected = _mel_db(audio.example_path())
    with np.load(out / "example.npz") as z:
        np.testing.assert_array_equal(z["data"], expected.data)
        assert str(z["source"]) == str(audio.example_path())


@pytest.mark.parametrize("argv", [
    ["extract", "/definitely/not/here.wav", "--out", "{out}"],
    ["extract", "--out", "{out}", "--kind", "bark"],
    ["extract", "--out", "{out}", "--hop", "4096"],
    ["extract", "--out", "{out}", "--n-fft", "0"],
    ["extract", "--out", "{out}", "--f-min", "500", "--f-max", "100"],
    ["extract", "--out", "{out}", "--window", "triangle"],
    ["extract"],
    ["frobnicate"],
    [],
])
def test_usage_errors_exit_2(tmp_path, capsys, argv):
    out = tmp_path / "out"
    rc = cli.main([a.format(out=out) for a in argv])
    assert rc == 2
    assert capsys.readouterr().err.strip()
    assert not out.exists() or not any(out.rglob("*.npz"))


def test_help_exits_zero(capsys):
    assert cli.main(["extract", "--help"]) == 0
    text = capsys.readouterr().out
    for option in ("--out", "--kind", "--n-mels", "--sample-rate", "--jobs", "--plot", "--ext", "exit status"):
        assert option in text


def test_f_max_above_a_files_nyquist_fails_that_file_only(tmp_path, capsys):
    root = tmp_path / "in"
    root.mkdir()
    audio.save(root / "low.wav", _tone(440, 8000, 0.3), 8000)
    audio.save(root / "high.wav", _tone(440, 22050, 0.3), 22050)
    rc = cli.main(["extract", str(root), "--out", str(tmp_path / "out"), "--f-max", "6000"])
    captured = capsys.readouterr()
    assert rc == 1
    assert "low.wav" in captured.err and "Nyquist" in captured.err
    assert _outputs(tmp_path / "out") == ["high.npz"]


def _run_module(*args):
    env = dict(os.environ)
    src = str(pathlib.Path(sg.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([src, env.get("PYTHONPATH", "")])
    env["MPLBACKEND"] = "Agg"
    return subprocess.run([sys.executable, "-m", "spectrograms", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def test_python_dash_m(tree, tmp_path):
    _add_bad_files(tree)
    out = tmp_path / "out"
    proc = _run_module("extract", str(tree), "--out", str(out), "--progress")
    assert proc.returncode == 1
    assert "corrupt.wav" in proc.stderr and "empty.flac" in proc.stderr
    assert "3 written, 2 failed" in proc.stdout
    assert "extract" in proc.stderr and "3/5" not in proc.stdout  # the progress bar went to stderr
    proc = _run_module("extract", "--out", str(tmp_path / "demo"))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "demo" / "example.npz").is_file()
    assert _run_module("extract", "--bogus").returncode == 2


def test_without_soundfile_wav_files_still_work(tmp_path, capsys, monkeypatch):
    def no_soundfile():
        raise ImportError("reading and writing audio files needs the soundfile package: "
                          "pip install spectrograms[audio]")

    monkeypatch.setattr(audio, "_import_soundfile", no_soundfile)
    out = tmp_path / "out"
    assert cli.main(["extract", "--out", str(out)]) == 0  # the example clip is read with `wave`
    x, sr = audio.example_audio()
    expected = sg.compute_mel_db_spectrogram(x, sg.SpectrogramParams.music_default(sr), sg.MelParams(128),
                                             dtype="float32")
    with np.load(out / "example.npz") as z:
        np.testing.assert_array_equal(z["data"], expected.data)
    capsys.readouterr()
    assert cli.main(["extract", "--out", str(out), "--sample-rate", "16000"]) == 2
    assert "pip install spectrograms[audio]" in capsys.readouterr().err


def test_plot_without_matplotlib_is_a_usage_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert cli.main(["extract", "--out", str(tmp_path / "out"), "--plot"]) == 2
    assert "pip install spectrograms[plot]" in capsys.readouterr().err
