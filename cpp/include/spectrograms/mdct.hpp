// MDCT and its inverse (lapped transform of audio codecs) on the cached FFTW plans.
#pragma once
#include <cstdint>
#include <vector>

#include "buffer.hpp"
#include "framing.hpp"

namespace spectrograms {

/// The sine window sin(pi (n + 1/2) / window_size); with hop window_size/2 it satisfies the
/// Princen-Bradley condition w[n]^2 + w[n + N]^2 = 1 (N = window_size / 2).
std::vector<double> mdct_sine_window(std::int64_t window_size);
/// The Kaiser-Bessel-derived window (AAC, Vorbis-style) of even length with parameter alpha
/// (Kaiser beta = pi alpha): w[n] = sqrt(cumsum(v)[n] / sum(v)) for n < N with v = kaiser(N + 1,
/// pi alpha), mirrored; also Princen-Bradley.
std::vector<double> kbd_window(std::int64_t window_size, double alpha);

/// (N, n_frames) with N = window.size() / 2 and frame t = x[t hop, t hop + 2N):
/// C[k] = sum_n x[n] w[n] cos(pi (2n + 1 + N)(2k + 1) / (4N)). Needs x.length >= 2N.
template <class T> BufferPtr mdct(const SignalView<T> &x, const std::vector<double> &window, std::int64_t hop);

/// Overlap-add of (2/N) w[n] sum_k C[k, t] cos(pi (2n + 1 + N)(2k + 1) / (4N)) at t hop; with a
/// Princen-Bradley window and hop N this reconstructs the samples that two frames cover.
/// `coefficients` is (N, n_frames) read through element strides; the output has
/// (n_frames - 1) hop + 2N samples, or `length` (cropped or zero-padded) when length >= 0.
template <class T>
BufferPtr imdct(const T *coefficients, std::int64_t n_coefficients, std::int64_t n_frames, std::int64_t row_stride,
                std::int64_t col_stride, const std::vector<double> &window, std::int64_t hop,
                std::int64_t length = -1);

}  // namespace spectrograms
