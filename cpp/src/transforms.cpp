#include "spectrograms/transforms.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>

#include "spectrograms/errors.hpp"
#include "spectrograms/fft.hpp"

namespace spectrograms {

namespace {

void check_lengths(std::int64_t length, std::int64_t n) {
    if (length < 1) throw invalid_input("the input is empty; expected at least one value");
    if (n < 1) throw invalid_input("n must be >= 1, got " + std::to_string(n));
}

// dst[0, n) = x cropped or zero-padded to n.
template <class E> void load(const SignalView<E> &x, std::int64_t n, E *dst) {
    const std::int64_t m = std::min(n, x.length);
    for (std::int64_t i = 0; i < m; ++i) dst[i] = x.data[i * x.stride];
    std::fill(dst + m, dst + n, E(0));
}

}  // namespace

template <class T> BufferPtr rfft(const SignalView<T> &x, std::int64_t n) {
    check_lengths(x.length, n);
    auto plan = get_fft_plan<T>(FftKind::r2c, n);
    AlignedArray<T> in(n);
    load(x, n, in.data());
    auto out = make_buffer(dtype_of<std::complex<T>>::value, {n / 2 + 1});
    plan->r2c(in.data(), out->template as<std::complex<T>>());
    return out;
}

template <class T> BufferPtr fft(const SignalView<T> &x, std::int64_t n) {
    check_lengths(x.length, n);
    auto plan = get_fft_plan<T>(FftKind::r2c, n);
    AlignedArray<T> in(n);
    load(x, n, in.data());
    auto out = make_buffer(dtype_of<std::complex<T>>::value, {n});
    auto *y = out->template as<std::complex<T>>();
    plan->r2c(in.data(), y);
    // A real signal's spectrum is Hermitian: the upper half mirrors the lower one.
    for (std::int64_t k = n / 2 + 1; k < n; ++k) y[k] = std::conj(y[n - k]);
    return out;
}

template <class T> BufferPtr fft(const SignalView<std::complex<T>> &x, std::int64_t n) {
    check_lengths(x.length, n);
    auto plan = get_fft_plan<T>(FftKind::c2c_forward, n);
    AlignedArray<std::complex<T>> in(n);
    load(x, n, in.data());
    auto out = make_buffer(dtype_of<std::complex<T>>::value, {n});
    plan->c2c(in.data(), out->template as<std::complex<T>>());
    return out;
}

template <class T> BufferPtr irfft(const SignalView<std::complex<T>> &X, std::int64_t n) {
    check_lengths(X.length, n);
    auto plan = get_fft_plan<T>(FftKind::c2r, n);
    AlignedArray<std::complex<T>> in(n / 2 + 1);
    load(X, n / 2 + 1, in.data());  // c2r overwrites it
    auto out = make_buffer(dtype_of<T>::value, {n});
    T *y = out->template as<T>();
    plan->c2r(in.data(), y);
    const T scale = T(1) / static_cast<T>(n);
    for (std::int64_t i = 0; i < n; ++i) y[i] *= scale;
    return out;
}

template <class T>
BufferPtr spectrum(const SignalView<T> &x, std::int64_t n, const std::vector<double> &window, bool magnitude) {
    check_lengths(x.length, n);
    if (!window.empty() && static_cast<std::int64_t>(window.size()) != n)
        throw dimension_mismatch("window must have n = " + std::to_string(n) + " coefficients, got " +
                                 std::to_string(window.size()));
    auto plan = get_fft_plan<T>(FftKind::r2c, n);
    AlignedArray<T> in(n);
    load(x, n, in.data());
    if (!window.empty())
        for (std::int64_t i = 0; i < n; ++i) in[i] *= static_cast<T>(window[static_cast<std::size_t>(i)]);
    const std::int64_t n_bins = n / 2 + 1;
    AlignedArray<std::complex<T>> z(n_bins);
    plan->r2c(in.data(), z.data());
    auto out = make_buffer(dtype_of<T>::value, {n_bins});
    T *y = out->template as<T>();
    for (std::int64_t k = 0; k < n_bins; ++k) y[k] = std::norm(z[k]);
    if (magnitude)
        for (std::int64_t k = 0; k < n_bins; ++k) y[k] = std::sqrt(y[k]);
    return out;
}

std::vector<double> fft_frequencies(std::int64_t n, double d, bool real) {
    if (n < 1) throw invalid_input("n must be >= 1, got " + std::to_string(n));
    if (!(std::isfinite(d) && d != 0.0)) throw invalid_input("d must be finite and nonzero, got " + std::to_string(d));
    // numpy: integers times 1 / (n d), negative frequencies after the positive ones.
    const double val = 1.0 / (static_cast<double>(n) * d);
    const std::int64_t count = real ? n / 2 + 1 : n;
    std::vector<double> f(static_cast<std::size_t>(count));
    const std::int64_t positive = (n - 1) / 2 + 1;
    for (std::int64_t i = 0; i < count; ++i) {
        const std::int64_t k = real || i < positive ? i : i - n;
        f[static_cast<std::size_t>(i)] = static_cast<double>(k) * val;
    }
    return f;
}

void fft_shift(const void *in, void *out, std::int64_t rows, std::int64_t cols, std::size_t es, bool inverse) {
    if (rows < 1 || cols < 1) throw invalid_input("fftshift needs a non-empty array");
    // fftshift rolls each axis forward by n/2; ifftshift rolls it back, i.e. forward by n - n/2.
    const std::int64_t row_roll = inverse ? rows - rows / 2 : rows / 2;
    const std::int64_t col_roll = inverse ? cols - cols / 2 : cols / 2;
    const auto *src = static_cast<const char *>(in);
    auto *dst = static_cast<char *>(out);
    const std::size_t row_bytes = es * static_cast<std::size_t>(cols);
    const std::size_t tail = es * static_cast<std::size_t>(col_roll);  // bytes that wrap to the front
    for (std::int64_t r = 0; r < rows; ++r) {
        const char *s = src + static_cast<std::size_t>(r) * row_bytes;
        char *d = dst + static_cast<std::size_t>((r + row_roll) % rows) * row_bytes;
        std::memcpy(d + tail, s, row_bytes - tail);
        std::memcpy(d, s + row_bytes - tail, tail);
    }
}

#define SPECTROGRAMS_INSTANTIATE(T)                                                                        \
    template BufferPtr fft<T>(const SignalView<T> &, std::int64_t);                                     \
    template BufferPtr fft<T>(const SignalView<std::complex<T>> &, std::int64_t);                       \
    template BufferPtr rfft<T>(const SignalView<T> &, std::int64_t);                                    \
    template BufferPtr irfft<T>(const SignalView<std::complex<T>> &, std::int64_t);                     \
    template BufferPtr spectrum<T>(const SignalView<T> &, std::int64_t, const std::vector<double> &, bool);
SPECTROGRAMS_INSTANTIATE(float)
SPECTROGRAMS_INSTANTIATE(double)
#undef SPECTROGRAMS_INSTANTIATE

}  // namespace spectrograms
