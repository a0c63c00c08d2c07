// 2-D FFTs of real arrays (row-column, on the cached 1-D FFTW plans) and the image operations
// built on them. numpy.fft.rfft2/irfft2 conventions.
#pragma once
#include <complex>
#include <cstdint>
#include <vector>

#include "buffer.hpp"

namespace spectrograms {

/// A read-only 2-D array viewed through element strides; nothing is copied.
template <class E> struct MatrixView {
    using value_type = E;
    const E *data;
    std::int64_t rows, cols;
    std::int64_t row_stride, col_stride;
    const E &operator()(std::int64_t r, std::int64_t c) const { return data[r * row_stride + c * col_stride]; }
};

/// (rows, cols/2+1) complex: numpy.fft.rfft2(x). Rows, then columns, are split over n_threads;
/// every 1-D transform is the same whatever the split, so the bits do not depend on it.
template <class T> BufferPtr fft2d(const MatrixView<T> &x, int n_threads = 1);

/// (rows, out_cols) real: numpy.fft.irfft2(spectrum, (rows, out_cols)); the first out_cols/2+1
/// columns of the spectrum are used (zero-padded if it has fewer).
template <class T>
BufferPtr ifft2d(const MatrixView<std::complex<T>> &spectrum, std::int64_t out_cols, int n_threads = 1);

/// (rows, cols/2+1) real: |rfft2(x)|^2, or |rfft2(x)| when magnitude.
template <class T> BufferPtr spectrum2d(const MatrixView<T> &x, bool magnitude, int n_threads = 1);

/// size x size Gaussian, exp(-(i^2 + j^2) / (2 sigma^2)) around the centre, summing to 1.
/// size odd and >= 1, sigma finite and > 0.
std::vector<double> gaussian_kernel_2d(std::int64_t size, double sigma);

/// Circular convolution of the image with a kernel no larger than it, the kernel's centre
/// (rows/2, cols/2) at the origin (scipy.ndimage.convolve(mode="wrap") for odd kernels); by FFT.
template <class T>
BufferPtr convolve_fft(const MatrixView<T> &image, const MatrixView<T> &kernel, int n_threads = 1);

/// Ideal radial filter in the frequency domain. The distance of frequency (r, c) from DC is
/// sqrt(min(r, rows - r)^2 + min(c, cols - c)^2) in bins, the radius of a cutoff fraction f is
/// f * min(rows / 2, cols / 2) (integer halves). low keeps distances <= radius(high_cutoff);
/// high keeps those > radius(low_cutoff); band keeps radius(low) < d <= radius(high).
enum class FrequencyPass : std::uint8_t { low, high, band };
template <class T>
BufferPtr frequency_filter(const MatrixView<T> &image, FrequencyPass pass, double low_cutoff, double high_cutoff,
                           int n_threads = 1);

/// image + amount * (high-pass of the image at cutoff 0.2); amount finite and >= 0.
template <class T> BufferPtr sharpen_fft(const MatrixView<T> &image, double amount, int n_threads = 1);

}  // namespace spectrograms
