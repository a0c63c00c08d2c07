"""Invariants between our own paths, for every new kind of output.

plan == one-shot bit for bit, batch == loop bit for bit, float32 close to float64 (tolerance per
kind below), and DLPack export shares memory with ``.data``.
"""

import pickle

import numpy as np
import pytest

import spectrograms as sg

SR = 16000.0
PARAMS = sg.SpectrogramParams(sg.StftParams(512, 160), SR)
RNG = np.random.default_rng(7)
SIGNALS = [RNG.standard_normal(n) for n in (5000, 3001, 777)]

# name -> (plan factory, one-shot function, float32 relative tolerance of the output's range)
FILTERBANK_KINDS = {
    "erb": (sg.ErbParams(32, 50.0, 7800.0), "erb_params"),
    "loghz": (sg.LogHzParams(48, 40.0, 8000.0), "loghz_params"),
    "cqt": (sg.CqtParams(12, 5, 100.0), "cqt"),
}


def _filterbank_kind(scale, quantity):
    fp, kw = FILTERBANK_KINDS[scale]
    plan = lambda dtype=None: getattr(sg.SpectrogramPlanner(), f"{scale}_{quantity}_plan")(PARAMS, fp, dtype=dtype)
    one = getattr(sg, f"compute_{scale}_{quantity}_spectrogram")
    batch = getattr(sg, f"compute_{scale}_{quantity}_spectrogram_batch")
    return (plan, lambda x, dtype=None: one(x, PARAMS, dtype=dtype, **{kw: fp}),
            lambda xs: batch(xs, PARAMS, **{kw: fp}))


KINDS = {f"{s}_{q}": _filterbank_kind(s, q) for s in FILTERBANK_KINDS for q in ("power", "magnitude", "db")}
STFT, CHROMA = PARAMS.stft, sg.ChromaParams(f_min=60.0)
KINDS["chroma"] = (lambda dtype=None: sg.SpectrogramPlanner().chroma_plan(PARAMS, CHROMA, dtype),
                   lambda x, dtype=None: sg.compute_chromagram(x, STFT, SR, CHROMA, dtype),
                   lambda xs: sg.compute_chromagram_batch(xs, STFT, SR, CHROMA))
for _log in ("db", "librosa"):
    _mp = sg.MfccParams(13, log=_log)
    KINDS[f"mfcc_{_log}"] = (lambda dtype=None, mp=_mp: sg.SpectrogramPlanner().mfcc_plan(PARAMS, 40, mp, dtype),
                             lambda x, dtype=None, mp=_mp: sg.compute_mfcc(x, STFT, SR, 40, mp, dtype),
                             lambda xs, mp=_mp: sg.compute_mfcc_batch(xs, STFT, SR, 40, mp))
# float32 against float64: tolerance relative to the largest value of the output
F32_TOLERANCE = {name: 1e-5 for name in KINDS}


@pytest.mark.parametrize("name", sorted(KINDS))
def test_plan_equals_one_shot_bit_for_bit(name):
    plan, one, _ = KINDS[name]
    for dtype in ("float64", "float32"):
        p = plan(dtype)
        for x in SIGNALS:
            a, b = p.compute(x).data, one(x, dtype=dtype).data
            assert a.dtype == b.dtype == np.dtype(dtype)
            assert np.array_equal(a, b)


@pytest.mark.parametrize("name", sorted(KINDS))
def test_batch_equals_loop(name):
    plan, one, batch = KINDS[name]
    out = batch(SIGNALS)
    for i, x in enumerate(SIGNALS):
        item = one(x).data
        assert np.array_equal(out[i].data, item)
        assert np.all(out.data[i][:, item.shape[1]:] == 0)


@pytest.mark.parametrize("name", sorted(KINDS))
def test_float32_close_to_float64(name):
    _, one, _ = KINDS[name]
    x = SIGNALS[0]
    a, b = one(x, dtype="float32").data, one(x, dtype="float64").data
    scale = np.abs(b).max()
    np.testing.assert_allclose(a, b, rtol=0, atol=F32_TOLERANCE[name] * scale)


@pytest.mark.parametrize("name", sorted(KINDS))
def test_dlpack_is_zero_copy_and_results_pickle(name):
    _, one, _ = KINDS[name]
    res = one(SIGNALS[1])
    arr = np.from_dlpack(res)
    assert np.shares_memory(arr, res.data)
    assert arr.ctypes.data == res.data.ctypes.data
    back = pickle.loads(pickle.dumps(res))
    assert np.array_equal(np.asarray(back), res.data)


@pytest.mark.parametrize("name", sorted(KINDS))
def test_plans_pickle_and_output_shape(name):
    plan, one, _ = KINDS[name]
    p = pickle.loads(pickle.dumps(plan("float32")))
    assert p.dtype == np.float32
    x = SIGNALS[2]
    out = one(x, dtype="float32")
    assert np.array_equal(p.compute(x).data, out.data)
    assert p.output_shape(len(x)) == out.shape


@pytest.mark.parametrize("name", sorted(KINDS))
def test_compute_frame_is_a_column_bit_for_bit(name):
    # compute() sums whole blocks of 16 frames in vector registers, compute_frame one frame:
    # the additions happen in the same order, so the bits agree.
    plan, _, _ = KINDS[name]
    for dtype in ("float64", "float32"):
        p = plan(dtype)
        x = SIGNALS[0]
        full = p.compute(x).data
        for i in (0, 5, 16, full.shape[1] - 1):
            assert np.array_equal(p.compute_frame(x, i), full[:, i])


# Outputs of 1 MiB or more are staged in cache-sized runs of frames and streamed out with
# non-temporal stores; smaller ones are written in place. A long signal takes the streamed path
# (several runs per item), compute_frame the in-place one: the bits must agree. compute() also
# transposes whole blocks of 16 frames with AVX2 where the machine has it, compute_frame one
# frame with scalar code.
LONG = np.random.default_rng(11).standard_normal(600_000)
LONG_KINDS = dict(KINDS)
LONG_KINDS["linear_power"] = (lambda dtype=None: sg.SpectrogramPlanner().linear_power_plan(PARAMS, dtype=dtype),
                              None, None)
LONG_KINDS["linear_magnitude"] = (
    lambda dtype=None: sg.SpectrogramPlanner().linear_magnitude_plan(PARAMS, dtype=dtype), None, None)
LONG_KINDS["linear_db"] = (
    lambda dtype=None: sg.SpectrogramPlanner().linear_db_plan(PARAMS, sg.LogParams(-100.0), dtype=dtype), None, None)
LONG_KINDS["mel_magnitude"] = (
    lambda dtype=None: sg.SpectrogramPlanner().mel_magnitude_plan(PARAMS, sg.MelParams(64, 0.0, 8000.0), dtype=dtype),
    None, None)
LONG_KINDS["stft"] = (lambda dtype=None: sg.SpectrogramPlanner().stft_plan(PARAMS, dtype=dtype), None, None)


@pytest.mark.parametrize("name", sorted(LONG_KINDS))
@pytest.mark.parametrize("n_threads", [1, 2, 3])
def test_streamed_output_equals_frames_computed_in_place(name, n_threads):
    plan = LONG_KINDS[name][0]
    for dtype in ("float64", "float32"):
        p = plan(dtype)
        x = LONG.astype(dtype)
        full = p.compute_batch([x, x[:1000]], n_threads=n_threads)
        data = full.data[0]
        frames = full.lengths[0]
        for i in (0, 1, 15, 16, 17, 639, 640, 641, 1000, frames // 2, frames - 1):
            assert np.array_equal(p.compute_frame(x, i), data[:, i]), f"{name} {dtype} frame {i}"
        assert np.all(full.data[1][:, full.lengths[1]:] == 0)
        assert np.array_equal(full.data[1][:, :full.lengths[1]], p.compute(x[:1000]).data)
