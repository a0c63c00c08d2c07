"""The exportable front-end layers (spectrograms._layers) against the engine.

Parity: for every layer and every mode, on float32 input, the layer's output equals the engine's
float32 output (``plan.compute``): within 1e-5 of max|reference| on power/magnitude/mel, within
1e-3 dB on every dB cell above floor + 20 dB, for batches of 1 and 4 and lengths shorter than
n_fft, exactly n_fft and odd. MFCCs are checked against the API.md §5 formula applied (in float64)
to the engine's float32 mel power. dB outputs are also held within 1e-4 dB of the engine's float64
output (the layers compute their STFT in float64 by default, as the engine's float32 linear dB
plans do: see ``assert_matches``).
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import spectrograms as sg  # noqa: E402
from spectrograms import _layers  # noqa: E402
from spectrograms._layers import MFCC, LogMelSpectrogram, MelSpectrogram, Spectrogram  # noqa: E402
from _layer_helpers import (  # noqa: E402
    KINDS, LENGTHS, MEL, MODE_IDS, MODES, N_FFT, N_MELS, N_MFCC, PARAMS, PLANNER, SR, assert_matches, engine_plan,
    exact_reference, make_layer, reference, run,
)

DB_KINDS = {kind for kind, (_, quantity) in KINDS.items() if quantity == "db" and kind != "mfcc"}

@pytest.fixture(scope="module")
def plans():
    return {kind: engine_plan(kind) for kind in KINDS}


@pytest.fixture(scope="module")
def layers():
    return {kind: make_layer(kind, "stft", "store") for kind in KINDS}


# ------------------------------------------------------------------------------------------------ parity


_CASES: dict = {}


def parity_case(kind, batch, length, plans, make_signal):
    """(input, engine float32 output, engine float64 output or None) for one kind, batch size and
    length; computed once per module. The float64 output is computed for the dB kinds only."""
    key = (kind, batch, length)
    if key not in _CASES:
        x = np.stack([make_signal(length, np.float32, seed=1000 * batch + i) for i in range(batch)])
        _CASES[key] = (x, reference(kind, plans[kind], x), exact_reference(kind, x) if kind in DB_KINDS else None)
    return _CASES[key]


@pytest.mark.parametrize("mode,dft", MODES, ids=MODE_IDS)
@pytest.mark.parametrize("kind", list(KINDS))
def test_parity_with_engine(kind, mode, dft, plans, layers, make_signal):
    """Batch 1 and 4; lengths shorter than n_fft, exactly n_fft and odd."""
    layer = layers[kind].set_mode(mode, dft)
    for batch in (1, 4):
        for length in LENGTHS:
            x, expected, exact = parity_case(kind, batch, length, plans, make_signal)
            out = run(layer, x)
            assert out.shape == (batch,) + layer.output_shape(length)
            if kind != "mfcc":
                assert out.shape[1:] == plans[kind].output_shape(length)
            assert_matches(kind, out, expected, what=f"{kind} {mode}/{dft} B={batch} L={length}", min_cells=0.5,
                           exact=exact)


@pytest.mark.parametrize("mode,dft", MODES, ids=MODE_IDS)
def test_linear_db_is_exact_on_long_noisy_clips(mode, dft, make_signal):
    """The hard case for float32: linear-spectrogram dB cells 80-100 dB below their frame's peak.

    On these clips a float32 DFT (the layer's with precision="float32", or a float32 engine plan's
    if the linear dB plans did not compute in float64) is up to ~1e-2 dB off the exact value at
    such cells; the default float64 STFT keeps the layer within 1e-4 dB of the engine's float64
    output, and so within 1e-3 dB of its float32 output, on every cell above floor + 20 dB.
    """
    kind = "spectrogram-db"
    layer = make_layer(kind, mode, dft)
    assert layer.precision == "float64"
    plan = engine_plan(kind)
    for seed in range(6):
        x = np.stack([make_signal(16000, np.float32, seed=100 + 2 * seed + i) for i in range(2)])
        assert_matches(kind, run(layer, x), reference(kind, plan, x), exact=exact_reference(kind, x),
                       what=f"{mode}/{dft} seed {seed}", min_cells=0.5)


@pytest.mark.parametrize("mode,dft", MODES, ids=MODE_IDS)
def test_float32_precision(mode, dft, make_signal):
    """precision="float32" (what CoreML runs): log-mel, mel and MFCC still within the tolerances;
    the linear dB spectrogram only in the power domain (its float32 DFT adds its own rounding)."""
    x = np.stack([make_signal(length, np.float32, seed=5 + length) for length in (16000,)] * 2)
    x[1] *= 0.01
    for kind in ("logmel", "mel-power", "mfcc", "spectrogram-power"):
        layer = make_layer(kind, mode, dft).set_precision("float32")
        assert layer.compute_dtype == torch.float32 and layer.dft_basis().dtype == torch.float32
        assert_matches(kind, run(layer, x), reference(kind, engine_plan(kind), x), what=f"float32 {kind} {mode}/{dft}")
    layer = make_layer("spectrogram-db", mode, dft).set_precision("float32")
    out, expected = run(layer, x), reference("spectrogram-db", engine_plan("spectrogram-db"), x)
    a, e = 10.0 ** (out.astype(np.float64) / 10.0), 10.0 ** (expected.astype(np.float64) / 10.0)
    assert np.max(np.abs(a - e)) <= 1e-5 * np.max(e)


def test_precision_buffers_and_conversions(make_signal):
    layer = Spectrogram(PARAMS, mode="dft", dft="store")
    assert layer.precision == "float64" and layer.compute_dtype == torch.float64
    assert layer.dft_kernel.dtype == torch.float64 and layer.window.dtype == torch.float32
    assert layer.dft_basis().dtype == torch.float64 and "precision='float64'" in repr(layer)
    # .float() / .to(float32) on a model holding the layer keeps the float64 kernel and window
    for convert in (lambda m: m.float(), lambda m: m.to(torch.float32), lambda m: torch.nn.Sequential(m).float()[0]):
        layer = convert(layer)
        assert layer.dft_kernel.dtype == layer.window64.dtype == torch.float64
        assert layer.window.dtype == torch.float32
    assert layer.set_precision("float32") is layer and layer.dft_kernel.dtype == torch.float32
    layer.precision = torch.float64
    assert layer.precision == "float64" and layer.dft_kernel.dtype == torch.float64
    x = make_signal(3000, np.float32)[None]
    out64 = run(layer, x)
    np.testing.assert_allclose(run(copy.deepcopy(layer), x), out64)
    np.testing.assert_allclose(run(pickle.loads(pickle.dumps(layer)), x), out64)
    # a float32 basis is accepted in input mode (and used as given, rounding included)
    layer.set_mode("dft", "input")
    with torch.no_grad():
        out = layer(torch.from_numpy(x), layer.dft_basis().float()).numpy()
    np.testing.assert_allclose(out, out64, rtol=1e-5, atol=1e-6 * out64.max())
    with pytest.raises(ValueError, match="precision must be one of"):
        layer.set_precision("float16")
    with pytest.raises(ValueError, match="precision must be one of"):
        MelSpectrogram(PARAMS, MEL, precision="double")
    assert LogMelSpectrogram(PARAMS, MEL, precision="float32").precision == "float32"
    assert MFCC.from_plan(engine_plan("mel-power"), precision="float32").precision == "float32"


@pytest.mark.parametrize("mode,dft", MODES, ids=MODE_IDS)
@pytest.mark.parametrize("n_fft,hop,centre", [(255, 100, True), (255, 100, False), (64, 64, False), (512, 128, False)])
def test_parity_other_framings(n_fft, hop, centre, mode, dft, make_signal):
    """Odd n_fft, hop = n_fft, no centring (where the short-signal rule gives one zero-padded frame)."""
    params = sg.SpectrogramParams(sg.StftParams(n_fft, hop, sg.WindowType.hamming, centre), 8000)
    mel = sg.MelParams(24, 50.0, 3500.0, norm="slaney")
    plan = PLANNER.mel_power_plan(params, mel, dtype="float32")
    layer = MelSpectrogram(params, mel, mode=mode, dft=dft)
    for length in (1, n_fft // 3, n_fft - 1, n_fft, n_fft + 1, 3 * n_fft + 7):
        x = np.stack([make_signal(length, np.float32, seed=s) + 0.1 for s in (1, 2)])
        expected = reference("mel-power", plan, x)
        out = run(layer, x)
        assert out.shape[-1] == sg.SpectrogramPlanner().mel_power_plan(params, mel).output_shape(length)[1]
        assert_matches("mel-power", out, expected, what=f"n_fft={n_fft} hop={hop} centre={centre} L={length}")


@pytest.mark.parametrize("window", [sg.WindowType.blackman, sg.WindowType.kaiser(8.6), sg.WindowType.gaussian(40.0)],
                         ids=["blackman", "kaiser", "gaussian"])
def test_windows_come_from_the_engine(window, make_signal):
    params = sg.SpectrogramParams(sg.StftParams(400, 160, window), SR)
    plan = PLANNER.linear_power_plan(params, dtype="float32")
    layer = Spectrogram(params)
    np.testing.assert_array_equal(layer.window.numpy(), plan._engine.window())
    x = make_signal(4001, np.float32)[None]
    for mode, dft in MODES:
        assert_matches("spectrogram-power", run(layer.set_mode(mode, dft), x), reference("spectrogram-power", plan, x))


def test_filterbank_comes_from_the_engine_htk_and_norms():
    for mel in (sg.MelParams(40, htk=True), sg.MelParams(64, 20.0, 7000.0, norm="slaney"), sg.MelParams(32, norm="l2")):
        plan = PLANNER.mel_power_plan(PARAMS, mel, dtype="float64")
        layer = MelSpectrogram(PARAMS, mel)
        np.testing.assert_array_equal(layer.filterbank.numpy(), plan._engine.filterbank().astype(np.float32))
        assert layer.n_bins == mel.n_mels


def test_db_floor_and_quantity_defaults(make_signal):
    x = make_signal(3000, np.float32)[None] * 1e-3
    db = sg.LogParams(-50.0)
    plan = PLANNER.mel_db_plan(PARAMS, MEL, db, dtype="float32")
    for layer in (MelSpectrogram(PARAMS, MEL, db), LogMelSpectrogram(PARAMS, MEL, db), MelSpectrogram.from_plan(plan)):
        assert layer.quantity == "db" and layer.floor_db == -50.0
        out = run(layer, x)
        assert out.min() >= -50.0
        assert_matches("mel-db", out, reference("mel-db", plan, x), floor_db=-50.0)
    assert MelSpectrogram(PARAMS, MEL).quantity == "power"
    assert LogMelSpectrogram(PARAMS, MEL).floor_db == -80.0
    assert Spectrogram(PARAMS, quantity="magnitude").quantity == "magnitude"


def test_from_plan_equals_from_params(make_signal):
    x = make_signal(5000, np.float32)[None]
    for kind in KINDS:
        plan = engine_plan(kind)
        cls = {"spectrogram": Spectrogram, "mel": MelSpectrogram, "logmel": LogMelSpectrogram, "mfcc": MFCC}[
            kind.split("-")[0]]
        from_plan = cls.from_plan(plan, mfcc_params=N_MFCC) if cls is MFCC else cls.from_plan(plan)
        direct = make_layer(kind, "stft", "store")
        assert from_plan.window.dtype == torch.float32
        np.testing.assert_allclose(run(from_plan, x), run(direct, x), rtol=1e-6, atol=1e-5 * np.abs(run(direct, x)).max())
        if kind != "mfcc":
            assert from_plan.engine_plan().output_shape(5000) == plan.output_shape(5000)
    with pytest.raises(ValueError, match="mel-scale plan"):
        MelSpectrogram.from_plan(engine_plan("spectrogram-power"))
    with pytest.raises(TypeError, match="needs a spectrogram plan"):
        Spectrogram.from_plan(PARAMS)


def test_one_dimensional_input_and_float64_input(make_signal):
    x = make_signal(2000, np.float32)
    layer = LogMelSpectrogram(PARAMS, MEL)
    one = layer(torch.from_numpy(x))
    assert one.shape == (N_MELS, layer.n_frames(2000)) == PLANNER.mel_db_plan(PARAMS, MEL).output_shape(2000)
    torch.testing.assert_close(one, layer(torch.from_numpy(x)[None])[0])
    # float64 input is converted to the layer's dtype once, as the engine converts to the plan's
    assert layer(torch.from_numpy(x.astype(np.float64))).dtype == torch.float32


def test_mfcc_matrices():
    """_dct_matrix is the unnormalised DCT-II (scipy's / 2); the lifter keeps c0; n_mfcc <= n_mels."""
    import scipy.fft

    d = _layers._dct_matrix(13, 40)
    np.testing.assert_allclose(d, scipy.fft.dct(np.eye(40), type=2, axis=0, norm=None)[:13] / 2.0, atol=1e-12)
    lift = _layers._lifter(13)
    assert lift[0] == 1.0
    np.testing.assert_allclose(lift, 1 + 11 * np.sin(np.pi * np.arange(13) / 22))
    layer = MFCC(PARAMS, 40, 13)
    np.testing.assert_allclose(layer.dct.numpy(), (d * lift[:, None]).astype(np.float32))
    assert MFCC(PARAMS, 40).n_mfcc == 13 and MFCC(PARAMS, 40).n_bins == 13
    with pytest.raises(ValueError, match="n_mfcc"):
        MFCC(PARAMS, 20, 21)


def test_float64_layer_and_module_conversions(make_signal):
    x = make_signal(3001)
    plan = PLANNER.mel_power_plan(PARAMS, MEL)  # float64
    expected = plan.compute(x).data
    for precision in ("float64", "float32"):  # a float64 layer computes in float64 either way
        layer = MelSpectrogram(PARAMS, MEL, dtype=torch.float64, mode="dft", dft="store", precision=precision)
        assert layer.dft_kernel.dtype == layer.compute_dtype == torch.float64
        for mode, dft in MODES:
            layer.set_mode(mode, dft)
            out = run(layer, x[None])[0]
            assert out.dtype == np.float64
            assert np.max(np.abs(out - expected)) <= 1e-10 * np.max(expected), (precision, mode, dft)
    layer.set_mode("dft", "store").float()
    assert layer.dft_kernel.dtype == layer.window.dtype == layer.compute_dtype == torch.float32
    layer.double().set_precision("float64").float()
    assert layer.window.dtype == torch.float32 and layer.dft_kernel.dtype == torch.float64


def test_set_mode_switches_buffers():
    layer = LogMelSpectrogram(PARAMS, MEL)
    assert layer.mode == "stft" and layer.dft_kernel is None
    assert layer.set_mode("dft") is layer and layer.dft == "store"
    assert tuple(layer.dft_kernel.shape) == (2 * (N_FFT // 2 + 1), 1, N_FFT)
    layer.set_mode("dft", "on_the_fly")
    assert layer.dft_kernel is None
    layer.set_mode("dft", "input")
    assert layer.needs_basis and tuple(layer.dft_basis().shape) == (402, 400)
    layer.set_mode("stft")
    assert not layer.needs_basis and layer.dft == "input"  # kept for the next set_mode("dft")
    assert "mode='stft'" in repr(layer)
    # derived buffers are not in the state dict: a model holding a layer loads plain weights
    assert layer.state_dict() == {} or all(not k.startswith(("window", "filterbank", "dft")) for k in layer.state_dict())
    with pytest.raises(ValueError, match="mode must be one of"):
        layer.set_mode("DFT-fast")
    with pytest.raises(ValueError, match="dft must be one of"):
        layer.set_mode("dft", "stored")


def test_copy_and_pickle(make_signal):
    layer = MFCC(PARAMS, 40, 13, mode="dft", dft="store")
    x = torch.from_numpy(make_signal(2000, np.float32))
    for clone in (copy.deepcopy(layer), pickle.loads(pickle.dumps(layer))):
        torch.testing.assert_close(clone(x), layer(x))
        assert clone.mode == "dft" and clone.dft_kernel is not None


def test_dft_basis_function():
    b = _layers.dft_basis(8, dtype=torch.float64).numpy()
    f = np.fft.rfft(np.eye(8), axis=1).T  # rows: bins
    np.testing.assert_allclose(b[:5], f.real, atol=1e-15)
    np.testing.assert_allclose(b[5:], f.imag, atol=1e-15)


# ------------------------------------------------------------------------------------------------ gradients


def test_stft_mode_backpropagates_to_the_audio_gradcheck():
    params = sg.SpectrogramParams(sg.StftParams(16, 4, sg.WindowType.hanning, True), 8000)
    x = torch.randn(2, 23, dtype=torch.float64, requires_grad=True)
    layer = Spectrogram(params, dtype=torch.float64)
    assert layer.mode == "stft"
    assert torch.autograd.gradcheck(layer, (x,), eps=1e-6, atol=1e-5)  # the full Jacobian
    for layer in (MelSpectrogram(params, sg.MelParams(5), dtype=torch.float64),
                  Spectrogram(params, quantity="db", dtype=torch.float64)):
        assert torch.autograd.gradcheck(layer, (x,), eps=1e-6, atol=1e-5, fast_mode=True)


def test_dft_modes_backpropagate_too():
    params = sg.SpectrogramParams(sg.StftParams(16, 4), 8000)
    x = torch.randn(1, 29, dtype=torch.float64, requires_grad=True)
    layer = MelSpectrogram(params, sg.MelParams(5), dtype=torch.float64)
    for dft in ("store", "on_the_fly"):
        assert torch.autograd.gradcheck(layer.set_mode("dft", dft), (x,), eps=1e-6, atol=1e-5, fast_mode=True)


def test_training_gradient_flows_through_logmel(make_signal):
    layer = LogMelSpectrogram(PARAMS, MEL)
    x = torch.from_numpy(make_signal(4000, np.float32))[None].requires_grad_(True)
    layer(x).mean().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_runs_on_gpu(make_signal):  # pragma: no cover - needs a GPU
    """Every mode on CUDA, with cuDNN's default TF32 convolutions on (the layer opts out of them)."""
    torch.backends.cudnn.allow_tf32 = True
    x = make_signal(16000, np.float32)[None]
    plan = engine_plan("logmel")
    expected = reference("logmel", plan, x)
    for mode, dft in MODES:
        layer = LogMelSpectrogram(PARAMS, MEL, mode=mode, dft=dft).cuda()
        args = (torch.from_numpy(x).cuda(),) + ((layer.dft_basis(),) if layer.needs_basis else ())
        with torch.no_grad():
            assert_matches("logmel", layer(*args).cpu().numpy(), expected, what=f"cuda {mode}/{dft}")
        assert torch.backends.cudnn.allow_tf32, "the layer restores cuDNN's TF32 flag"


# ------------------------------------------------------------------------------------------------ bad input


@pytest.fixture
def logmel():
    return LogMelSpectrogram(PARAMS, MEL)


def test_three_dimensional_input_is_a_value_error(logmel):
    with pytest.raises(ValueError, match=r"expected a waveform of shape \(B, L\) or \(L,\), got a 3-D tensor of shape \(2, 1, 100\)"):
        logmel(torch.zeros(2, 1, 100))
    with pytest.raises(ValueError, match="got a 0-D"):
        logmel(torch.tensor(1.0))


@pytest.mark.parametrize("dtype", [torch.int16, torch.int32, torch.bool, torch.complex64])
def test_non_float_input_is_a_type_error(logmel, dtype):
    with pytest.raises(TypeError, match=rf"expected a floating-point waveform \(float32 or float64\), got dtype {dtype}"):
        logmel(torch.zeros(1, 1000, dtype=dtype))


def test_int16_message_says_how_to_scale(logmel):
    with pytest.raises(TypeError, match="32768"):
        logmel(torch.zeros(1000, dtype=torch.int16))


def test_other_bad_inputs(logmel):
    with pytest.raises(TypeError, match="expected a torch.Tensor"):
        logmel(np.zeros(1000, np.float32))
    with pytest.raises(ValueError, match="at least one sample"):
        logmel(torch.zeros(2, 0))


def test_dft_basis_of_the_wrong_shape(logmel):
    logmel.set_mode("dft", "input")
    x = torch.zeros(1, 1000)
    with pytest.raises(ValueError, match=r"expected a DFT basis of shape \(402, 400\).*got shape \(400, 400\)"):
        logmel(x, torch.zeros(400, 400))
    with pytest.raises(ValueError, match=r"expected a DFT basis of shape \(402, 400\).*got shape \(402, 1, 400\)"):
        logmel(x, torch.zeros(402, 1, 400))
    with pytest.raises(sg.DimensionMismatchError):
        logmel(x, _layers.dft_basis(512))
    with pytest.raises(TypeError, match="floating-point DFT basis"):
        logmel(x, torch.zeros(402, 400, dtype=torch.int64))
    with pytest.raises(ValueError, match="pass the DFT basis of shape \\(402, 400\\)"):
        logmel(x)
    logmel.set_mode("dft", "store")
    with pytest.raises(ValueError, match="only taken in dft='input' mode"):
        logmel(x, _layers.dft_basis(400))


def test_bad_constructor_arguments():
    with pytest.raises(TypeError, match="params must be a SpectrogramParams"):
        Spectrogram(sg.StftParams(400, 160))
    with pytest.raises(TypeError, match="mel_params must be a MelParams"):
        MelSpectrogram(PARAMS, 80)
    with pytest.raises(TypeError, match="db must be a LogParams"):
        LogMelSpectrogram(PARAMS, MEL, -80.0)
    with pytest.raises(ValueError, match="quantity must be one of"):
        Spectrogram(PARAMS, quantity="energy")
    with pytest.raises(TypeError, match="dtype must be"):
        Spectrogram(PARAMS, dtype=torch.float16)
    with pytest.raises(TypeError, match="mfcc_params"):
        MFCC(PARAMS, 40, "13")
    with pytest.raises(ValueError, match="Nyquist"):
        MelSpectrogram(sg.SpectrogramParams(sg.StftParams(400, 160), 8000), sg.MelParams(40, 0.0, 6000.0))
