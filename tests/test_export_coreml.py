"""CoreML export of the front-end layers (coremltools; ML program, float32).

Every DFT mode (and the stft mode, which coremltools lowers to convolutions itself) converts to an
ML program and saves as a .mlpackage here. Running a CoreML model needs macOS: the prediction
test compares with the engine there and is skipped elsewhere, saying so. If coremltools cannot
convert a mode, that test is an xfail carrying coremltools' reason.

CoreML has no float64: ``export_coreml`` converts the layer's ``precision="float32"`` computation
(float32 ``conv1d``; the default float64 path frames with ``unfold``, which coremltools cannot
convert, and would run in float32 anyway), says so in the metadata, and restores the layer's own
precision afterwards.
"""

from __future__ import annotations

import platform

import numpy as np
import pytest

torch = pytest.importorskip("torch")
ct = pytest.importorskip("coremltools")

from spectrograms import cli  # noqa: E402
from spectrograms.export import export_coreml  # noqa: E402
from _layer_helpers import MODE_IDS, MODES, N_FFT, N_MELS, assert_matches, engine_plan, make_layer, reference  # noqa: E402

ON_MACOS = platform.system() == "Darwin"
BASIS_BYTES = 2 * (N_FFT // 2 + 1) * N_FFT * 4


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """(mode, dft) -> (layer, path) or the conversion's exception, converted on first use."""
    cache = {}
    root = tmp_path_factory.mktemp("coreml")

    def get(mode, dft):
        if (mode, dft) not in cache:
            layer = make_layer("logmel", mode, dft)
            try:
                cache[mode, dft] = (layer, export_coreml(layer, root / f"logmel-{mode}-{dft}.mlpackage"))
            except Exception as exc:  # recorded, reported as an xfail by the tests
                cache[mode, dft] = exc
        result = cache[mode, dft]
        if isinstance(result, Exception):
            pytest.xfail(f"coremltools {ct.__version__} cannot convert mode={mode}, dft={dft}: "
                         f"{type(result).__name__}: {result}")
        return result

    return get


def _spec_ops(spec):
    ops = []
    for function in spec.mlProgram.functions.values():
        for block in function.block_specializations.values():
            ops += [op.type for op in block.operations]
    return ops


def _size(path):
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


@pytest.mark.parametrize("mode,dft", MODES, ids=MODE_IDS)
def test_converts_to_an_ml_program_and_saves(mode, dft, converted):
    layer, path = converted(mode, dft)
    assert path.is_dir() and (path / "Manifest.json").is_file()
    spec = ct.utils.load_spec(str(path))
    assert spec.WhichOneof("Type") == "mlProgram"
    names = [i.name for i in spec.description.input]
    assert names == (["audio", "dft_basis"] if layer.needs_basis else ["audio"])
    assert [o.name for o in spec.description.output] == ["features"]
    ranges = spec.description.input[0].type.multiArrayType.shapeRange.sizeRanges
    assert [(r.lowerBound, r.upperBound) for r in ranges] == [(1, 256), (1, 600 * 16000)], "flexible batch, length"
    meta = dict(spec.description.metadata.userDefined)
    assert meta["spectrograms.kind"] == "logmel" and meta["spectrograms.n_bins"] == str(N_MELS)
    assert meta["spectrograms.precision"] == "float32"
    assert layer.precision == "float64", "the layer's own precision is restored after conversion"
    if layer.needs_basis:
        assert spec.description.input[1].type.multiArrayType.dataType == ct.proto.FeatureTypes_pb2.ArrayFeatureType.FLOAT32
    ops = _spec_ops(spec)
    assert "conv" in ops and "matmul" in ops and "log" in ops
    size = _size(path)
    if mode == "dft" and dft == "store" or mode == "stft":
        assert size > BASIS_BYTES  # the basis is stored (coremltools lowers torch.stft to stored kernels too)
    else:
        assert size < BASIS_BYTES / 4, f"{dft}: the basis must not be stored ({size} bytes)"
    if mode == "dft" and dft == "on_the_fly":
        assert {"cos", "sin"} <= set(ops), "the basis is built at run time"


@pytest.mark.parametrize("mode,dft", MODES, ids=MODE_IDS)
def test_prediction_equals_engine(mode, dft, converted, make_signal):
    layer, path = converted(mode, dft)
    if not ON_MACOS:
        pytest.skip("running a CoreML model needs macOS (coremltools' native runtime); conversion and saving "
                    "were checked by test_converts_to_an_ml_program_and_saves")
    model = ct.models.MLModel(str(path), compute_units=ct.ComputeUnit.CPU_ONLY)  # pragma: no cover - macOS only
    plan = engine_plan("logmel")
    for batch, length in ((1, 16000), (3, 1601), (2, 150)):
        x = np.stack([make_signal(length, np.float32, seed=i) for i in range(batch)])
        feeds = {"audio": x}
        if layer.needs_basis:
            feeds["dft_basis"] = layer.dft_basis().float().numpy()  # converted with precision="float32"
        assert_matches("logmel", model.predict(feeds)["features"], reference("logmel", plan, x), min_cells=0.5)


def test_float16_and_bad_paths(tmp_path):
    layer = make_layer("logmel", "dft", "store")
    with pytest.raises(ValueError, match=r"\.mlpackage"):
        export_coreml(layer, tmp_path / "model.mlmodel")
    with pytest.raises(ValueError, match="compute_precision"):
        export_coreml(layer, tmp_path / "model.mlpackage", compute_precision="int8")
    with pytest.raises(TypeError, match="float32"):
        export_coreml(layer.double(), tmp_path / "model.mlpackage")


def test_cli_export_coreml(tmp_path, capsys):
    out = tmp_path / "mfcc.mlpackage"
    assert cli.main(["export", "--kind", "mfcc", "--n-mels", "40", out.as_posix()]) == 0
    assert "coreml" in capsys.readouterr().out
    spec = ct.utils.load_spec(str(out))
    assert dict(spec.description.metadata.userDefined)["spectrograms.n_mfcc"] == "13"
