"""spectrograms.torch: the documented PyTorch API (seeds/ml-integration.rst), zero-copy, batching.

Every code block of the seed's "PyTorch Integration" section runs here on synthetic audio, with
'cuda' replaced by the ``device`` fixture ('cpu' without a GPU). CUDA-only tests skip cleanly.
"""

from __future__ import annotations

import gc
import inspect
import os
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import spectrograms as sg  # noqa: E402
import spectrograms.torch as sgt  # noqa: E402
from spectrograms.results import _ArrayResult  # noqa: E402

HAS_CUDA = torch.cuda.is_available()
needs_cuda = pytest.mark.skipif(not HAS_CUDA, reason="needs a CUDA GPU")
needs_no_cuda = pytest.mark.skipif(HAS_CUDA, reason="checks the error raised without CUDA")

SR = 16000.0


def tone(freq: float, seconds: float = 0.5, seed: int = 0, noise: float = 0.05) -> np.ndarray:
    """A sine of random phase and amplitude plus a little noise (float64)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    amp = rng.uniform(0.5, 1.0)
    return amp * np.sin(2 * np.pi * freq * t + rng.uniform(0, 2 * np.pi)) + noise * rng.standard_normal(t.size)


@pytest.fixture
def device() -> str:
    """'cuda' where a GPU is present, else 'cpu' (the seed's examples use 'cuda')."""
    return "cuda" if HAS_CUDA else "cpu"


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


def make_dataloader(n_batches: int, batch_size: int, seed: int = 0):
    """(audio_batch, labels) pairs of a learnable task: class 0 = 500 Hz tones, class 1 = 2 kHz."""
    rng = np.random.default_rng(seed)
    for b in range(n_batches):
        labels = rng.integers(0, 2, size=batch_size)
        audio = [tone(500.0 if y == 0 else 2000.0, seconds=0.25, seed=1000 * seed + 100 * b + i)
                 for i, y in enumerate(labels)]
        yield audio, torch.as_tensor(labels, dtype=torch.long)


# ---------------------------------------------------------------------------------------------
# The seed's code blocks ("PyTorch Integration")
# ---------------------------------------------------------------------------------------------
def test_seed_import_adds_method():
    import spectrograms as sg  # noqa: F401
    import spectrograms.torch  # noqa: F401  # Adds .to_torch() method

    for cls in (sg.Spectrogram, sg.StftResult, sg.SpectrogramBatch):
        assert callable(getattr(cls, "to_torch"))


def test_seed_basic_conversion(samples, params, mel_params, device):
    spec = sg.compute_mel_power_spectrogram(samples, params, mel_params)

    # Simple conversion (returns torch.Tensor)
    tensor = spec.to_torch()
    assert isinstance(tensor, torch.Tensor)
    assert tuple(tensor.shape) == spec.shape and tensor.device.type == "cpu"
    assert tensor.dtype == torch.float64

    # GPU conversion
    tensor = spec.to_torch(device=device)
    assert tensor.device.type == device
    np.testing.assert_array_equal(tensor.cpu().numpy(), spec.data)

    # With specific dtype
    tensor = spec.to_torch(device="cpu", dtype=torch.float32)
    assert tensor.dtype == torch.float32
    np.testing.assert_allclose(tensor.numpy(), spec.data.astype(np.float32))


def test_seed_with_metadata(spec, device):
    result = spec.to_torch(device=device, with_metadata=True)

    assert isinstance(result, sgt.TorchSpectrogram)
    assert isinstance(result.tensor, torch.Tensor) and result.tensor.device.type == device
    assert isinstance(result.frequencies, np.ndarray)
    np.testing.assert_array_equal(result.frequencies, spec.frequencies)
    assert isinstance(result.times, np.ndarray)
    np.testing.assert_array_equal(result.times, spec.times)
    assert result.params is spec.params
    assert result.shape == (128, spec.n_frames)
    assert result.db_range is None  # a power spectrogram

    # Move to different device
    result_cpu = result.cpu()
    assert isinstance(result_cpu, sgt.TorchSpectrogram) and result_cpu is not result
    assert result_cpu.tensor.device.type == "cpu"
    assert result_cpu.params is result.params and result_cpu.shape == result.shape


@needs_cuda
def test_seed_with_metadata_cuda_index(spec):
    result = spec.to_torch(device="cuda", with_metadata=True)
    result_gpu = result.cuda(device=0)
    assert result_gpu.tensor.device == torch.device("cuda", 0)
    assert result_gpu.cpu().tensor.device.type == "cpu"


def test_seed_batching(audio_batch, params, mel_params, device):
    import spectrograms.torch as sgt

    specs = [sg.compute_mel_power_spectrogram(audio, params, mel_params) for audio in audio_batch]

    batch_tensor = sgt.batch(specs, device=device)
    assert tuple(batch_tensor.shape) == (len(specs), 128, specs[0].n_frames)
    assert batch_tensor.device.type == device

    batch_tensor = sgt.batch(specs, device=device, pad=True)
    assert tuple(batch_tensor.shape) == (len(specs), 128, specs[0].n_frames)

    batch_tensor, metadata = sgt.batch_with_metadata(specs, device=device)
    assert len(metadata) == len(specs)
    for item, meta in zip(specs, metadata):
        assert meta["shape"] == item.shape and meta["n_frames"] == item.n_frames
        assert meta["params"] is item.params


def test_seed_neural_network_pipeline(device):
    import torch
    import torch.nn as nn
    import spectrograms as sg
    import spectrograms.torch as sgt

    torch.manual_seed(0)

    class AudioClassifier(nn.Module):
        def __init__(self, n_classes=10):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, kernel_size=3, padding=1)
            self.conv2 = nn.Conv2d(32, 64, kernel_size=3, padding=1)
            self.pool = nn.AdaptiveAvgPool2d((4, 4))
            self.fc = nn.Linear(64 * 4 * 4, n_classes)

        def forward(self, x):
            # x: (batch, n_mels, n_frames)
            x = x.unsqueeze(1)  # Add channel dim: (batch, 1, n_mels, n_frames)
            x = torch.relu(self.conv1(x))
            x = torch.relu(self.conv2(x))
            x = self.pool(x)
            x = x.flatten(1)
            return self.fc(x)

    # Training setup
    model = AudioClassifier(n_classes=10).to(device)
    stft = sg.StftParams(n_fft=512, hop_size=256, window=sg.WindowType.hanning)
    params = sg.SpectrogramParams(stft, sample_rate=16000.0)
    mel_params = sg.MelParams(n_mels=128, f_min=0.0, f_max=8000.0)
    db_params = sg.LogParams(floor_db=-80.0)
    # The seed leaves the optimizer to the reader.
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    losses = []
    for audio_batch, labels in make_dataloader(n_batches=15, batch_size=8):
        specs = [sg.compute_mel_db_spectrogram(audio, params, mel_params, db_params) for audio in audio_batch]

        inputs = sgt.batch(specs, device=device, dtype=torch.float32)
        labels = labels.to(device)
        assert inputs.dtype == torch.float32 and tuple(inputs.shape) == (8, 128, specs[0].n_frames)

        outputs = model(inputs)
        loss = nn.CrossEntropyLoss()(outputs, labels)

        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())

    assert len(losses) == 15 and all(np.isfinite(losses))
    assert losses[-1] < losses[0], losses
    assert np.mean(losses[-3:]) < np.mean(losses[:3]), losses


def test_seed_best_practices(samples, params, mel_params, device):
    """The "Best Practices" blocks that use spectrograms.torch: keep-alive, copy=True, plan reuse."""
    spec = sg.compute_mel_power_spectrogram(samples, params, mel_params)
    tensor = torch.from_dlpack(spec.__dlpack__(copy=True))
    assert tensor.data_ptr() != spec.data.ctypes.data
    np.testing.assert_array_equal(tensor.numpy(), spec.data)

    db_params = sg.LogParams(floor_db=-80.0)
    planner = sg.SpectrogramPlanner()
    plan = planner.mel_db_plan(params, mel_params, db_params)
    for batch in [[tone(300.0, seed=i) for i in range(3)], [tone(900.0, seed=i) for i in range(3)]]:
        specs = [plan.compute(audio) for audio in batch]
        gpu_batch = sgt.batch(specs, device=device)
        assert tuple(gpu_batch.shape) == (3, 128, specs[0].n_frames)

    tensor = spec.to_torch(device=device, dtype=torch.float32)
    assert tensor.dtype == torch.float32


# ---------------------------------------------------------------------------------------------
# Zero-copy
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_to_torch_is_zero_copy(samples, params, mel_params, dtype):
    spec = sg.compute_mel_db_spectrogram(samples, params, mel_params, dtype=dtype)
    tensor = spec.to_torch()
    assert tensor.data_ptr() == spec.data.ctypes.data
    assert tensor.dtype == getattr(torch, dtype)
    spec.data[0, 0] = 999.0
    assert float(tensor[0, 0]) == 999.0
    tensor[1, 2] = -5.0
    assert spec.data[1, 2] == -5.0
    # Same dtype requested explicitly, and a torch.device: still a view.
    assert spec.to_torch(device=torch.device("cpu"), dtype=getattr(torch, dtype)).data_ptr() == spec.data.ctypes.data
    assert sgt.to_torch(spec).data_ptr() == spec.data.ctypes.data


@pytest.mark.parametrize("dtype, complex_dtype", [("float64", torch.complex128), ("float32", torch.complex64)])
def test_complex_stft_zero_copy(samples, params, dtype, complex_dtype):
    stft = sg.compute_stft(samples, params, dtype=dtype)
    tensor = stft.to_torch()
    assert tensor.dtype == complex_dtype
    assert tensor.data_ptr() == stft.data.ctypes.data
    stft.data[3, 4] = 1 + 2j
    assert complex(tensor[3, 4]) == 1 + 2j
    np.testing.assert_array_equal(tensor.numpy(), stft.data)


def test_tensor_outlives_the_result(samples, params, mel_params):
    spec = sg.compute_mel_power_spectrogram(samples, params, mel_params)
    expected = spec.data.copy()
    tensor = spec.to_torch()
    del spec
    gc.collect()
    _ = [np.ones(10_000) for _ in range(50)]  # churn the allocator
    np.testing.assert_array_equal(tensor.numpy(), expected)


def test_method_on_every_result_type_including_later_subclasses(spec):
    assert _ArrayResult.to_torch is sg.Spectrogram.to_torch

    class LaterResult(_ArrayResult):  # e.g. a Chromagram added after this module was written
        __slots__ = ()

        def __init__(self, buffer):
            self._init_buffer(buffer)

    later = LaterResult(spec._buffer)
    tensor = later.to_torch()
    assert tensor.data_ptr() == spec.data.ctypes.data
    result = later.to_torch(with_metadata=True)
    assert result.frequencies is None and result.params is None and result.db_range is None
    assert result.shape == spec.shape


# ---------------------------------------------------------------------------------------------
# dtype and device conversion, metadata
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [torch.float32, "float32", np.float32, np.dtype("float16"), torch.float16])
def test_dtype_conversion_copies(spec, dtype):
    tensor = spec.to_torch(dtype=dtype)
    expected = torch.float16 if "16" in str(dtype) else torch.float32
    assert tensor.dtype == expected
    assert tensor.data_ptr() != spec.data.ctypes.data
    np.testing.assert_allclose(tensor.double().numpy(), spec.data, rtol=1e-3 if expected == torch.float16 else 1e-6)


def test_float64_upcast_and_complex_downcast(samples, params):
    spec32 = sg.compute_linear_power_spectrogram(samples, params, dtype="float32")
    t = spec32.to_torch(dtype=torch.float64)
    assert t.dtype == torch.float64
    np.testing.assert_array_equal(t.numpy(), spec32.data.astype(np.float64))
    stft = sg.compute_stft(samples, params)
    c64 = stft.to_torch(dtype=torch.complex64)
    assert c64.dtype == torch.complex64
    np.testing.assert_allclose(c64.numpy(), stft.data, rtol=1e-5, atol=1e-5)


def test_complex_to_real_is_refused(samples, params):
    stft = sg.compute_stft(samples, params)
    with pytest.raises(TypeError, match="complex.*imaginary"):
        stft.to_torch(dtype=torch.float32)
    with pytest.raises(TypeError, match="complex.*imaginary"):
        sgt.batch([stft, stft], dtype=torch.float64)


def test_bad_dtype_and_device(spec):
    with pytest.raises(TypeError, match="dtype"):
        spec.to_torch(dtype="not_a_dtype")
    with pytest.raises(TypeError, match="dtype"):
        spec.to_torch(dtype=object())
    with pytest.raises(ValueError, match="invalid torch device 'warp-drive'"):
        spec.to_torch(device="warp-drive")
    with pytest.raises(TypeError, match="device must be"):
        spec.to_torch(device=1.5)
    with pytest.raises(TypeError, match="spectrograms result"):
        sgt.to_torch(np.zeros((3, 4)))


@needs_no_cuda
def test_cuda_without_gpu_is_a_clear_error(spec):
    for call in (lambda: spec.to_torch(device="cuda"), lambda: sgt.batch([spec], device="cuda:0"),
                 lambda: spec.to_torch(with_metadata=True).cuda(), lambda: spec.to_torch(with_metadata=True).cuda(0)):
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            call()


def test_metadata_db_range_and_moves(samples, params, mel_params):
    db = sg.compute_mel_db_spectrogram(samples, params, mel_params)
    result = db.to_torch(with_metadata=True)
    assert result.db_range == (float(db.data.min()), float(db.data.max()))
    assert result.db_range == db.db_range()
    assert result.tensor.data_ptr() == db.data.ctypes.data  # metadata does not cost a copy
    moved = result.to("cpu", dtype=torch.float32)
    assert moved.dtype == torch.float32 and moved.device == torch.device("cpu")
    assert moved.db_range == result.db_range and moved.frequencies is result.frequencies
    assert result.dtype == torch.float64  # frozen: the original is unchanged
    with pytest.raises(ValueError, match="needs a CUDA device"):
        result.cuda("cpu")
    text = repr(result)
    assert text.startswith("TorchSpectrogram(shape=(128, ") and "db_range=" in text and "tensor(" not in text
    stft_meta = sg.compute_stft(samples, params).to_torch(with_metadata=True)
    assert stft_meta.db_range is None and stft_meta.shape == (257, stft_meta.tensor.shape[1])
    assert stft_meta.tensor.is_complex()


# ---------------------------------------------------------------------------------------------
# batch / batch_with_metadata
# ---------------------------------------------------------------------------------------------
def test_batch_values_and_single_allocation(audio_batch, params, mel_params, monkeypatch):
    specs = [sg.compute_mel_db_spectrogram(a, params, mel_params) for a in audio_batch]

    def forbidden(*args, **kwargs):
        raise AssertionError("batch() must not stack temporaries")

    monkeypatch.setattr(torch, "stack", forbidden)
    monkeypatch.setattr(torch, "cat", forbidden)
    out = sgt.batch(specs)
    assert out.dtype == torch.float64 and out.is_contiguous()
    for i, s in enumerate(specs):
        np.testing.assert_array_equal(out[i].numpy(), s.data)
        assert out[i].data_ptr() != s.data.ctypes.data  # an independent batch buffer
    out32 = sgt.batch(specs, dtype=torch.float32)
    assert out32.dtype == torch.float32
    np.testing.assert_allclose(out32.numpy(), np.stack([s.data for s in specs]).astype(np.float32))


def test_batch_pad_lengths_and_exact_zeros(params, mel_params):
    lengths = [8000, 3000, 5111, 256]
    specs = [sg.compute_mel_db_spectrogram(tone(700.0, seconds=n / SR, seed=n), params, mel_params) for n in lengths]
    frames = [s.n_frames for s in specs]
    assert len(set(frames)) == 4
    for _ in range(3):  # torch.empty may hand back dirty memory: the padding must still be zero
        junk = torch.full((4, 128, max(frames)), 123.0, dtype=torch.float64)
        del junk
        out, meta = sgt.batch_with_metadata(specs, pad=True)
        assert tuple(out.shape) == (4, 128, max(frames))
        for i, s in enumerate(specs):
            assert meta[i]["n_frames"] == s.n_frames == frames[i]
            assert meta[i]["shape"] == (128, frames[i])
            np.testing.assert_array_equal(out[i, :, : frames[i]].numpy(), s.data)
            assert torch.all(out[i, :, frames[i]:] == 0)
            assert meta[i]["db_range"] == s.db_range()
            np.testing.assert_array_equal(meta[i]["times"], s.times)
            np.testing.assert_array_equal(meta[i]["frequencies"], s.frequencies)
    # A mask from the metadata
    mask = torch.arange(out.shape[-1])[None, :] < torch.tensor([m["n_frames"] for m in meta])[:, None]
    assert mask.sum().item() == sum(frames)


def test_batch_shape_mismatch_names_the_items(params, mel_params):
    a = sg.compute_mel_power_spectrogram(tone(440.0, 0.5), params, mel_params)
    b = sg.compute_mel_power_spectrogram(tone(440.0, 0.25), params, mel_params)
    with pytest.raises(ValueError) as info:
        sgt.batch([a, a, b, a])
    msg = str(info.value)
    assert f"specs[0] has shape {a.shape}" in msg and f"specs[2] has shape {b.shape}" in msg and "pad=True" in msg
    with pytest.raises(ValueError, match=r"specs\[2\] has shape"):
        sgt.batch_with_metadata([a, a, b])
    # pad=True cannot fix a different number of bins
    other = sg.compute_mel_power_spectrogram(tone(440.0, 0.5), params, sg.MelParams(n_mels=64, f_min=0.0, f_max=8000.0))
    with pytest.raises(ValueError, match=r"more than their number of frames.*specs\[1\] has shape \(64, "):
        sgt.batch([a, other], pad=True)


def test_batch_empty_and_type_errors(spec):
    with pytest.raises(ValueError, match="empty"):
        sgt.batch([])
    with pytest.raises(ValueError, match="empty"):
        sgt.batch_with_metadata(())
    with pytest.raises(TypeError, match=r"specs\[1\] is a ndarray"):
        sgt.batch([spec, spec.data])
    with pytest.raises(TypeError, match=r"specs\[0\] is a Tensor"):
        sgt.batch([torch.zeros(3, 4)])
    with pytest.raises(TypeError, match="wrap it in a list"):
        sgt.batch(spec)
    with pytest.raises(TypeError, match="sequence of spectrograms"):
        sgt.batch(np.zeros((2, 3, 4)))
    with pytest.raises(TypeError, match="sequence of spectrograms"):
        sgt.batch(42)


def test_batch_accepts_generators_and_mixed_dtypes(samples, params, mel_params):
    s64 = sg.compute_mel_power_spectrogram(samples, params, mel_params)
    s32 = sg.compute_mel_power_spectrogram(samples, params, mel_params, dtype="float32")
    out = sgt.batch(s for s in (s32, s64))
    assert out.dtype == torch.float64  # promoted
    tensor, meta = sgt.batch_with_metadata(s for s in (s32, s64))  # a one-shot iterator is read once
    assert tensor.shape[0] == 2 and len(meta) == 2
    np.testing.assert_array_equal(out[0].numpy(), s32.data.astype(np.float64))
    np.testing.assert_array_equal(out[1].numpy(), s64.data)


def test_batch_complex_stft(params):
    stfts = [sg.compute_stft(tone(440.0, 0.5, seed=i), params) for i in range(3)]
    out = sgt.batch(stfts)
    assert out.dtype == torch.complex128
    for i, s in enumerate(stfts):
        np.testing.assert_array_equal(out[i].numpy(), s.data)


def test_channel_dim(audio_batch, params, mel_params):
    specs = [sg.compute_mel_power_spectrogram(a, params, mel_params) for a in audio_batch]
    out = sgt.batch(specs, channel_dim=True)
    assert tuple(out.shape) == (4, 1, 128, specs[0].n_frames)
    np.testing.assert_array_equal(out[2, 0].numpy(), specs[2].data)
    tensor, meta = sgt.batch_with_metadata(specs, channel_dim=True)
    assert tensor.dim() == 4 and len(meta) == 4


def test_multichannel_items_stack_to_bcft(params, mel_params):
    """Stereo clips: each clip's channels computed as one SpectrogramBatch (C, F, T)."""
    plan = sg.SpectrogramPlanner().mel_power_plan(params, mel_params)
    clips = [plan.compute_batch([tone(400.0, 0.5, seed=2 * k), tone(800.0, 0.5, seed=2 * k + 1)]) for k in range(3)]
    out = sgt.batch(clips)
    assert tuple(out.shape) == (3, 2, 128, clips[0].shape[2])
    np.testing.assert_array_equal(out[1, 1].numpy(), clips[1].data[1])
    assert tuple(sgt.batch(clips, channel_dim=True).shape) == tuple(out.shape)  # already has channels
    short = plan.compute_batch([tone(400.0, 0.25), tone(800.0, 0.25)])
    padded = sgt.batch([clips[0], short], pad=True)
    assert tuple(padded.shape) == (2, 2, 128, clips[0].shape[2])
    assert torch.all(padded[1, :, :, short.shape[2]:] == 0)


def test_spectrogram_batch_is_zero_copy(params, mel_params):
    plan = sg.SpectrogramPlanner().mel_db_plan(params, mel_params)
    signals = [tone(500.0, s, seed=i) for i, s in enumerate([0.5, 0.2, 0.35])]
    computed = plan.compute_batch(signals)
    out = sgt.batch(computed)
    assert out.data_ptr() == computed.data.ctypes.data and tuple(out.shape) == computed.shape
    assert sgt.batch(computed, channel_dim=True).data_ptr() == computed.data.ctypes.data
    assert tuple(sgt.batch(computed, channel_dim=True).shape) == (3, 1) + computed.shape[1:]
    assert computed.to_torch().data_ptr() == computed.data.ctypes.data
    assert sgt.batch(computed, dtype=torch.float32).dtype == torch.float32
    tensor, meta = sgt.batch_with_metadata(computed)
    assert tensor.data_ptr() == computed.data.ctypes.data
    assert [m["n_frames"] for m in meta] == computed.lengths.tolist()
    for i, m in enumerate(meta):
        item = computed[i]
        assert m["shape"] == item.shape and m["db_range"] == item.db_range()
    # The whole batch's dB range ignores the padding (exact zeros, i.e. 0 dB).
    whole = computed.to_torch(with_metadata=True)
    ranges = [m["db_range"] for m in meta]
    assert whole.db_range == (min(r[0] for r in ranges), max(r[1] for r in ranges))
    # A batch item (a strided view) converts without copying too.
    view = computed[1].to_torch()
    assert view.data_ptr() == computed[1].data.ctypes.data
    np.testing.assert_array_equal(view.numpy(), computed.data[1, :, : computed.lengths[1]])


# ---------------------------------------------------------------------------------------------
# CUDA (skipped without a GPU)
# ---------------------------------------------------------------------------------------------
@needs_cuda
def test_cuda_batch_uses_pinned_memory_and_matches(audio_batch, params, mel_params, monkeypatch):
    specs = [sg.compute_mel_db_spectrogram(a, params, mel_params) for a in audio_batch]
    seen = {}
    real_empty = torch.empty

    def spy_empty(*args, **kwargs):
        seen["pin_memory"] = kwargs.get("pin_memory", False)
        return real_empty(*args, **kwargs)

    monkeypatch.setattr(torch, "empty", spy_empty)
    out = sgt.batch(specs, device="cuda", dtype=torch.float32, pad=True)
    torch.cuda.synchronize()
    assert seen["pin_memory"] is True
    assert out.device.type == "cuda" and out.dtype == torch.float32
    np.testing.assert_allclose(out.cpu().numpy(), np.stack([s.data for s in specs]).astype(np.float32))


@needs_cuda
def test_cuda_to_torch_and_metadata(spec):
    t = spec.to_torch(device=torch.device("cuda", 0), dtype=torch.float32)
    assert t.device == torch.device("cuda", 0)
    np.testing.assert_allclose(t.cpu().numpy(), spec.data.astype(np.float32))
    meta = spec.to_torch(with_metadata=True).cuda()
    assert meta.tensor.is_cuda and meta.cpu().tensor.device.type == "cpu"


# ---------------------------------------------------------------------------------------------
# Import behaviour, documentation
# ---------------------------------------------------------------------------------------------
def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ),
                          timeout=120)


def test_import_spectrograms_does_not_import_frameworks():
    proc = _run("import sys, spectrograms\n"
                "assert 'torch' not in sys.modules, 'torch imported'\n"
                "assert 'jax' not in sys.modules, 'jax imported'\n"
                "assert not hasattr(spectrograms.Spectrogram, 'to_torch')\n"
                "print('ok')")
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


def test_import_without_torch_names_the_extra():
    proc = _run("import sys\nsys.modules['torch'] = None\n"
                "try:\n    import spectrograms.torch\n"
                "except ImportError as e:\n    print('ImportError:', e)\n"
                "else:\n    print('imported')")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ImportError:") and "pip install spectrograms[torch]" in proc.stdout


def test_public_api_is_documented_and_annotated():
    for obj in (sgt.to_torch, sgt.batch, sgt.batch_with_metadata, sgt.TorchSpectrogram,
                sgt.TorchSpectrogram.to, sgt.TorchSpectrogram.cuda, sg.Spectrogram.to_torch):
        doc = inspect.getdoc(obj)
        assert doc, obj
        if inspect.isfunction(obj) and obj.__name__ not in ("cpu",):
            assert "Parameters\n----------" in doc and "Returns\n-------" in doc, obj
            sig = inspect.signature(obj)
            assert sig.return_annotation is not inspect.Signature.empty, obj
    for name in ("device", "dtype", "pad", "channel_dim"):
        assert name in inspect.signature(sgt.batch).parameters
    assert list(inspect.signature(sg.Spectrogram.to_torch).parameters) == ["self", "device", "with_metadata", "dtype"]
    assert set(sgt.__all__) == {"TorchSpectrogram", "to_torch", "batch", "batch_with_metadata",
                                "Spectrogram", "MelSpectrogram", "LogMelSpectrogram", "MFCC",  # exportable layers
                                "export_onnx", "export_coreml"}
    for name in sgt.__all__:
        assert inspect.getdoc(getattr(sgt, name)), name
