"""DLPack producer and consumer behaviour (the array API standard's __dlpack__ rules)."""

from __future__ import annotations

import gc
import sys

import numpy as np
import pytest

import spectrograms as sg
from _dlpack_helpers import read_capsule, rss_bytes, tensor_summary

torch = pytest.importorskip("torch")

DL_FLOAT, DL_COMPLEX = 2, 5


def _params(n_fft=256, hop=64, sr=16000.0):
    return sg.SpectrogramParams(sg.StftParams(n_fft, hop, sg.WindowType.hanning), sr)


def _signal(n=4000, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal(n).astype(dtype)


def _results(dtype):
    """One of each result type (and a batch item view) in the given precision."""
    p = _params()
    x = _signal(dtype=dtype)
    mel = sg.MelParams(32, 0.0, 8000.0)
    batch = sg.compute_mel_db_spectrogram_batch([x, x[:1500]], p, mel, dtype=dtype)
    return {
        "linear": sg.compute_linear_power_spectrogram(x, p, dtype=dtype),
        "mel_db": sg.compute_mel_db_spectrogram(x, p, mel, dtype=dtype),
        "stft": sg.compute_stft(x, p, dtype=dtype),
        "batch": batch,
        "batch_item_cropped": batch[1],
        "batch_item_full": batch[0],
    }


def _consumers():
    out = {"numpy": np.from_dlpack, "torch": torch.from_dlpack}
    try:
        import jax.dlpack

        out["jax"] = jax.dlpack.from_dlpack
    except ImportError:  # pragma: no cover
        pass
    return out


def _pointer(obj) -> int:
    if isinstance(obj, np.ndarray):
        return obj.ctypes.data
    if isinstance(obj, torch.Tensor):
        return obj.data_ptr()
    return obj.unsafe_buffer_pointer()


@pytest.fixture
def jax_x64():
    """JAX keeps float64 only in x64 mode; without it, it converts (copies) to float32."""
    jax = pytest.importorskip("jax")
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", previous)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kind", ["linear", "mel_db", "stft", "batch", "batch_item_cropped", "batch_item_full"])
@pytest.mark.parametrize("consumer", sorted(_consumers()))
def test_consumers_share_memory(dtype, kind, consumer, request):
    if consumer == "jax":
        request.getfixturevalue("jax_x64")
    res = _results(dtype)[kind]
    if consumer == "jax" and kind == "batch_item_cropped":
        # A cropped item is a strided view into the padded batch; JAX imports only compact
        # tensors, and says so (torch and numpy take the view without a copy).
        with pytest.raises(Exception, match="trivial \\(compact\\) striding"):
            _consumers()[consumer](res)
        return
    imported = _consumers()[consumer](res)
    data = res.data
    assert tuple(imported.shape) == data.shape
    expected_dtype = np.dtype(dtype) if kind != "stft" else np.dtype("complex64" if dtype == "float32" else "complex128")
    assert data.dtype == expected_dtype
    assert str(imported.dtype).endswith(expected_dtype.name)
    assert _pointer(imported) == data.ctypes.data, "the consumer must see the result's own memory"
    if consumer == "jax":
        np.testing.assert_array_equal(np.asarray(imported), data)
        return  # JAX arrays are immutable; sharing is shown by the pointer
    # element strides equal the numpy view's
    strides = imported.strides if consumer == "numpy" else tuple(s * data.itemsize for s in imported.stride())
    assert tuple(strides) == data.strides
    # a mutation is visible both ways
    index = (0,) * data.ndim
    data[index] = 123.0
    assert complex(imported[index]) == 123.0
    imported[index] = -7.0
    assert complex(data[index]) == -7.0


def test_seed_example_mutation_is_visible():
    p = _params(512, 256)
    spec = sg.compute_mel_db_spectrogram(_signal(16000), p, sg.MelParams(64, 0.0, 8000.0), sg.LogParams(-80.0))
    tensor = torch.from_dlpack(spec)
    spec.data[0, 0] = 999.0
    assert tensor[0, 0].item() == 999.0


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_results_are_64_byte_aligned_and_c_contiguous(dtype):
    for kind, res in _results(dtype).items():
        if kind.startswith("batch_item"):
            continue
        assert res.data.ctypes.data % 64 == 0, kind
        assert res.data.flags.c_contiguous, kind


def test_jax_imports_without_copy(jax_x64):
    pytest.importorskip("jax")
    import jax.dlpack

    spec = sg.compute_linear_power_spectrogram(_signal(), _params())
    arr = jax.dlpack.from_dlpack(spec)
    assert arr.unsafe_buffer_pointer() == spec.data.ctypes.data
    assert arr.devices() == {jax.devices("cpu")[0]}


def test_capsule_flavours_by_max_version():
    spec = sg.compute_linear_power_spectrogram(_signal(dtype=np.float32), _params(), dtype="float32")
    for max_version, expected in [(None, "dltensor"), ((0, 8), "dltensor"), ((1, 0), "dltensor_versioned"),
                                  ((1, 3), "dltensor_versioned"), ((2, 0), "dltensor_versioned")]:
        capsule = spec.__dlpack__(max_version=max_version)
        name, tensor, versioned = read_capsule(capsule)
        assert name == expected
        info = tensor_summary(tensor)
        assert info["data"] == spec.data.ctypes.data
        assert info["device"] == (1, 0)
        assert info["shape"] == spec.shape
        assert info["strides"] is None  # compact: C-contiguous
        assert info["dtype"] == (DL_FLOAT, 32, 1)
        assert info["byte_offset"] == 0
        if versioned is not None:
            assert (versioned.version.major, versioned.version.minor) >= (1, 0)
            assert versioned.flags == 0


def test_complex_capsule_dtype_and_strided_view_capsule():
    stft = sg.compute_stft(_signal(), _params())
    capsule = stft.__dlpack__(max_version=(1, 0))  # keep it alive while its struct is read
    _, tensor, _ = read_capsule(capsule)
    assert tensor_summary(tensor)["dtype"] == (DL_COMPLEX, 128, 1)
    batch = sg.compute_linear_power_spectrogram_batch([_signal(3000), _signal(900)], _params())
    item = batch[1]
    capsule = item.__dlpack__(max_version=(1, 0))
    _, tensor, _ = read_capsule(capsule)
    info = tensor_summary(tensor)
    assert info["shape"] == item.shape
    assert info["strides"] == (batch.shape[2], 1)  # a view into the padded batch, no copy
    assert info["data"] == item.data.ctypes.data


def test_consumed_capsule_is_renamed_and_left_to_its_consumer():
    gc.collect()  # earlier tests' garbage must not change the count below
    spec = sg.compute_linear_power_spectrogram(_signal(), _params())
    capsule = spec.__dlpack__(max_version=(1, 0))
    tensor = torch.from_dlpack(capsule)
    from _dlpack_helpers import capsule_name

    assert capsule_name(capsule) == "used_dltensor_versioned"
    live = sg._core.live_dlpack_exports()
    del capsule
    gc.collect()
    assert sg._core.live_dlpack_exports() == live  # the consumer still owns the export
    del tensor
    gc.collect()
    assert sg._core.live_dlpack_exports() == live - 1


def test_tensor_outlives_the_result():
    spec = sg.compute_mel_power_spectrogram(_signal(), _params(), sg.MelParams(32, 0.0, 8000.0))
    expected = spec.data.copy()
    tensor = torch.from_dlpack(spec)
    arr = np.from_dlpack(spec)
    del spec
    gc.collect()
    _ = [np.ones(10_000) for _ in range(50)]  # churn the allocator
    np.testing.assert_array_equal(tensor.numpy(), expected)
    np.testing.assert_array_equal(arr, expected)


def test_batch_item_view_keeps_the_batch_alive():
    batch = sg.compute_linear_power_spectrogram_batch([_signal(3000), _signal(900)], _params())
    expected = batch.data[1, :, : batch.lengths[1]].copy()
    t = torch.from_dlpack(batch[1])
    del batch
    gc.collect()
    np.testing.assert_array_equal(t.numpy(), expected)


@pytest.mark.parametrize("max_version", [None, (1, 0)])
def test_copy_true_is_independent_memory_and_flagged(max_version):
    spec = sg.compute_linear_power_spectrogram(_signal(), _params())
    capsule = spec.__dlpack__(copy=True, max_version=max_version)
    name, tensor, versioned = read_capsule(capsule)
    assert tensor.data != spec.data.ctypes.data
    assert tensor.data % 64 == 0
    if versioned is not None:
        assert versioned.flags & sg.DLPACK_FLAG_BITMASK_IS_COPIED
    copied = torch.from_dlpack(capsule)
    np.testing.assert_array_equal(copied.numpy(), spec.data)
    spec.data[0, 0] = -1.0
    assert copied[0, 0].item() != -1.0


def test_copy_false_never_copies():
    batch = sg.compute_linear_power_spectrogram_batch([_signal(3000), _signal(900)], _params())
    for res in (batch, batch[1]):
        capsule = res.__dlpack__(copy=False, max_version=(1, 0))
        _, tensor, _ = read_capsule(capsule)
        assert tensor.data == res.data.ctypes.data


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"stream": 1}, "stream must be None"),
        ({"stream": -1}, "stream must be None"),
        ({"dl_device": (2, 0)}, r"cannot export it to dl_device \(2, 0\)"),
        ({"dl_device": (1, 1)}, r"cannot export it to dl_device \(1, 1\)"),
        ({"dl_device": "cpu"}, "dl_device must be a"),
        ({"max_version": "1.0"}, "max_version must be a"),
        ({"max_version": (1,)}, "max_version must be a"),
        ({"copy": "yes"}, "copy must be True, False or None"),
    ],
)
def test_buffer_errors(kwargs, match):
    spec = sg.compute_linear_power_spectrogram(_signal(), _params())
    with pytest.raises(BufferError, match=match):
        spec.__dlpack__(**kwargs)


def test_dl_device_cpu_is_accepted_and_reported():
    spec = sg.compute_linear_power_spectrogram(_signal(), _params())
    assert spec.__dlpack_device__() == (sg.KDLCPU, 0)
    assert read_capsule(spec.__dlpack__(dl_device=(1, 0)))[0] == "dltensor"


def test_tensorflow_takes_the_legacy_capsule():
    tf = pytest.importorskip("tensorflow")
    spec = sg.compute_linear_power_spectrogram(_signal(), _params())
    t = tf.experimental.dlpack.from_dlpack(spec.__dlpack__())
    np.testing.assert_array_equal(t.numpy(), spec.data)


# ---- input side ----------------------------------------------------------------------------------


def test_inputs_from_numpy_torch_and_jax_are_used_without_copy():
    from spectrograms._input import as_signal

    x = _signal(8000)
    t = torch.from_numpy(x.copy())
    assert as_signal(t, np.dtype(np.float64)).ctypes.data == t.data_ptr()
    assert as_signal(x, np.dtype(np.float64)) is x
    p = _params()
    expected = sg.compute_linear_power_spectrogram(x, p).data
    np.testing.assert_array_equal(sg.compute_linear_power_spectrogram(t, p).data, expected)
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    try:
        j = jax.device_put(jnp.asarray(x), jax.devices("cpu")[0])  # the CPU, also where a GPU is the default
    finally:
        jax.config.update("jax_enable_x64", previous)
    assert as_signal(j, np.dtype(np.float64)).ctypes.data == j.unsafe_buffer_pointer()
    np.testing.assert_array_equal(sg.compute_linear_power_spectrogram(j, p).data, expected)
    mv = memoryview(x)
    assert as_signal(mv, np.dtype(np.float64)).ctypes.data == x.ctypes.data
    np.testing.assert_array_equal(sg.compute_linear_power_spectrogram(mv, p).data, expected)


def test_read_only_and_strided_inputs():
    from spectrograms._input import as_signal

    base = _signal(16000)
    strided = base[::2]
    ro = base.copy()
    ro.setflags(write=False)
    p = _params()
    assert as_signal(strided, np.dtype(np.float64)) is strided  # read through the stride, no copy
    np.testing.assert_array_equal(sg.compute_linear_power_spectrogram(strided, p).data,
                                  sg.compute_linear_power_spectrogram(strided.copy(), p).data)
    np.testing.assert_array_equal(sg.compute_linear_power_spectrogram(ro, p).data,
                                  sg.compute_linear_power_spectrogram(base, p).data)
    reversed_view = base[::-1]
    np.testing.assert_array_equal(sg.compute_linear_power_spectrogram(reversed_view, p).data,
                                  sg.compute_linear_power_spectrogram(reversed_view.copy(), p).data)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: np.zeros(100, np.int16), "Integer PCM must be scaled"),
        (lambda: np.zeros(100, bool), "dtype bool"),
        (lambda: np.zeros(100, np.complex128), "complex"),
        (lambda: torch.zeros(100, dtype=torch.int32), "dtype int32"),
        (lambda: np.zeros((2, 100)), "1-D"),
        (lambda: ["a", "b"], "floating-point"),
    ],
)
def test_rejected_inputs(make, match):
    with pytest.raises(TypeError, match=match):
        sg.compute_linear_power_spectrogram(make(), _params())


def test_gpu_input_is_rejected_with_advice():
    class FakeCudaTensor:
        def __dlpack_device__(self):
            return (sg.KDLCUDA, 0)

        def __dlpack__(self, **kwargs):  # pragma: no cover - must not be called
            raise AssertionError("must not export device memory")

    with pytest.raises(TypeError, match=r"not the CPU.*\.cpu\(\)"):
        sg.compute_linear_power_spectrogram(FakeCudaTensor(), _params())


def test_tensor_requiring_grad_is_accepted():
    t = torch.from_numpy(_signal(2000)).requires_grad_(True)
    out = sg.compute_linear_power_spectrogram(t, _params())
    np.testing.assert_array_equal(out.data, sg.compute_linear_power_spectrogram(t.detach().numpy(), _params()).data)


# ---- no leaks ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_no_leak_over_100k_export_cycles():
    p = _params(64, 32)
    x = _signal(256)
    spec = sg.compute_linear_power_spectrogram(x, p)
    refs = sys.getrefcount(spec)

    def cycle(n):
        for _ in range(n):
            s = sg.compute_linear_power_spectrogram(x, p)      # create
            t = torch.from_dlpack(s)                            # consume
            a = np.from_dlpack(s)
            del s, t, a                                         # drop
            c1 = spec.__dlpack__()                              # unconsumed legacy capsule
            c2 = spec.__dlpack__(max_version=(1, 0))            # unconsumed versioned capsule
            c3 = spec.__dlpack__(copy=True, max_version=(1, 0))
            del c1, c2, c3

    cycle(5_000)  # warm up allocators and caches
    gc.collect()
    live = sg._core.live_dlpack_exports()
    before = rss_bytes()
    cycle(100_000)
    gc.collect()
    growth = rss_bytes() - before
    assert growth < 4 * 2**20, f"RSS grew by {growth / 2**20:.1f} MiB over 100,000 cycles"
    assert sg._core.live_dlpack_exports() == live
    assert sys.getrefcount(spec) == refs
