"""ONNX export of the front-end layers: every layer in every mode, run in onnxruntime on the CPU.

Each file is exported with batch 2 and 16000 samples (both dynamic), checked with
``onnx.checker.check_model`` and run with other batch sizes and lengths (shorter than n_fft,
exactly n_fft, odd, longer than exported); the outputs equal the engine's float32 output within
the tolerances of test_layers (dB outputs also within 1e-4 dB of the engine's float64 output: the
graph computes the STFT in float64, as the layer does by default). Also: a classifier trained on engine features (computed by
``plan.compute_batch`` in a DataLoader collate) and deployed behind the exported
``LogMelSpectrogram`` gives the same predictions from raw audio in onnxruntime; and the
``spectrograms export`` command.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

import spectrograms as sg  # noqa: E402
from spectrograms import cli  # noqa: E402
from spectrograms._layers import LogMelSpectrogram, Spectrogram  # noqa: E402
from spectrograms.export import export_onnx  # noqa: E402
from _layer_helpers import (  # noqa: E402
    KINDS, MEL, MODES, N_FFT, N_MELS, PARAMS, PLANNER, SR, assert_matches, engine_plan, exact_reference,
    make_layer, mfcc_reference, reference,
)

RUN_SHAPES = [(3, 150), (3, N_FFT), (3, 16001), (1, 1601), (5, 1)]  # (batch, length); exported with (2, 16000)


def session(path):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """(kind, mode, dft, precision) -> (layer, path), exported on first use."""
    cache = {}
    root = tmp_path_factory.mktemp("onnx")

    def get(kind, mode, dft, precision="float64"):
        key = (kind, mode, dft, precision)
        if key not in cache:
            layer = make_layer(kind, mode, dft).set_precision(precision)
            path = export_onnx(layer, root / f"{kind}-{mode}-{dft}-{precision}.onnx")
            cache[key] = (layer, path)
        return cache[key]

    return get


# Every mode for the deployment case (log-mel) and for the hardest case for float32 (linear dB,
# whose cells reach 80-100 dB below their frame's peak); every other layer in one mode (the
# command's test adds MFCC in on_the_fly mode); log-mel with precision="float32" (Conv / float32
# STFT graphs). Exports take seconds each, so not the full product.
EXPORT_CASES = (
    [("logmel", mode, dft, "float64") for mode, dft in MODES]
    + [("spectrogram-db", mode, dft, "float64") for mode, dft in MODES]
    + [("spectrogram-power", "stft", "store", "float64"), ("mel-power", "dft", "input", "float64"),
       ("mfcc", "dft", "store", "float64")]
    + [("logmel", mode, dft, "float32") for mode, dft in (("stft", "store"), ("dft", "store"), ("dft", "on_the_fly"))]
)
EXPORT_IDS = [f"{kind}-{'stft' if mode == 'stft' else 'dft-' + dft}" + ("-float32" if prec == "float32" else "")
              for kind, mode, dft, prec in EXPORT_CASES]


@pytest.mark.parametrize("kind,mode,dft,precision", EXPORT_CASES, ids=EXPORT_IDS)
def test_exported_model_equals_engine(kind, mode, dft, precision, exported, make_signal):
    layer, path = exported(kind, mode, dft, precision)
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    assert [i.name for i in model.graph.input] == (["audio", "dft_basis"] if dft == "input" and mode == "dft" else ["audio"])
    assert [o.name for o in model.graph.output] == ["features"]
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert all(d.dim_param for d in dims), "batch and length must be dynamic"
    elem = {"float64": onnx.TensorProto.DOUBLE, "float32": onnx.TensorProto.FLOAT}[precision]
    if layer.needs_basis:
        assert model.graph.input[1].type.tensor_type.elem_type == elem, "dft_basis in the compute dtype"
    ops = {n.op_type for n in model.graph.node}
    if mode == "stft":
        assert "STFT" in ops and "Conv" not in ops
    elif precision == "float64":  # onnxruntime has no float64 Conv: frames (Gather) @ basis (MatMul)
        assert {"Gather", "MatMul"} <= ops and "Conv" not in ops and "STFT" not in ops
    else:
        assert "Conv" in ops and "STFT" not in ops
    if dft == "on_the_fly" and mode == "dft":
        assert {"Cos", "Sin"} <= ops
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["spectrograms.n_fft"] == str(N_FFT) and meta["spectrograms.mode"] == mode
    assert meta["spectrograms.precision"] == precision
    db = KINDS[kind][1] == "db" and kind != "mfcc" and precision == "float64"

    sess = session(path)
    plan = engine_plan(kind)
    for batch, length in RUN_SHAPES:
        x = np.stack([make_signal(length, np.float32, seed=7 * batch + i) for i in range(batch)])
        feeds = {"audio": x}
        if layer.needs_basis:
            feeds["dft_basis"] = layer.dft_basis().numpy()
        out = sess.run(None, feeds)[0]
        expected = reference(kind, plan, x)
        assert_matches(kind, out, expected, what=f"onnxruntime {kind} {mode}/{dft} {precision} B={batch} L={length}",
                       min_cells=0.5 if length > 1 else 0.0, exact=exact_reference(kind, x) if db else None)


def test_file_sizes_tell_the_modes_apart(exported):
    """store carries the (402, 400) windowed basis (1.29 MB in float64, 643 kB with precision="float32");
    input and on_the_fly do not."""
    sizes = {dft: exported("logmel", "dft", dft)[1].stat().st_size for dft in ("store", "input", "on_the_fly")}
    basis_bytes = 2 * (N_FFT // 2 + 1) * N_FFT * 4
    assert sizes["store"] > 2 * basis_bytes
    assert sizes["input"] < basis_bytes / 4 and sizes["on_the_fly"] < basis_bytes / 4
    assert basis_bytes < exported("logmel", "dft", "store", "float32")[1].stat().st_size < 2 * basis_bytes


def test_static_shapes_and_options(tmp_path, make_signal):
    layer = Spectrogram(PARAMS, mode="dft", dft="store").train()
    path = export_onnx(layer, tmp_path / "static.onnx", dynamic_batch=False, dynamic_length=False, length=4000,
                       opset=20)
    assert layer.training, "export must leave the training flag as it was"
    model = onnx.load(str(path))
    assert model.opset_import[0].version == 20
    assert [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim] == [1, 4000]
    x = make_signal(4000, np.float32)[None]
    assert_matches("spectrogram-power", session(path).run(None, {"audio": x})[0],
                   reference("spectrogram-power", engine_plan("spectrogram-power"), x))
    with pytest.raises(ValueError, match="opset must be an integer >= 18"):
        export_onnx(layer, tmp_path / "old.onnx", opset=16)
    with pytest.raises(ValueError, match="containing 0"):
        export_onnx(torch.nn.Linear(2, 2), tmp_path / "x.onnx")
    with pytest.raises(ValueError, match="dft='input' mode"):
        export_onnx(torch.nn.Sequential(Spectrogram(PARAMS, mode="dft", dft="input")), tmp_path / "x.onnx")


def test_centre_false_short_signals(tmp_path, make_signal):
    """Without centring, a signal shorter than n_fft gives one zero-padded frame: also in the graph."""
    params = sg.SpectrogramParams(sg.StftParams(256, 100, sg.WindowType.hanning, False), 8000)
    plan = PLANNER.linear_power_plan(params, dtype="float32")
    layer = Spectrogram(params, mode="dft", dft="on_the_fly")
    sess = session(export_onnx(layer, tmp_path / "nocentre.onnx"))
    for length in (1, 100, 255, 256, 257, 1001):
        x = np.stack([make_signal(length, np.float32, seed=s) + 0.5 for s in (3, 4)])
        assert_matches("spectrogram-power", sess.run(None, {"audio": x})[0], reference("spectrogram-power", plan, x),
                       what=f"L={length}")


# ------------------------------------------------------------------------------------------------ train here, deploy there


def _dataset(n, length, seed):
    """Three classes: a low, a middle and a high tone (random frequency within the band) in noise."""
    rng = np.random.default_rng(seed)
    bands = [(200.0, 400.0), (1000.0, 1600.0), (3000.0, 5000.0)]
    labels = rng.integers(0, 3, size=n)
    t = np.arange(length) / SR
    xs = []
    for y in labels:
        f = rng.uniform(*bands[y])
        amp = rng.uniform(0.05, 0.5)
        xs.append((amp * np.sin(2 * np.pi * f * t + rng.uniform(0, 6.3)) + 0.02 * rng.standard_normal(length))
                  .astype(np.float32))
    return xs, labels


class Classifier(torch.nn.Module):
    """Log-mel (B, 80, T) -> logits (B, 3): level-normalise, 1x1 conv, ReLU, mean over time, linear."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv1d(N_MELS, 16, 1)
        self.out = torch.nn.Linear(16, 3)

    def forward(self, logmel):
        h = torch.relu(self.conv((logmel - logmel.mean(dim=(1, 2), keepdim=True)) / 20.0))
        return self.out(h.mean(dim=-1))


def test_train_on_engine_features_deploy_on_raw_audio(tmp_path):
    torch.manual_seed(0)
    plan = PLANNER.mel_db_plan(PARAMS, MEL, dtype="float32")
    length = 8000
    train_x, train_y = _dataset(96, length, seed=1)

    def collate(items):
        audio = [a for a, _ in items]
        feats = torch.from_numpy(plan.compute_batch(audio, n_threads=1).data)  # the engine's batch API
        return feats, torch.tensor([y for _, y in items])

    loader = torch.utils.data.DataLoader(list(zip(train_x, train_y)), batch_size=16, shuffle=True, collate_fn=collate)
    model = Classifier()
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(4):
        for feats, y in loader:
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(feats), y).backward()
            opt.step()
    model.eval()

    test_x, test_y = _dataset(12, length, seed=2)
    with torch.no_grad():
        logits_engine = model(torch.from_numpy(plan.compute_batch(test_x).data)).numpy()
    assert (logits_engine.argmax(1) == test_y).mean() >= 0.75, "the classifier should have learned the task"

    deployed = torch.nn.Sequential(LogMelSpectrogram.from_plan(plan, mode="dft", dft="store"), model)
    path = export_onnx(deployed, tmp_path / "classifier.onnx")
    logits_onnx = session(path).run(None, {"audio": np.stack(test_x)})[0]
    np.testing.assert_array_equal(logits_onnx.argmax(1), logits_engine.argmax(1))
    np.testing.assert_allclose(logits_onnx, logits_engine, rtol=1e-4, atol=1e-4)
    # and the same deployed model in PyTorch (stft mode, as one would train end to end)
    deployed[0].set_mode("stft")
    with torch.no_grad():
        np.testing.assert_allclose(deployed(torch.from_numpy(np.stack(test_x))).numpy(), logits_engine,
                                   rtol=1e-4, atol=1e-4)


# ------------------------------------------------------------------------------------------------ the command


def test_cli_export_onnx(tmp_path, capsys, make_signal):
    out = tmp_path / "mfcc.onnx"
    code = cli.main(["export", "--kind", "mfcc", "--n-fft", "400", "--hop", "160", "--n-mels", "40", "--n-mfcc", "20",
                     "--sample-rate", "16000", "--mode", "dft", "--dft", "on_the_fly", str(out)])
    stdout = capsys.readouterr().out
    assert code == 0, stdout
    assert str(out) in stdout and "features" in stdout
    x = make_signal(5001, np.float32)[None]
    got = session(out).run(None, {"audio": x})[0]
    mel_plan = PLANNER.mel_power_plan(PARAMS, sg.MelParams(40), dtype="float32")
    expected = mfcc_reference(np.stack([mel_plan.compute(r).data for r in x]), n_mfcc=20)
    assert_matches("mfcc", got, expected, what="cli mfcc")


def test_cli_export_input_mode_writes_the_basis(tmp_path, capsys):
    out = tmp_path / "logmel.onnx"
    assert cli.main(["export", "--mode", "dft", "--dft", "input", str(out)]) == 0
    basis = np.load(tmp_path / "logmel.dft_basis.npy")
    assert basis.shape == (402, 400)
    x = np.zeros((1, 1600), np.float32)
    assert session(out).run(None, {"audio": x, "dft_basis": basis})[0].shape == (1, 80, 11)


def test_cli_export_usage_errors(tmp_path, capsys):
    assert cli.main(["export", "--kind", "mel", "--n-mels", "80", "--sample-rate", "8000", "--f-max", "6000",
                     str(tmp_path / "x.onnx")]) == 2
    assert "Nyquist" in capsys.readouterr().err
    assert cli.main(["export", "--kind", "logmel", "--scale", "power", str(tmp_path / "x.onnx")]) == 2
    assert cli.main(["export", "--format", "coreml", str(tmp_path / "x.onnx")]) == 2
    assert not (tmp_path / "x.onnx").exists()
