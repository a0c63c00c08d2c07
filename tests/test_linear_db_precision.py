"""Float32 plans of the linear scale in dB compute in float64 and round each cell once.

A linear dB cell is one FFT bin; float32 rounding in the window product and the FFT is relative
to the frame's energy, so a float32 computation is ~1e-3 to 1e-2 dB off at bins 80-100 dB below
their frame's peak. These tests pin down what such plans compute instead:

* bit for bit, the float64 plan (given the float32 window's coefficients) on the float32 samples
  upcast exactly, rounded to float32; for compute, compute_batch at 1 and 2 threads and
  compute_frame;
* against an independent float64 reference (numpy.fft, the framing written out here), every cell
  above floor + 20 dB within float32 rounding of the dB value, where the float32 power plan's dB is
  measurably not;
* the other float32 kinds keep computing in float32 (``compute_dtype``).
"""

from __future__ import annotations

import numpy as np
import pytest

import spectrograms as sg

SR, N_FFT, HOP = 16000, 400, 160
PLANNER = sg.SpectrogramPlanner()


def loud_tone_in_noise(length: int, seed: int) -> np.ndarray:
    """A loud tone over faint noise: most bins lie 80-100 dB below their frame's peak."""
    rng = np.random.default_rng(seed)
    n = np.arange(length)
    x = 3.0 * np.sin(2 * np.pi * 0.0371 * n + 0.3) + 1e-3 * rng.standard_normal(length)
    return x.astype(np.float32)


def params(window=sg.WindowType.hanning) -> sg.SpectrogramParams:
    return sg.SpectrogramParams(sg.StftParams(N_FFT, HOP, window, True), SR)


def numpy_power(x: np.ndarray, window: np.ndarray) -> np.ndarray:
    """|rfft(frame * window)|^2 in float64, frames with centre zero padding, (bins, frames)."""
    x = np.asarray(x, dtype=np.float64)
    padded = np.concatenate([np.zeros(N_FFT // 2), x, np.zeros(N_FFT // 2)])
    n_frames = 1 + len(x) // HOP
    frames = np.stack([padded[t * HOP:t * HOP + N_FFT] for t in range(n_frames)])
    return (np.abs(np.fft.rfft(frames * window, axis=1)) ** 2).T


def test_compute_dtype():
    for quantity, scale in [("db", "linear"), ("power", "linear"), ("magnitude", "linear"), ("db", "mel"),
                            ("power", "mel")]:
        extra = (sg.MelParams(40),) if scale == "mel" else ()
        for dtype in ("float32", "float64"):
            plan = getattr(PLANNER, f"{scale}_{quantity}_plan")(params(), *extra, dtype=dtype)
            wide = dtype == "float32" and scale == "linear" and quantity == "db"
            assert plan.dtype == np.dtype(dtype)
            assert plan.compute_dtype == np.dtype("float64" if wide else dtype), (scale, quantity, dtype)


@pytest.mark.parametrize("window", [sg.WindowType.hanning, sg.WindowType.kaiser(7.5)], ids=["hann", "kaiser"])
def test_float32_linear_db_is_the_float64_result_rounded(window):
    f32 = PLANNER.linear_db_plan(params(window), dtype="float32")
    w32 = np.asarray(f32._engine.window())
    assert w32.dtype == np.float32
    # the float64 plan with the float32 window's coefficients, exactly
    f64 = PLANNER.linear_db_plan(params(sg.WindowType.custom(w32.astype(np.float64))), dtype="float64")
    xs = [loud_tone_in_noise(n, seed) for n, seed in [(16000, 1), (2345, 2), (399, 3)]]
    for x in xs:
        expected = f64.compute(x.astype(np.float64)).data.astype(np.float32)
        out = f32.compute(x).data
        assert out.dtype == np.float32
        np.testing.assert_array_equal(out, expected)
        for t in (0, out.shape[1] // 2, out.shape[1] - 1):
            np.testing.assert_array_equal(f32.compute_frame(x, t), expected[:, t])
    for threads in (1, 2):
        batch = f32.compute_batch(xs, n_threads=threads).data
        for b, x in enumerate(xs):
            single = f32.compute(x).data
            np.testing.assert_array_equal(batch[b, :, :single.shape[1]], single)
            assert not batch[b, :, single.shape[1]:].any()
    # a strided (non-contiguous) float32 signal gives the same cells
    x = xs[0]
    doubled = np.repeat(x, 2)[::2]
    assert not doubled.flags.c_contiguous
    np.testing.assert_array_equal(f32.compute(doubled).data, f32.compute(x).data)


def test_float32_linear_db_is_exact_where_float32_power_is_not():
    """Against numpy.fft in float64: the dB plan within float32 rounding (4 ulp at 60 dB is
    1.5e-5 dB) on every cell above floor + 20 dB; dB taken from the float32 power plan is not
    (its float32 FFT is > 1e-3 dB off somewhere), which is why the dB plan computes in float64."""
    f32_db = PLANNER.linear_db_plan(params(), dtype="float32")
    f32_power = PLANNER.linear_power_plan(params(), dtype="float32")
    window = np.asarray(f32_db._engine.window(), dtype=np.float64)
    worst_db = worst_power = 0.0
    for seed in range(4):
        x = loud_tone_in_noise(16000, seed)
        exact = 10 * np.log10(np.maximum(numpy_power(x, window), 1e-8))
        cells = exact > -60.0
        assert cells.mean() > 0.9
        worst_db = max(worst_db, float(np.max(np.abs(f32_db.compute(x).data - exact)[cells])))
        from_power = 10 * np.log10(np.maximum(f32_power.compute(x).data.astype(np.float64), 1e-8))
        worst_power = max(worst_power, float(np.max(np.abs(from_power - exact)[cells])))
    assert worst_db <= 2e-5, worst_db
    assert worst_power > 1e-3, worst_power  # the float32 computation the dB plan avoids
