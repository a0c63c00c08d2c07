// One-off 1-D transforms on the cached FFTW plans, with numpy.fft's conventions: the input is
// cropped or zero-padded to n, forward transforms are unnormalised, inverse ones scale by 1/n.
#pragma once
#include <complex>
#include <cstdint>
#include <vector>

#include "buffer.hpp"
#include "framing.hpp"

namespace spectrograms {

/// n complex values: the DFT of x (real), as numpy.fft.fft(x, n).
template <class T> BufferPtr fft(const SignalView<T> &x, std::int64_t n);
/// n complex values: the DFT of complex x, as numpy.fft.fft(x, n).
template <class T> BufferPtr fft(const SignalView<std::complex<T>> &x, std::int64_t n);
/// n/2+1 complex values, as numpy.fft.rfft(x, n).
template <class T> BufferPtr rfft(const SignalView<T> &x, std::int64_t n);
/// n real values, as numpy.fft.irfft(spectrum, n): the first n/2+1 values are used (zero-padded
/// if fewer), the imaginary parts of the DC and (even n) Nyquist values are ignored.
template <class T> BufferPtr irfft(const SignalView<std::complex<T>> &spectrum, std::int64_t n);

/// n/2+1 real values: |rfft(x * window)|^2 (power) or |rfft(x * window)| (magnitude), x cropped or
/// zero-padded to n first. An empty window means none; otherwise it must have n coefficients.
template <class T>
BufferPtr spectrum(const SignalView<T> &x, std::int64_t n, const std::vector<double> &window, bool magnitude);

/// numpy.fft.fftfreq(n, d) (all n frequencies) or numpy.fft.rfftfreq(n, d) (n/2+1), float64.
std::vector<double> fft_frequencies(std::int64_t n, double d, bool real);

/// Circular shift of a C-contiguous (rows, cols) array of `element_size`-byte elements into
/// out: numpy.fft.fftshift over both axes (or ifftshift when inverse), for any length.
/// A 1-D array is rows = 1.
void fft_shift(const void *in, void *out, std::int64_t rows, std::int64_t cols, std::size_t element_size,
               bool inverse);

}  // namespace spectrograms
