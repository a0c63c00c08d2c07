#include "spectrograms/mdct.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <string>

#include "spectrograms/errors.hpp"
#include "spectrograms/fft.hpp"
#include "spectrograms/window.hpp"

namespace spectrograms {

namespace {
constexpr double pi = 3.14159265358979323846;

std::int64_t checked_half(const std::vector<double> &window, std::int64_t hop) {
    const auto size = static_cast<std::int64_t>(window.size());
    if (size < 4 || size % 2 != 0)
        throw invalid_input("window_size must be even and >= 4, got " + std::to_string(size));
    if (hop < 1 || hop > size)
        throw invalid_input("hop_size must be between 1 and window_size (" + std::to_string(size) + "), got " +
                            std::to_string(hop));
    for (double w : window)
        if (!std::isfinite(w)) throw invalid_input("window coefficients must be finite");
    return size / 2;
}
}  // namespace

std::vector<double> mdct_sine_window(std::int64_t window_size) {
    if (window_size < 1) throw invalid_input("window_size must be >= 1, got " + std::to_string(window_size));
    std::vector<double> w(static_cast<std::size_t>(window_size));
    for (std::int64_t n = 0; n < window_size; ++n)
        w[n] = std::sin(pi * (static_cast<double>(n) + 0.5) / static_cast<double>(window_size));
    return w;
}

std::vector<double> kbd_window(std::int64_t window_size, double alpha) {
    if (window_size < 2 || window_size % 2 != 0)
        throw invalid_input("a KBD window needs an even window_size >= 2, got " + std::to_string(window_size));
    if (!(std::isfinite(alpha) && alpha >= 0))
        throw invalid_input("alpha must be finite and >= 0, got " + std::to_string(alpha));
    const std::int64_t half = window_size / 2;
    const auto v = make_window(WindowKind::kaiser, half + 1, pi * alpha);
    double total = 0.0;
    for (double x : v) total += x;
    std::vector<double> w(static_cast<std::size_t>(window_size));
    double partial = 0.0;
    for (std::int64_t n = 0; n < half; ++n) {
        partial += v[static_cast<std::size_t>(n)];
        w[n] = w[window_size - 1 - n] = std::sqrt(partial / total);
    }
    return w;
}

// With n0 = (N + 1) / 2, cos(pi (2n + 1 + N)(2k + 1) / (4N)) = cos(pi (n + n0)(k + 1/2) / N), so
// C[k] = Re(e^{-i pi n0 (k + 1/2) / N} DFT_2N(y[n] e^{-i pi n / (2N)})[k]) and the inverse is
// y[n] = Re(e^{i pi (n + n0) / (2N)} IDFT_2N(C[k] e^{i pi n0 k / N}, zero for k >= N)[n]):
// one complex FFT of length 2N per frame, any N.
template <class T> BufferPtr mdct(const SignalView<T> &x, const std::vector<double> &window, std::int64_t hop) {
    const std::int64_t n = checked_half(window, hop), two_n = 2 * n;
    if (x.length < two_n)
        throw invalid_input("the signal has " + std::to_string(x.length) + " samples, fewer than window_size (" +
                            std::to_string(two_n) + ")");
    const std::int64_t n_frames = (x.length - two_n) / hop + 1;
    const double n0 = (static_cast<double>(n) + 1.0) / 2.0, nd = static_cast<double>(n);
    std::vector<std::complex<T>> pre(static_cast<std::size_t>(two_n)), post(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < two_n; ++i)
        pre[i] = std::complex<T>(std::polar(window[i], -pi * static_cast<double>(i) / (2.0 * nd)));
    for (std::int64_t k = 0; k < n; ++k)
        post[k] = std::complex<T>(std::polar(1.0, -pi * n0 * (static_cast<double>(k) + 0.5) / nd));
    auto plan = get_fft_plan<T>(FftKind::c2c_forward, two_n);
    AlignedArray<std::complex<T>> a(two_n), z(two_n);
    auto out = make_buffer(dtype_of<T>::value, {n, n_frames});
    T *o = out->template as<T>();
    for (std::int64_t t = 0; t < n_frames; ++t) {
        const T *frame = x.data + t * hop * x.stride;
        for (std::int64_t i = 0; i < two_n; ++i) a[i] = frame[i * x.stride] * pre[i];
        plan->c2c(a.data(), z.data());
        for (std::int64_t k = 0; k < n; ++k) o[k * n_frames + t] = (post[k] * z[k]).real();
    }
    return out;
}

template <class T>
BufferPtr imdct(const T *c, std::int64_t n_coefficients, std::int64_t n_frames, std::int64_t rs, std::int64_t cs,
                const std::vector<double> &window, std::int64_t hop, std::int64_t length) {
    const std::int64_t n = checked_half(window, hop), two_n = 2 * n;
    if (n_coefficients != n)
        throw dimension_mismatch("the coefficients must have window_size/2 = " + std::to_string(n) + " rows, got " +
                                 std::to_string(n_coefficients));
    if (n_frames < 1) throw invalid_input("the coefficients must have at least one frame, got 0");
    const double n0 = (static_cast<double>(n) + 1.0) / 2.0, nd = static_cast<double>(n);
    std::vector<std::complex<T>> pre(static_cast<std::size_t>(n)), post(static_cast<std::size_t>(two_n));
    for (std::int64_t k = 0; k < n; ++k)
        pre[k] = std::complex<T>(std::polar(1.0, pi * n0 * static_cast<double>(k) / nd));
    // the synthesis window and the 2/N scale folded into the post-twiddle
    for (std::int64_t i = 0; i < two_n; ++i)
        post[i] = std::complex<T>(std::polar(2.0 / nd * window[i], pi * (static_cast<double>(i) + n0) / (2.0 * nd)));
    auto plan = get_fft_plan<T>(FftKind::c2c_backward, two_n);
    AlignedArray<std::complex<T>> a(two_n), z(two_n);
    const std::int64_t natural = (n_frames - 1) * hop + two_n;
    std::vector<T> acc(static_cast<std::size_t>(natural), T(0));
    for (std::int64_t t = 0; t < n_frames; ++t) {
        for (std::int64_t k = 0; k < n; ++k) a[k] = c[k * rs + t * cs] * pre[k];
        std::fill(a.data() + n, a.data() + two_n, std::complex<T>(0, 0));
        plan->c2c(a.data(), z.data());
        T *y = acc.data() + t * hop;
        for (std::int64_t i = 0; i < two_n; ++i) y[i] += (post[i] * z[i]).real();
    }
    const std::int64_t out_len = length >= 0 ? length : natural;
    auto out = make_buffer(dtype_of<T>::value, {out_len}, true);
    std::copy(acc.begin(), acc.begin() + std::min(out_len, natural), out->template as<T>());
    return out;
}

template BufferPtr mdct<float>(const SignalView<float> &, const std::vector<double> &, std::int64_t);
template BufferPtr mdct<double>(const SignalView<double> &, const std::vector<double> &, std::int64_t);
template BufferPtr imdct<float>(const float *, std::int64_t, std::int64_t, std::int64_t, std::int64_t,
                                const std::vector<double> &, std::int64_t, std::int64_t);
template BufferPtr imdct<double>(const double *, std::int64_t, std::int64_t, std::int64_t, std::int64_t,
                                 const std::vector<double> &, std::int64_t, std::int64_t);

}  // namespace spectrograms
