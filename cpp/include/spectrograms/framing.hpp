// Framing: centre zero padding, the n_frames rule, and one windowed frame at a time.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>

namespace spectrograms {

/// A read-only 1-D signal viewed through a stride (in elements); nothing is copied.
template <class T> struct SignalView {
    const T *data;
    std::int64_t length;
    std::int64_t stride = 1;
};

/// Zero padding at each end: n_fft/2 with centre, else 0.
inline std::int64_t frame_padding(std::int64_t n_fft, bool centre) noexcept {
    return centre ? n_fft / 2 : 0;
}

/// (L + 2 pad - n_fft) / hop + 1 when the padded signal holds one frame, otherwise 1.
inline std::int64_t n_frames_for(std::int64_t length, std::int64_t n_fft, std::int64_t hop,
                                 bool centre) noexcept {
    const std::int64_t padded = length + 2 * frame_padding(n_fft, centre);
    return padded >= n_fft ? (padded - n_fft) / hop + 1 : 1;
}

/// dst[j] = x[start + j] * w[j] for j < n, with zeros where start + j lies outside the signal.
/// Only edge frames take the slow path; no padded copy of the signal is ever made.
template <class T>
inline void window_frame(const SignalView<T> &x, std::int64_t start, std::int64_t n,
                         const T *__restrict w, T *__restrict dst) noexcept {
    const std::int64_t lo = std::clamp<std::int64_t>(-start, 0, n);
    const std::int64_t hi = std::clamp<std::int64_t>(x.length - start, lo, n);
    if (lo > 0) std::memset(dst, 0, sizeof(T) * lo);
    if (hi < n) std::memset(dst + hi, 0, sizeof(T) * (n - hi));
    if (x.stride == 1) {
        const T *__restrict src = x.data + start;
        for (std::int64_t j = lo; j < hi; ++j) dst[j] = src[j] * w[j];
    } else {
        const T *src = x.data;
        const std::int64_t s = x.stride;
        for (std::int64_t j = lo; j < hi; ++j) dst[j] = src[(start + j) * s] * w[j];
    }
}

}  // namespace spectrograms
