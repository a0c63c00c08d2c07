"""spectrograms.jax: the documented JAX API (seeds/ml-integration.rst), zero-copy, batching.

Every code block of the seed's "JAX Integration" section runs here on synthetic audio, with
'gpu' replaced by the ``device`` fixture ('cpu' without a GPU). The seed's flax/optax training
example runs as written when flax and optax are installed; a plain-JAX equivalent of the same
CNN (same layers, same init/apply shape) always runs. GPU-only tests skip cleanly.
"""

from __future__ import annotations

import gc
import inspect
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

jax = pytest.importorskip("jax")
import jax.numpy as jnp  # noqa: E402

import spectrograms as sg  # noqa: E402
import spectrograms.jax as sgj  # noqa: E402
from spectrograms.results import _ArrayResult  # noqa: E402


def _gpus() -> list:
    try:
        return list(jax.devices("gpu"))
    except RuntimeError:
        return []


GPUS = _gpus()
needs_gpu = pytest.mark.skipif(not GPUS, reason="needs a JAX GPU backend")
needs_no_gpu = pytest.mark.skipif(bool(GPUS), reason="checks the error raised without a GPU")

SR = 16000.0


def tone(freq: float, seconds: float = 0.5, seed: int = 0, noise: float = 0.05) -> np.ndarray:
    """A sine of random phase and amplitude plus a little noise (float64)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    amp = rng.uniform(0.5, 1.0)
    return amp * np.sin(2 * np.pi * freq * t + rng.uniform(0, 2 * np.pi)) + noise * rng.standard_normal(t.size)


@pytest.fixture
def device() -> str:
    """'gpu' where JAX has one, else 'cpu' (the seed's examples use 'gpu')."""
    return "gpu" if GPUS else "cpu"


@pytest.fixture
def params() -> sg.SpectrogramParams:
    stft = sg.StftParams(n_fft=512, hop_size=256, window=sg.WindowType.hanning)
    return sg.SpectrogramParams(stft, sample_rate=SR)


@pytest.fixture
def mel_params() -> sg.MelParams:
    return sg.MelParams(n_mels=128, f_min=0.0, f_max=8000.0)


@pytest.fixture
def samples() -> np.ndarray:
    return tone(440.0, seconds=1.0)


@pytest.fixture
def spec(samples, params, mel_params) -> sg.Spectrogram:
    return sg.compute_mel_power_spectrogram(samples, params, mel_params)


@pytest.fixture
def audio_batch() -> list:
    return [tone(300.0 * (i + 1), seconds=0.5, seed=i) for i in range(4)]


def make_dataloader(n_batches: int, batch_size: int, n_classes: int = 10, seed: int = 0):
    """(audio_batch, one-hot labels): class 0 = 500 Hz tones, class 1 = 2 kHz tones."""
    rng = np.random.default_rng(seed)
    for b in range(n_batches):
        labels = rng.integers(0, 2, size=batch_size)
        audio = [tone(500.0 if y == 0 else 2000.0, seconds=0.25, seed=1000 * seed + 100 * b + i)
                 for i, y in enumerate(labels)]
        yield audio, jax.nn.one_hot(labels, n_classes)


def platform_of(array) -> str:
    return next(iter(array.devices())).platform


# ---------------------------------------------------------------------------------------------
# A plain-JAX stand-in for the seed's flax ``AudioCNN`` (flax/optax are optional here)
# ---------------------------------------------------------------------------------------------
def _init_cnn(rng, n_classes):
    """LeCun-normal kernels, zero biases; drawn with numpy from the key (eager jax.random compiles slowly)."""
    gen = np.random.default_rng(np.asarray(rng).tolist())

    def lecun(shape, fan_in):
        return jnp.asarray(gen.standard_normal(shape) / np.sqrt(fan_in), dtype=jnp.float32)

    return {
        "conv1": {"kernel": lecun((3, 3, 1, 32), 9), "bias": jnp.zeros(32)},
        "conv2": {"kernel": lecun((3, 3, 32, 64), 9 * 32), "bias": jnp.zeros(64)},
        "dense": {"kernel": lecun((64, n_classes), 64), "bias": jnp.zeros(n_classes)},
    }


class PlainAudioCNN:
    """The seed's AudioCNN (Conv 32 -> relu -> Conv 64 -> relu -> global mean -> Dense), without flax.

    Mirrors the flax API used by the seed: ``init(rng, x) -> params`` and ``apply(params, x)``.
    """

    def __init__(self, n_classes: int = 10):
        self.n_classes = n_classes

    def init(self, rng, x):
        return _init_cnn(rng, self.n_classes)

    @staticmethod
    def _conv(x, layer):
        y = jax.lax.conv_general_dilated(x, layer["kernel"], (1, 1), "SAME",
                                         dimension_numbers=("NHWC", "HWIO", "NHWC"))
        return y + layer["bias"]

    def apply(self, params, x):
        # x: (batch, n_mels, n_frames)
        x = x[..., jnp.newaxis]  # Add channel: (batch, n_mels, n_frames, 1)
        x = jax.nn.relu(self._conv(x, params["conv1"]))
        x = jax.nn.relu(self._conv(x, params["conv2"]))
        x = jnp.mean(x, axis=(1, 2))  # Global average pooling
        return x @ params["dense"]["kernel"] + params["dense"]["bias"]


def softmax_cross_entropy(logits, labels):
    """``optax.softmax_cross_entropy``: per-example cross entropy with (one-hot) label distributions."""
    return -jnp.sum(labels * jax.nn.log_softmax(logits, axis=-1), axis=-1)


def sgd(params, grads, lr):
    return jax.tree_util.tree_map(lambda p, g: p - lr * g, params, grads)


# ---------------------------------------------------------------------------------------------
# The seed's code blocks ("JAX Integration")
# ---------------------------------------------------------------------------------------------
def test_seed_import_adds_method():
    import spectrograms as sg  # noqa: F401
    import spectrograms.jax  # noqa: F401  # Adds .to_jax() method

    for cls in (sg.Spectrogram, sg.StftResult, sg.SpectrogramBatch):
        assert callable(getattr(cls, "to_jax"))


def test_seed_basic_conversion(samples, params, mel_params, device):
    spec = sg.compute_mel_power_spectrogram(samples, params, mel_params)

    # Simple conversion (returns jax.Array)
    array = spec.to_jax()
    assert isinstance(array, jax.Array) and array.shape == spec.shape and platform_of(array) == "cpu"

    # GPU placement
    array = spec.to_jax(device=device)
    assert platform_of(array) == device
    np.testing.assert_allclose(np.asarray(array), spec.data.astype(array.dtype), rtol=1e-6)

    # CPU placement
    array = spec.to_jax(device="cpu")
    assert platform_of(array) == "cpu"


def test_seed_with_metadata(spec, device):
    result = spec.to_jax(device=device, with_metadata=True)

    assert isinstance(result, sgj.JaxSpectrogram)
    assert isinstance(result.array, jax.Array) and platform_of(result.array) == device
    np.testing.assert_array_equal(result.frequencies, spec.frequencies)
    np.testing.assert_array_equal(result.times, spec.times)
    assert result.params is spec.params
    assert result.shape == (128, spec.n_frames)

    # Move between devices
    result_cpu = result.cpu()
    assert platform_of(result_cpu.array) == "cpu" and result_cpu.params is result.params
    if GPUS:
        result_gpu = result.gpu()
        assert platform_of(result_gpu.array) == "gpu"


def test_seed_batching(audio_batch, params, mel_params, device):
    import spectrograms.jax as sgj

    specs = [sg.compute_mel_power_spectrogram(audio, params, mel_params) for audio in audio_batch]

    # Stack into batch array
    batch_array = sgj.batch(specs, device=device)
    assert batch_array.shape == (4, 128, specs[0].n_frames) and platform_of(batch_array) == device
    for i, s in enumerate(specs):
        np.testing.assert_array_equal(np.asarray(batch_array[i]), s.data.astype(batch_array.dtype))


def test_seed_jax_training_example_plain_jax(device):
    """The seed's example with a plain-JAX AudioCNN and cross entropy (flax/optax not needed)."""
    import jax
    import jax.numpy as jnp
    import spectrograms as sg
    import spectrograms.jax as sgj

    AudioCNN = PlainAudioCNN  # the seed defines it with flax.linen

    # Initialize model
    model = AudioCNN(n_classes=10)
    rng = jax.random.PRNGKey(0)
    params_model = model.init(rng, jnp.ones((1, 128, 100)))

    # Training step
    @jax.jit
    def train_step(params_model, inputs, labels):
        def loss_fn(params_model):
            logits = model.apply(params_model, inputs)
            return jnp.mean(softmax_cross_entropy(logits, labels))

        loss, grads = jax.value_and_grad(loss_fn)(params_model)
        return loss, grads

    # Compute spectrograms and convert to JAX
    stft = sg.StftParams(n_fft=512, hop_size=256, window=sg.WindowType.hanning)
    spec_params = sg.SpectrogramParams(stft, sample_rate=16000.0)
    mel_params = sg.MelParams(n_mels=128, f_min=0.0, f_max=8000.0)

    for audio_batch, labels in make_dataloader(n_batches=3, batch_size=4):
        specs = [sg.compute_mel_power_spectrogram(audio, spec_params, mel_params) for audio in audio_batch]

        inputs = sgj.batch(specs, device=device)
        loss, grads = train_step(params_model, inputs, labels)
        assert inputs.shape == (4, 128, specs[0].n_frames)
        assert np.isfinite(float(loss))
        assert jax.tree_util.tree_structure(grads) == jax.tree_util.tree_structure(params_model)


def _train(model, params_model, device, steps=12, lr=0.1):
    """SGD steps around the seed's train_step; inputs are log-compressed mel power (raw power spans ~1e8)."""

    @jax.jit
    def train_step(params_model, inputs, labels):
        def loss_fn(params_model):
            logits = model.apply(params_model, inputs)
            return jnp.mean(softmax_cross_entropy(logits, labels))

        return jax.value_and_grad(loss_fn)(params_model)

    @jax.jit
    def update(params_model, inputs, labels):
        loss, grads = train_step(params_model, jnp.log10(inputs + 1e-6), labels)
        return loss, sgd(params_model, grads, lr)

    stft = sg.StftParams(n_fft=512, hop_size=256, window=sg.WindowType.hanning)
    spec_params = sg.SpectrogramParams(stft, sample_rate=16000.0)
    mel_params = sg.MelParams(n_mels=128, f_min=0.0, f_max=8000.0)
    plan = sg.SpectrogramPlanner().mel_power_plan(spec_params, mel_params, dtype="float32")
    losses = []
    for audio_batch, labels in make_dataloader(n_batches=steps, batch_size=8):
        inputs = sgj.batch([plan.compute(a) for a in audio_batch], device=device)
        loss, params_model = update(params_model, inputs, labels)
        losses.append(float(loss))
    return losses


def test_plain_jax_cnn_loss_decreases(device):
    model = PlainAudioCNN(n_classes=10)
    params_model = model.init(jax.random.PRNGKey(0), jnp.ones((1, 128, 100)))
    losses = _train(model, params_model, device)
    assert all(np.isfinite(losses))
    assert losses[-1] < losses[0], losses
    assert np.mean(losses[-3:]) < np.mean(losses[:3]), losses


def test_seed_jax_training_example_flax(device):
    """The seed's example exactly as written (flax.linen + optax), then SGD steps that must help."""
    pytest.importorskip("flax")
    optax = pytest.importorskip("optax")
    from flax import linen as nn

    class AudioCNN(nn.Module):
        n_classes: int = 10

        @nn.compact
        def __call__(self, x):
            # x: (batch, n_mels, n_frames)
            x = x[..., jnp.newaxis]  # Add channel: (batch, n_mels, n_frames, 1)
            x = nn.Conv(features=32, kernel_size=(3, 3))(x)
            x = nn.relu(x)
            x = nn.Conv(features=64, kernel_size=(3, 3))(x)
            x = nn.relu(x)
            x = jnp.mean(x, axis=(1, 2))  # Global average pooling
            return nn.Dense(self.n_classes)(x)

    model = AudioCNN(n_classes=10)
    rng = jax.random.PRNGKey(0)
    params_model = model.init(rng, jnp.ones((1, 128, 100)))

    @jax.jit
    def train_step(params_model, inputs, labels):
        def loss_fn(params_model):
            logits = model.apply(params_model, inputs)
            return jnp.mean(optax.softmax_cross_entropy(logits, labels))

        loss, grads = jax.value_and_grad(loss_fn)(params_model)
        return loss, grads

    stft = sg.StftParams(n_fft=512, hop_size=256, window=sg.WindowType.hanning)
    spec_params = sg.SpectrogramParams(stft, sample_rate=16000.0)
    mel_params = sg.MelParams(n_mels=128, f_min=0.0, f_max=8000.0)

    for audio_batch, labels in make_dataloader(n_batches=2, batch_size=4):
        specs = [sg.compute_mel_power_spectrogram(audio, spec_params, mel_params) for audio in audio_batch]
        inputs = sgj.batch(specs, device=device)
        loss, grads = train_step(params_model, inputs, labels)
        assert np.isfinite(float(loss))

    losses = _train(model, params_model, device)
    assert losses[-1] < losses[0], losses


# ---------------------------------------------------------------------------------------------
# Zero-copy
# ---------------------------------------------------------------------------------------------
def test_to_jax_float32_is_zero_copy(samples, params, mel_params):
    spec = sg.compute_mel_db_spectrogram(samples, params, mel_params, dtype="float32")
    array = spec.to_jax()
    assert array.dtype == jnp.float32
    assert array.unsafe_buffer_pointer() == spec.data.ctypes.data
    spec.data[0, 0] = 999.0  # shared memory: visible through the (nominally immutable) JAX array
    assert float(array[0, 0]) == 999.0
    assert sgj.to_jax(spec).unsafe_buffer_pointer() == spec.data.ctypes.data
    assert spec.to_jax(device=jax.devices("cpu")[0], dtype="float32").unsafe_buffer_pointer() == spec.data.ctypes.data


def test_float64_zero_copy_with_x64_and_converted_without(samples, params, mel_params):
    spec = sg.compute_mel_db_spectrogram(samples, params, mel_params)
    with jax.enable_x64(True):
        array = spec.to_jax()
        assert array.dtype == jnp.float64
        assert array.unsafe_buffer_pointer() == spec.data.ctypes.data
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # 32-bit mode: converted like jnp.asarray, silently
        array = spec.to_jax()
    assert array.dtype == jnp.float32 and array.unsafe_buffer_pointer() != spec.data.ctypes.data
    np.testing.assert_array_equal(np.asarray(array), spec.data.astype(np.float32))


def test_complex_stft(samples, params):
    stft = sg.compute_stft(samples, params, dtype="float32")
    array = stft.to_jax()
    assert array.dtype == jnp.complex64 and array.unsafe_buffer_pointer() == stft.data.ctypes.data
    np.testing.assert_array_equal(np.asarray(array), stft.data)
    stft64 = sg.compute_stft(samples, params)
    with jax.enable_x64(True):
        assert stft64.to_jax().dtype == jnp.complex128
        assert stft64.to_jax().unsafe_buffer_pointer() == stft64.data.ctypes.data
    assert stft64.to_jax().dtype == jnp.complex64
    with pytest.raises(TypeError, match="complex.*imaginary"):
        stft.to_jax(dtype="float32")
    with pytest.raises(TypeError, match="complex.*imaginary"):
        sgj.batch([stft, stft], dtype=np.float32)


def test_array_outlives_the_result(samples, params, mel_params):
    spec = sg.compute_mel_power_spectrogram(samples, params, mel_params, dtype="float32")
    expected = spec.data.copy()
    array = spec.to_jax()
    assert array.unsafe_buffer_pointer() == spec.data.ctypes.data
    del spec
    gc.collect()
    _ = [np.ones(10_000) for _ in range(50)]
    np.testing.assert_array_equal(np.asarray(array), expected)


def test_method_on_later_subclasses(spec):
    assert _ArrayResult.to_jax is sg.Spectrogram.to_jax

    class LaterResult(_ArrayResult):
        __slots__ = ()

        def __init__(self, buffer):
            self._init_buffer(buffer)

    result = LaterResult(spec._buffer).to_jax(with_metadata=True)
    assert result.shape == spec.shape and result.params is None and result.frequencies is None


# ---------------------------------------------------------------------------------------------
# dtype, devices, metadata
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [jnp.float16, "float16", np.float32, jnp.bfloat16])
def test_dtype_conversion(spec, dtype):
    array = spec.to_jax(dtype=dtype)
    assert array.dtype == np.dtype(dtype)
    np.testing.assert_allclose(np.asarray(array, dtype=np.float64), spec.data, rtol=1e-2)


def test_float64_request_in_32_bit_mode_warns(spec):
    with pytest.warns(UserWarning, match="32-bit mode") as record:
        array = spec.to_jax(dtype="float64")
    assert array.dtype == jnp.float32
    assert record[0].filename == __file__  # points at the caller


def test_devices(spec):
    cpu = jax.devices("cpu")[0]
    assert spec.to_jax(device=cpu).devices() == {cpu} and spec.to_jax(device=cpu).committed
    # 'cpu' by name: uncommitted where the CPU is JAX's default device (like jnp.asarray, so jitted
    # functions do not recompile against uncommitted parameters), committed where a GPU is the default.
    assert spec.to_jax().committed == (jax.devices()[0].platform != "cpu")
    assert spec.to_jax(device="CPU").devices() == {cpu}
    assert spec.to_jax(device=None).devices() == {cpu}
    with pytest.raises(ValueError, match="invalid JAX device 'gpu:first'"):
        spec.to_jax(device="gpu:first")
    with pytest.raises(TypeError, match="device must be"):
        spec.to_jax(device=0)
    with pytest.raises(RuntimeError, match="'cpu' device index 3 is out of range: 1 cpu"):
        spec.to_jax(device="cpu:3")
    with pytest.raises(TypeError, match="spectrograms result"):
        sgj.to_jax(np.zeros((2, 2)))


@needs_no_gpu
def test_gpu_without_gpu_is_a_clear_error(spec):
    result = spec.to_jax(with_metadata=True)
    for call in (lambda: spec.to_jax(device="gpu"), lambda: sgj.batch([spec], device="gpu"),
                 lambda: result.gpu(), lambda: result.gpu(index=1), lambda: spec.to_jax(device="cuda")):
        with pytest.raises(RuntimeError, match="no JAX '(gpu|cuda)' device is available.*cpu"):
            call()
    with pytest.raises(TypeError, match="index must be an integer"):
        result.gpu("0")


def test_metadata(samples, params, mel_params):
    db = sg.compute_mel_db_spectrogram(samples, params, mel_params, dtype="float32")
    result = db.to_jax(with_metadata=True)
    assert result.db_range == db.db_range()
    assert result.array.unsafe_buffer_pointer() == db.data.ctypes.data
    assert result.dtype == np.float32 and result.device == jax.devices("cpu")[0]
    moved = result.to("cpu")
    assert moved is not result and moved.db_range == result.db_range
    text = repr(result)
    assert text.startswith("JaxSpectrogram(shape=(128, ") and "Array(" not in text
    assert sg.compute_mel_power_spectrogram(samples, params, mel_params).to_jax(with_metadata=True).db_range is None


# ---------------------------------------------------------------------------------------------
# batch / batch_with_metadata
# ---------------------------------------------------------------------------------------------
def test_batch_values_one_buffer_aligned(audio_batch, params, mel_params, monkeypatch):
    specs = [sg.compute_mel_db_spectrogram(a, params, mel_params, dtype="float32") for a in audio_batch]

    def forbidden(*args, **kwargs):
        raise AssertionError("batch() must not stack temporaries")

    monkeypatch.setattr(jnp, "stack", forbidden)
    monkeypatch.setattr(np, "stack", forbidden)
    out = sgj.batch(specs)
    assert out.dtype == jnp.float32 and out.shape == (4, 128, specs[0].n_frames)
    assert out.unsafe_buffer_pointer() % 64 == 0
    for i, s in enumerate(specs):
        np.testing.assert_array_equal(np.asarray(out[i]), s.data)


def test_batch_pad_lengths_and_exact_zeros(params, mel_params):
    lengths = [8000, 3000, 5111, 256]
    specs = [sg.compute_mel_db_spectrogram(tone(700.0, n / SR, seed=n), params, mel_params, dtype="float32")
             for n in lengths]
    frames = [s.n_frames for s in specs]
    out, meta = sgj.batch_with_metadata(specs, pad=True)
    assert out.shape == (4, 128, max(frames))
    host = np.asarray(out)
    for i, s in enumerate(specs):
        assert meta[i]["n_frames"] == frames[i] and meta[i]["shape"] == (128, frames[i])
        np.testing.assert_array_equal(host[i, :, : frames[i]], s.data)
        assert np.all(host[i, :, frames[i]:] == 0)
        assert meta[i]["db_range"] == s.db_range()
        np.testing.assert_array_equal(meta[i]["times"], s.times)
        assert meta[i]["params"] is s.params
    mask = jnp.arange(out.shape[-1])[None, :] < jnp.asarray([m["n_frames"] for m in meta])[:, None]
    assert int(mask.sum()) == sum(frames)


def test_batch_errors(params, mel_params):
    a = sg.compute_mel_power_spectrogram(tone(440.0, 0.5), params, mel_params)
    b = sg.compute_mel_power_spectrogram(tone(440.0, 0.25), params, mel_params)
    with pytest.raises(ValueError) as info:
        sgj.batch([a, b])
    msg = str(info.value)
    assert f"specs[0] has shape {a.shape}" in msg and f"specs[1] has shape {b.shape}" in msg and "pad=True" in msg
    with pytest.raises(ValueError, match=r"specs\[1\] has shape"):
        sgj.batch_with_metadata([a, b])
    other = sg.compute_mel_power_spectrogram(tone(440.0, 0.5), params, sg.MelParams(n_mels=40, f_min=0.0, f_max=8000.0))
    with pytest.raises(ValueError, match=r"more than their number of frames"):
        sgj.batch([a, other], pad=True)
    with pytest.raises(ValueError, match="empty"):
        sgj.batch([])
    with pytest.raises(TypeError, match=r"specs\[1\] is a ndarray"):
        sgj.batch([a, a.data])
    with pytest.raises(TypeError, match=r"specs\[0\] is a ArrayImpl"):
        sgj.batch([jnp.zeros((3, 4))])
    with pytest.raises(TypeError, match="wrap it in a list"):
        sgj.batch(a)
    with pytest.raises(TypeError, match="sequence of spectrograms"):
        sgj.batch(np.zeros((2, 3, 4)))


def test_batch_mixed_dtypes(samples, params, mel_params):
    s64 = sg.compute_mel_power_spectrogram(samples, params, mel_params)
    s32 = sg.compute_mel_power_spectrogram(samples, params, mel_params, dtype="float32")
    assert sgj.batch([s32, s64]).dtype == jnp.float32  # float64, canonicalised in 32-bit mode
    array, meta = sgj.batch_with_metadata(s for s in (s32, s64))  # a one-shot iterator is read once
    assert array.shape[0] == 2 and len(meta) == 2
    with jax.enable_x64(True):
        out = sgj.batch([s32, s64])
        assert out.dtype == jnp.float64
        np.testing.assert_array_equal(np.asarray(out[0]), s32.data.astype(np.float64))


def test_multichannel_items_stack_to_bcft(params, mel_params):
    plan = sg.SpectrogramPlanner().mel_power_plan(params, mel_params, dtype="float32")
    clips = [plan.compute_batch([tone(400.0, 0.5, seed=2 * k), tone(800.0, 0.5, seed=2 * k + 1)]) for k in range(3)]
    out = sgj.batch(clips)
    assert out.shape == (3, 2, 128, clips[0].shape[2])
    np.testing.assert_array_equal(np.asarray(out[2, 1]), clips[2].data[1])


def test_spectrogram_batch_is_imported_directly(params, mel_params):
    plan = sg.SpectrogramPlanner().mel_db_plan(params, mel_params, dtype="float32")
    computed = plan.compute_batch([tone(500.0, s, seed=i) for i, s in enumerate([0.5, 0.2, 0.35])])
    out = sgj.batch(computed)
    assert out.unsafe_buffer_pointer() == computed.data.ctypes.data and out.shape == computed.shape
    assert computed.to_jax().unsafe_buffer_pointer() == computed.data.ctypes.data
    array, meta = sgj.batch_with_metadata(computed)
    assert array.unsafe_buffer_pointer() == computed.data.ctypes.data
    assert [m["n_frames"] for m in meta] == computed.lengths.tolist()
    assert meta[1]["db_range"] == computed[1].db_range()
    # An item of a batch is a strided view: JAX cannot import it, so it is copied (correctly).
    item = computed[1]
    view = item.to_jax()
    assert view.shape == item.shape
    np.testing.assert_array_equal(np.asarray(view), computed.data[1, :, : computed.lengths[1]])


# ---------------------------------------------------------------------------------------------
# GPU (skipped without one)
# ---------------------------------------------------------------------------------------------
@needs_gpu
def test_gpu_placement_and_index(spec, audio_batch, params, mel_params):
    last = len(GPUS) - 1
    result = spec.to_jax(with_metadata=True)
    moved = result.gpu(index=last)
    assert moved.device == GPUS[last]
    assert spec.to_jax(device=f"gpu:{last}").devices() == {GPUS[last]}
    with pytest.raises(RuntimeError, match="out of range"):
        result.gpu(index=len(GPUS))
    specs = [sg.compute_mel_power_spectrogram(a, params, mel_params) for a in audio_batch]
    out = sgj.batch(specs, device=GPUS[last], pad=True)
    assert out.devices() == {GPUS[last]} and out.committed
    if jax.devices()[0] == GPUS[0]:  # 'gpu' names the default device: uncommitted, like jnp.asarray
        assert not sgj.batch(specs, device="gpu").committed
    np.testing.assert_allclose(np.asarray(out), np.stack([s.data for s in specs]).astype(np.float32), rtol=1e-6)


# ---------------------------------------------------------------------------------------------
# Import behaviour, documentation
# ---------------------------------------------------------------------------------------------
def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ),
                          timeout=120)


def test_import_spectrograms_does_not_import_jax():
    proc = _run("import sys, spectrograms\n"
                "assert 'jax' not in sys.modules and 'jaxlib' not in sys.modules\n"
                "assert not hasattr(spectrograms.Spectrogram, 'to_jax')\n"
                "print('ok')")
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


def test_import_without_jax_names_the_extra():
    proc = _run("import sys\nsys.modules['jax'] = None\n"
                "try:\n    import spectrograms.jax\n"
                "except ImportError as e:\n    print('ImportError:', e)\n"
                "else:\n    print('imported')")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ImportError:") and "pip install spectrograms[jax]" in proc.stdout


def test_public_api_is_documented_and_annotated():
    for obj in (sgj.to_jax, sgj.batch, sgj.batch_with_metadata, sgj.JaxSpectrogram.to,
                sgj.JaxSpectrogram.gpu, sg.Spectrogram.to_jax):
        doc = inspect.getdoc(obj)
        assert doc and "Parameters\n----------" in doc and "Returns\n-------" in doc, obj
        assert inspect.signature(obj).return_annotation is not inspect.Signature.empty, obj
    assert inspect.getdoc(sgj.JaxSpectrogram)
    assert list(inspect.signature(sgj.batch).parameters)[:3] == ["specs", "device", "pad"]
    assert list(inspect.signature(sg.Spectrogram.to_jax).parameters) == ["self", "device", "with_metadata", "dtype"]
    assert set(sgj.__all__) == {"JaxSpectrogram", "to_jax", "batch", "batch_with_metadata"}
