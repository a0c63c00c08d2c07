"""Invariants between our own paths: plan vs one-shot (bit for bit), float32 vs float64,
compute_frame vs compute, output_shape, input kinds, result objects, pickling, plan caching."""

from __future__ import annotations

import array
import pickle

import numpy as np
import pytest

import spectrograms as sg
import features_reference as ref

PARAMS = sg.SpectrogramParams(sg.StftParams(512, 128, sg.WindowType.hanning, True), 16000.0)
MEL = sg.MelParams(40, 20.0, 7600.0, "slaney")
DB = sg.LogParams(-70.0)
QUANTITIES = ("power", "magnitude", "db")
SCALES = ("linear", "mel")


def _plan(scale: str, quantity: str, dtype=None, params=PARAMS):
    planner = sg.SpectrogramPlanner()
    method = getattr(planner, f"{scale}_{quantity}_plan")
    args = [params] + ([MEL] if scale == "mel" else []) + ([DB] if quantity == "db" else [])
    return method(*args, dtype=dtype)


def _oneshot(scale: str, quantity: str, x, dtype=None, params=PARAMS):
    fn = getattr(sg, f"compute_{scale}_{quantity}_spectrogram")
    if scale == "mel":
        return fn(x, params, MEL, DB if quantity == "db" else None, dtype=dtype)
    return fn(x, params, DB if quantity == "db" else None, dtype=dtype)


ALL_PLANS = [pytest.param(s, q, id=f"{s}-{q}") for s in SCALES for q in QUANTITIES]
DTYPES = ("float64", "float32")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("scale, quantity", ALL_PLANS)
def test_plan_equals_oneshot_bit_for_bit(scale, quantity, dtype, make_signal):
    x = make_signal(7919, dtype=np.dtype(dtype))
    plan = _plan(scale, quantity, dtype)
    expected_cls = getattr(sg, f"{scale.capitalize()}{quantity.capitalize()}Plan")
    assert type(plan) is expected_cls
    assert plan.dtype == np.dtype(dtype)
    a = plan.compute(x)
    b = _oneshot(scale, quantity, x, dtype)
    assert a.data.dtype == b.data.dtype == np.dtype(dtype)
    assert np.array_equal(a.data, b.data)
    assert np.array_equal(a.frequencies, b.frequencies)
    assert np.array_equal(a.times, b.times)
    assert a.params == b.params == PARAMS


@pytest.mark.parametrize("dtype", DTYPES)
def test_stft_plan_equals_oneshot_bit_for_bit(dtype, make_signal):
    x = make_signal(7919, dtype=np.dtype(dtype))
    a = sg.SpectrogramPlanner().stft_plan(PARAMS, dtype=dtype).compute(x)
    b = sg.compute_stft(x, PARAMS, dtype=dtype)
    assert np.array_equal(a.data, b.data)


@pytest.mark.parametrize("scale, quantity", ALL_PLANS)
def test_plan_constructed_directly_equals_planner(scale, quantity, make_signal):
    x = make_signal(3000)
    cls = getattr(sg, f"{scale.capitalize()}{quantity.capitalize()}Plan")
    args = [PARAMS] + ([MEL] if scale == "mel" else []) + ([DB] if quantity == "db" else [])
    assert np.array_equal(cls(*args).compute(x).data, _plan(scale, quantity).compute(x).data)


@pytest.mark.parametrize("scale", SCALES)
def test_float32_close_to_float64(scale, make_signal):
    # A silent stretch puts many bins on the dB floor.
    x = make_signal(7919, dtype=np.float32)
    x[3000:5000] = 0.0
    x64 = x.astype(np.float64)
    p64 = _oneshot(scale, "power", x64).data
    p32 = _oneshot(scale, "power", x, "float32").data
    assert p32.dtype == np.float32
    assert np.max(np.abs(p32 - p64)) <= 1e-4 * np.max(np.abs(p64))
    m64 = _oneshot(scale, "magnitude", x64).data
    m32 = _oneshot(scale, "magnitude", x, "float32").data
    assert np.max(np.abs(m32 - m64)) <= 1e-4 * np.max(np.abs(m64))
    d64 = _oneshot(scale, "db", x64).data
    d32 = _oneshot(scale, "db", x, "float32").data
    assert np.any(d64 == DB.floor_db) and np.all(d32 >= DB.floor_db)
    loud = d64 > DB.floor_db + 20
    assert loud.mean() > 0.5
    assert np.max(np.abs(d32[loud] - d64[loud])) <= 1e-3


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("scale, quantity", ALL_PLANS)
def test_compute_frame_equals_column(scale, quantity, dtype, make_signal):
    x = make_signal(3001, dtype=np.dtype(dtype))
    plan = _plan(scale, quantity, dtype)
    full = plan.compute(x).data
    n_frames = full.shape[1]
    for i in sorted({0, 1, n_frames // 2, n_frames - 2, n_frames - 1}):
        frame = plan.compute_frame(x, i)
        assert frame.shape == (full.shape[0],)
        assert frame.dtype == full.dtype
        assert np.array_equal(frame, full[:, i]), f"frame {i}"


def test_stft_compute_frame_equals_column(make_signal):
    x = make_signal(3001)
    plan = sg.SpectrogramPlanner().stft_plan(PARAMS)
    full = plan.compute(x).data
    for i in (0, 7, full.shape[1] - 1):
        assert np.array_equal(plan.compute_frame(x, i), full[:, i])


@pytest.mark.parametrize("centre", [True, False])
def test_compute_frame_past_last_frame_raises_index_error(centre, make_signal):
    params = sg.SpectrogramParams(sg.StftParams(512, 128, sg.WindowType.hanning, centre), 16000.0)
    plan = sg.SpectrogramPlanner().linear_power_plan(params)
    x = make_signal(3000)
    n_frames = plan.output_shape(len(x))[1]
    plan.compute_frame(x, n_frames - 1)
    with pytest.raises(IndexError, match=str(n_frames)):
        plan.compute_frame(x, n_frames)
    with pytest.raises(IndexError):
        plan.compute_frame(x, n_frames + 1000)
    # A signal shorter than one frame still has exactly one (zero-padded) frame.
    plan.compute_frame(x[:10], 0)
    with pytest.raises(IndexError):
        plan.compute_frame(x[:10], 1)


@pytest.mark.parametrize("scale, quantity", ALL_PLANS)
@pytest.mark.parametrize("length", [1, 100, 511, 512, 513, 3000, 7919])
def test_output_shape_equals_compute_shape(scale, quantity, length, make_signal):
    plan = _plan(scale, quantity)
    x = make_signal(length)
    result = plan.compute(x)
    assert plan.output_shape(length) == result.shape == result.data.shape
    assert result.n_bins == plan.n_bins and result.n_frames == result.shape[1] == len(result)


# ---------------------------------------------------------------------------------------------
# Input kinds
# ---------------------------------------------------------------------------------------------
def _variants(x: np.ndarray):
    strided_parent = np.empty(2 * len(x))
    strided_parent[::2] = x
    strided_parent[1::2] = np.nan
    readonly = x.copy()
    readonly.setflags(write=False)
    readonly_parent = strided_parent.copy()
    readonly_parent.setflags(write=False)
    return {
        "numpy": x,
        "strided": strided_parent[::2],
        "negative-stride": x[::-1].copy()[::-1],
        "read-only": readonly,
        "read-only-strided": readonly_parent[::2],
        "list": x.tolist(),
        "tuple": tuple(x.tolist()),
        "array.array": array.array("d", x),
        "memoryview": memoryview(array.array("d", x)),
        "big-endian": x.astype(">f8"),
        "fortran-1d": np.asfortranarray(x),
    }


VARIANT_NAMES = list(_variants(np.zeros(4)))


@pytest.mark.parametrize("variant", VARIANT_NAMES)
@pytest.mark.parametrize("scale, quantity", [("linear", "power"), ("mel", "db")])
def test_input_variants_give_identical_results(variant, scale, quantity, make_signal):
    x = make_signal(3001)
    plan = _plan(scale, quantity)
    expected = plan.compute(x).data
    assert np.array_equal(plan.compute(_variants(x)[variant]).data, expected)
    assert np.array_equal(_oneshot(scale, quantity, _variants(x)[variant]).data, expected)


def test_input_not_modified(make_signal):
    x = make_signal(3001)
    before = x.copy()
    _plan("mel", "db").compute(x)
    sg.compute_stft(x, PARAMS)
    assert np.array_equal(x, before)


def test_torch_tensor_input(make_signal):
    torch = pytest.importorskip("torch")
    x = make_signal(3001)
    plan = _plan("mel", "db")
    expected = plan.compute(x).data
    assert np.array_equal(plan.compute(torch.from_numpy(x.copy())).data, expected)
    # A tensor that requires grad is read without complaint, and a strided one works too.
    t = torch.from_numpy(x.copy()).requires_grad_(True)
    assert np.array_equal(plan.compute(t).data, expected)
    parent = torch.zeros(2 * len(x), dtype=torch.float64)
    parent[::2] = torch.from_numpy(x)
    assert np.array_equal(plan.compute(parent[::2]).data, expected)
    # float32 tensor to a float32 plan.
    x32 = make_signal(3001, dtype=np.float32)
    plan32 = _plan("linear", "power", "float32")
    assert np.array_equal(plan32.compute(torch.from_numpy(x32.copy())).data, plan32.compute(x32).data)


def test_jax_array_input(make_signal):
    jax = pytest.importorskip("jax")
    jnp = pytest.importorskip("jax.numpy")
    x64 = make_signal(3001)
    x32 = make_signal(3001, dtype=np.float32)
    enable_x64 = getattr(jax, "enable_x64", None)
    if enable_x64 is None:  # older jax
        from jax.experimental import enable_x64
    with enable_x64(True):
        j64 = jnp.asarray(x64)
    assert j64.dtype == np.float64
    plan = _plan("mel", "db")
    assert np.array_equal(plan.compute(j64).data, plan.compute(x64).data)
    j32 = jnp.asarray(x32)
    plan32 = _plan("mel", "db", "float32")
    assert np.array_equal(plan32.compute(j32).data, plan32.compute(x32).data)
    # A float32 JAX array to a float64 plan is converted.
    assert np.array_equal(plan.compute(j32).data, plan.compute(x32.astype(np.float64)).data)


@pytest.mark.parametrize("scale, quantity", ALL_PLANS)
def test_float32_input_to_float64_plan_is_converted(scale, quantity, make_signal):
    x32 = make_signal(3001, dtype=np.float32)
    plan = _plan(scale, quantity)
    result = plan.compute(x32)
    assert result.data.dtype == np.float64
    assert np.array_equal(result.data, plan.compute(x32.astype(np.float64)).data)


def test_float64_input_to_float32_plan_is_converted(make_signal):
    x = make_signal(3001)
    plan = _plan("mel", "power", "float32")
    result = plan.compute(x)
    assert result.data.dtype == np.float32
    assert np.array_equal(result.data, plan.compute(x.astype(np.float32)).data)


# ---------------------------------------------------------------------------------------------
# Result objects
# ---------------------------------------------------------------------------------------------
def test_data_is_same_object_and_writable(make_signal):
    result = _plan("mel", "db").compute(make_signal(3001))
    data = result.data
    assert result.data is data
    assert data.flags.writeable and data.flags.c_contiguous
    data[0, 0] = 12345.0
    assert result.data[0, 0] == 12345.0
    assert np.asarray(result)[0, 0] == 12345.0
    assert result[0, 0] == 12345.0


def test_results_do_not_share_memory(make_signal):
    plan = _plan("linear", "power")
    x = make_signal(3001)
    a, b = plan.compute(x), plan.compute(x)
    assert not np.shares_memory(a.data, b.data)
    a.data[:] = 0
    assert np.array_equal(b.data, plan.compute(x).data)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("scale, quantity", ALL_PLANS)
def test_plan_pickle_round_trip(scale, quantity, dtype, make_signal):
    x = make_signal(3001, dtype=np.dtype(dtype))
    plan = _plan(scale, quantity, dtype)
    restored = pickle.loads(pickle.dumps(plan))
    assert type(restored) is type(plan)
    assert restored.dtype == plan.dtype
    assert restored.params == plan.params
    assert np.array_equal(restored.frequencies, plan.frequencies)
    assert np.array_equal(restored.compute(x).data, plan.compute(x).data)


def test_stft_plan_pickle_round_trip(make_signal):
    x = make_signal(3001)
    plan = sg.SpectrogramPlanner().stft_plan(PARAMS, dtype="float32")
    restored = pickle.loads(pickle.dumps(plan))
    assert restored.dtype == np.float32
    assert np.array_equal(restored.compute(x).data, plan.compute(x).data)


@pytest.mark.parametrize("scale, quantity", ALL_PLANS)
def test_spectrogram_pickle_round_trip(scale, quantity, make_signal):
    result = _plan(scale, quantity).compute(make_signal(3001))
    restored = pickle.loads(pickle.dumps(result))
    assert type(restored) is type(result)
    assert np.array_equal(restored.data, result.data)
    assert restored.data.dtype == result.data.dtype
    assert restored.params == result.params
    assert np.array_equal(restored.frequencies, result.frequencies)
    assert np.array_equal(restored.times, result.times)
    assert restored.data.flags.writeable
    assert not np.shares_memory(restored.data, result.data)


def test_stft_result_pickle_round_trip(make_signal):
    result = sg.compute_stft(make_signal(3001), PARAMS)
    restored = pickle.loads(pickle.dumps(result))
    assert np.array_equal(restored.data, result.data)
    assert restored.params == result.params
    assert np.array_equal(restored.frequencies, result.frequencies)


def test_oneshot_calls_reuse_cached_plans(make_signal):
    x = make_signal(3001)
    params = sg.SpectrogramParams(sg.StftParams(384, 96), 16000.0)  # not used elsewhere
    sg.compute_mel_db_spectrogram(x, params, MEL)
    before = sg.fft_plan_cache_info()["oneshot_hits"]
    first = sg.compute_mel_db_spectrogram(x, params, MEL).data
    second = sg.compute_mel_db_spectrogram(x, params, MEL).data
    after = sg.fft_plan_cache_info()["oneshot_hits"]
    assert after >= before + 2
    assert np.array_equal(first, second)
    # Equal-but-distinct parameter objects hit the same cached plan.
    params_copy = pickle.loads(pickle.dumps(params))
    assert params_copy is not params
    sg.compute_mel_db_spectrogram(x, params_copy, pickle.loads(pickle.dumps(MEL)))
    assert sg.fft_plan_cache_info()["oneshot_hits"] >= after + 1


# ---------------------------------------------------------------------------------------------
# Frames windowed a block at a time (8 to 16 KB frames) and one at a time: same numbers
# ---------------------------------------------------------------------------------------------
# The engine windows 1024- and 2048-point float64 frames and 2048-point float32 frames a block
# at a time (a window span for every frame of the block in turn); 512 points take the frame by
# frame path. Edge frames (partly outside the signal), short signals and strided input reach
# both.
@pytest.mark.parametrize("n_fft, dtype", [(512, np.float64), (1024, np.float64), (2048, np.float64),
                                          (2048, np.float32), (4096, np.float64)])
@pytest.mark.parametrize("centre", [True, False])
@pytest.mark.parametrize("length_in_ffts", [0.7, 1.0, 1.3, 9.1])
def test_block_windowing_matches_numpy_and_strided_input(n_fft, dtype, centre, length_in_ffts, make_signal):
    length = int(length_in_ffts * n_fft)
    hop = n_fft // 4 + 3
    window = np.hanning(n_fft)
    params = sg.SpectrogramParams(sg.StftParams(n_fft, hop, sg.WindowType.custom(window), centre), 16000.0)
    plan = sg.SpectrogramPlanner().linear_power_plan(params, dtype=np.dtype(dtype).name)
    x = make_signal(length, dtype=dtype)
    got = plan.compute(x).data
    parent = np.full(3 * length, np.nan, dtype=dtype)
    parent[::3] = x
    assert np.array_equal(plan.compute(parent[::3]).data, got)  # strided input: same bits
    frames = got.shape[1]
    assert np.array_equal(plan.compute_frame(x, frames - 1), got[:, -1])
    expected = ref.power(x, n_fft, hop, window.astype(dtype).astype(np.float64), centre)
    assert got.shape == expected.shape
    # Power error relative to the largest cell: float64 FFT rounding ~1e-15, float32 ~1e-6.
    tol = 1e-12 if dtype == np.float64 else 2e-5
    assert np.abs(got - expected).max() <= tol * expected.max()
