"""Every bad-input path: the exception type, and a message that says what was expected and what
came in (API.md §3, §7). One test per case."""

from __future__ import annotations

import numpy as np
import pytest

import spectrograms as sg

PARAMS = sg.SpectrogramParams(sg.StftParams(512, 128, sg.WindowType.hanning, True), 16000.0)
X = np.random.default_rng(0).standard_normal(3000)
NAN = float("nan")


# ---------------------------------------------------------------------------------------------
# Error hierarchy
# ---------------------------------------------------------------------------------------------
def test_value_errors_are_value_errors():
    assert issubclass(sg.InvalidInputError, ValueError)
    assert issubclass(sg.InvalidInputError, sg.SpectrogramError)
    assert issubclass(sg.DimensionMismatchError, ValueError)
    assert issubclass(sg.DimensionMismatchError, sg.SpectrogramError)
    assert issubclass(sg.SpectrogramError, Exception)
    assert issubclass(sg.FFTBackendError, sg.SpectrogramError)
    assert issubclass(sg.InternalError, sg.SpectrogramError)


def test_except_value_error_catches_invalid_input():
    with pytest.raises(ValueError):
        sg.StftParams(512, 0)


# ---------------------------------------------------------------------------------------------
# Signals
# ---------------------------------------------------------------------------------------------
def test_empty_input():
    with pytest.raises(sg.InvalidInputError, match=r"samples is empty.*expected at least one sample"):
        sg.compute_linear_power_spectrogram(np.array([], dtype=np.float64), PARAMS)


def test_empty_list_input():
    with pytest.raises(ValueError, match=r"empty.*at least one sample"):
        sg.compute_mel_db_spectrogram([], PARAMS, sg.MelParams(40))


def test_2d_input():
    with pytest.raises(TypeError, match=r"1-D.*got 2-D with shape \(2, 1500\)"):
        sg.compute_linear_power_spectrogram(X.reshape(2, 1500), PARAMS)


def test_2d_input_to_plan():
    plan = sg.SpectrogramPlanner().mel_power_plan(PARAMS, sg.MelParams(40))
    with pytest.raises(TypeError, match=r"1-D.*got 2-D with shape \(1, 3000\)"):
        plan.compute(X[None, :])


def test_0d_input():
    with pytest.raises(TypeError, match=r"1-D.*got 0-D"):
        sg.compute_linear_power_spectrogram(np.float64(1.0), PARAMS)


def test_int16_input():
    with pytest.raises(TypeError, match=r"floating-point.*got dtype int16.*32768"):
        sg.compute_linear_power_spectrogram((X * 1000).astype(np.int16), PARAMS)


def test_int_list_input():
    with pytest.raises(TypeError, match=r"floating-point.*got dtype int"):
        sg.compute_linear_power_spectrogram([1, 2, 3, 4], PARAMS)


def test_bool_input():
    with pytest.raises(TypeError, match=r"floating-point.*got dtype bool"):
        sg.compute_linear_power_spectrogram(X > 0, PARAMS)


def test_complex_input():
    with pytest.raises(TypeError, match=r"floating-point.*got dtype complex128"):
        sg.compute_linear_power_spectrogram(X.astype(np.complex128), PARAMS)


def test_complex_input_to_stft():
    with pytest.raises(TypeError, match=r"floating-point.*got dtype complex64"):
        sg.compute_stft(X.astype(np.complex64), PARAMS)


def test_nan_in_signal_is_data_not_error():
    result = sg.compute_linear_power_spectrogram(np.full(600, np.nan), PARAMS)
    assert np.isnan(result.data).all()


def test_gpu_tensor_input():
    class FakeGpuTensor:
        def __dlpack__(self, **kwargs):
            raise AssertionError("must not be exported from a non-CPU device")

        def __dlpack_device__(self):
            return (2, 0)  # kDLCUDA

    with pytest.raises(TypeError, match=r"device of DLPack type 2.*move it to the CPU"):
        sg.compute_linear_power_spectrogram(FakeGpuTensor(), PARAMS)


# ---------------------------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------------------------
def test_nan_n_fft():
    with pytest.raises(TypeError, match=r"n_fft must be an integer, got float nan"):
        sg.StftParams(NAN, 128)


def test_float_n_fft():
    with pytest.raises(TypeError, match=r"n_fft must be an integer, got float 512\.0"):
        sg.StftParams(512.0, 128)


def test_negative_n_fft():
    with pytest.raises(sg.InvalidInputError, match=r"n_fft must be >= 1, got -512"):
        sg.StftParams(-512, 128)


def test_hop_size_zero():
    with pytest.raises(sg.InvalidInputError, match=r"hop_size must be >= 1, got 0"):
        sg.StftParams(512, 0)


def test_hop_size_above_n_fft():
    with pytest.raises(sg.InvalidInputError, match=r"hop_size must be <= n_fft \(512\), got 513"):
        sg.StftParams(512, 513)


def test_nan_sample_rate():
    with pytest.raises(sg.InvalidInputError, match=r"sample_rate must be finite, got nan"):
        sg.SpectrogramParams(sg.StftParams(512, 128), NAN)


def test_inf_sample_rate():
    with pytest.raises(sg.InvalidInputError, match=r"sample_rate must be finite, got inf"):
        sg.SpectrogramParams(sg.StftParams(512, 128), float("inf"))


def test_zero_sample_rate():
    with pytest.raises(sg.InvalidInputError, match=r"sample_rate must be > 0, got 0"):
        sg.SpectrogramParams(sg.StftParams(512, 128), 0)


def test_negative_sample_rate():
    with pytest.raises(sg.InvalidInputError, match=r"sample_rate must be > 0, got -16000"):
        sg.SpectrogramParams(sg.StftParams(512, 128), -16000.0)


def test_nan_f_min():
    with pytest.raises(sg.InvalidInputError, match=r"f_min must be finite, got nan"):
        sg.MelParams(40, NAN, 8000.0)


def test_nan_f_max():
    with pytest.raises(sg.InvalidInputError, match=r"f_max must be finite, got nan"):
        sg.MelParams(40, 0.0, NAN)


def test_negative_f_min():
    with pytest.raises(sg.InvalidInputError, match=r"f_min must be >= 0, got -1"):
        sg.MelParams(40, -1.0, 8000.0)


def test_nan_floor_db():
    with pytest.raises(sg.InvalidInputError, match=r"floor_db must be finite, got nan"):
        sg.LogParams(NAN)


def test_f_max_above_nyquist_plan():
    with pytest.raises(sg.InvalidInputError, match=r"f_max must be <= the Nyquist.*8000 Hz, got 9000"):
        sg.SpectrogramPlanner().mel_power_plan(PARAMS, sg.MelParams(40, 0.0, 9000.0))


def test_f_max_above_nyquist_oneshot():
    with pytest.raises(sg.InvalidInputError, match=r"Nyquist.*8000 Hz, got 9000"):
        sg.compute_mel_db_spectrogram(X, PARAMS, sg.MelParams(40, 0.0, 9000.0))


def test_f_min_equal_to_f_max():
    with pytest.raises(sg.InvalidInputError, match=r"f_max must be > f_min \(5000\.0\), got 5000\.0"):
        sg.MelParams(40, 5000.0, 5000.0)


def test_f_min_above_f_max():
    with pytest.raises(sg.InvalidInputError, match=r"f_max must be > f_min \(6000\.0\), got 5000\.0"):
        sg.MelParams(40, 6000.0, 5000.0)


def test_f_min_above_nyquist_with_default_f_max():
    with pytest.raises(sg.InvalidInputError, match=r"f_max \(8000\) must be > f_min \(9000\)"):
        sg.compute_mel_power_spectrogram(X, PARAMS, sg.MelParams(40, 9000.0))


def test_bad_mel_norm_string():
    with pytest.raises(sg.InvalidInputError, match=r"None, 'none', 'slaney', 'l1' or 'l2'; got 'foo'"):
        sg.MelParams(40, norm="foo")


def test_n_mels_zero():
    with pytest.raises(sg.InvalidInputError, match=r"n_mels must be >= 1, got 0"):
        sg.MelParams(0)


def test_n_mels_float():
    with pytest.raises(TypeError, match=r"n_mels must be an integer, got float 40\.0"):
        sg.MelParams(40.0)


def test_custom_window_wrong_length():
    with pytest.raises(sg.DimensionMismatchError, match=r"100 coefficients, but n_fft is 512"):
        sg.StftParams(512, 128, sg.WindowType.custom(np.ones(100)))


def test_custom_window_bad_normalize():
    with pytest.raises(sg.InvalidInputError, match=r"'sum', 'peak', 'max', 'energy', 'rms'; got 'area'"):
        sg.WindowType.custom(np.ones(8), normalize="area")


def test_custom_window_non_finite():
    with pytest.raises(sg.InvalidInputError, match=r"finite.*NaN or inf"):
        sg.WindowType.custom([1.0, NAN, 1.0])


def test_kaiser_negative_beta():
    with pytest.raises(sg.InvalidInputError, match=r"beta must be >= 0, got -1"):
        sg.WindowType.kaiser(-1.0)


def test_gaussian_zero_std():
    with pytest.raises(sg.InvalidInputError, match=r"std must be > 0.*got 0"):
        sg.WindowType.gaussian(0.0)


def test_window_wrong_type():
    with pytest.raises(TypeError, match=r"window must be a WindowType, got str 'hann'"):
        sg.StftParams(512, 128, "hann")


def test_bad_dtype_string():
    with pytest.raises(sg.InvalidInputError, match=r"'float64'.*'float32'.*got 'float16'"):
        sg.compute_linear_power_spectrogram(X, PARAMS, dtype="float16")


def test_bad_dtype_numpy():
    with pytest.raises(sg.InvalidInputError, match=r"'float32'.*got .*float16"):
        sg.SpectrogramPlanner().linear_power_plan(PARAMS, dtype=np.float16)


def test_params_of_wrong_type_oneshot():
    with pytest.raises(TypeError, match=r"params must be a SpectrogramParams, got StftParams"):
        sg.compute_linear_power_spectrogram(X, sg.StftParams(512, 128))


def test_params_of_wrong_type_plan():
    with pytest.raises(TypeError, match=r"params must be a SpectrogramParams, got dict"):
        sg.SpectrogramPlanner().linear_db_plan({"n_fft": 512})


def test_mel_params_of_wrong_type():
    with pytest.raises(TypeError, match=r"MelParams, got LogParams"):
        sg.compute_mel_power_spectrogram(X, PARAMS, sg.LogParams())


def test_db_params_of_wrong_type():
    with pytest.raises(TypeError, match=r"LogParams or None, got MelParams"):
        sg.compute_linear_db_spectrogram(X, PARAMS, sg.MelParams(40))


def test_stft_params_of_wrong_type():
    with pytest.raises(TypeError, match=r"stft must be a StftParams, got str"):
        sg.SpectrogramParams("512", 16000.0)


def test_frame_index_of_wrong_type():
    plan = sg.SpectrogramPlanner().linear_power_plan(PARAMS)
    with pytest.raises(TypeError, match=r"frame_idx must be an integer, got float"):
        plan.compute_frame(X, 1.0)


def test_frame_index_past_end():
    plan = sg.SpectrogramPlanner().linear_power_plan(PARAMS)
    with pytest.raises(IndexError, match=r"frame index 24 .*24 frames"):
        plan.compute_frame(X, 24)


# ---------------------------------------------------------------------------------------------
# Batches
# ---------------------------------------------------------------------------------------------
def test_batch_empty():
    with pytest.raises(ValueError, match=r"at least one signal, got an empty sequence"):
        sg.compute_linear_power_spectrogram_batch([], PARAMS)


def test_batch_n_threads_zero():
    with pytest.raises(ValueError, match=r"n_threads must be >= 1, got 0"):
        sg.compute_linear_power_spectrogram_batch([X], PARAMS, n_threads=0)


def test_batch_n_threads_negative():
    with pytest.raises(ValueError, match=r"n_threads must be >= 1, got -1"):
        sg.compute_mel_power_spectrogram_batch([X], PARAMS, sg.MelParams(40), n_threads=-1)


def test_batch_3d_array():
    with pytest.raises(TypeError, match=r"2-D \(B, L\), got 3-D with shape \(2, 3, 500\)"):
        sg.compute_linear_power_spectrogram_batch(np.zeros((2, 3, 500)), PARAMS)


def test_batch_item_of_int_dtype():
    with pytest.raises(TypeError, match=r"signal 2 must be a floating-point array.*got dtype int"):
        sg.compute_linear_power_spectrogram_batch([X, X, np.arange(1000)], PARAMS)


def test_batch_unequal_lengths_without_padding():
    with pytest.raises(ValueError, match=r"equal frame counts.*24 frames.*8 frames"):
        sg.compute_linear_power_spectrogram_batch([X, X[:1000]], PARAMS, pad=False)


# ---------------------------------------------------------------------------------------------
# Inverse STFT
# ---------------------------------------------------------------------------------------------
def test_istft_real_input():
    with pytest.raises(TypeError, match=r"must be complex.*got dtype float64"):
        sg.compute_istft(np.zeros((257, 10)), 512, 128)


def test_istft_wrong_row_count():
    with pytest.raises(sg.DimensionMismatchError, match=r"257 rows for n_fft = 512, got 256"):
        sg.compute_istft(np.zeros((256, 10), dtype=np.complex128), 512, 128)


def test_istft_hop_above_n_fft():
    with pytest.raises(sg.InvalidInputError, match=r"hop_size must be <= n_fft \(512\), got 1024"):
        sg.compute_istft(np.zeros((257, 10), dtype=np.complex128), 512, 1024)
