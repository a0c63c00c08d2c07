// Framing: centre zero padding, the n_frames rule, and windowed frames.
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

/// dst[j] = op(x[start + j], j) for j0 <= j < j1, with zeros where start + j lies outside the
/// signal. Only edge frames take the slow path; no padded copy of the signal is ever made.
template <class T, class Op>
inline void frame_span(const SignalView<T> &x, std::int64_t start, std::int64_t j0, std::int64_t j1, Op op,
                       T *__restrict dst) noexcept {
    const std::int64_t lo = std::clamp<std::int64_t>(-start, j0, j1);
    const std::int64_t hi = std::clamp<std::int64_t>(x.length - start, lo, j1);
    if (lo > j0) std::memset(dst + j0, 0, sizeof(T) * (lo - j0));
    if (hi < j1) std::memset(dst + hi, 0, sizeof(T) * (j1 - hi));
    if (x.stride == 1) {
        const T *__restrict src = x.data + start;
        for (std::int64_t j = lo; j < hi; ++j) dst[j] = op(src[j], j);
    } else {
        const T *src = x.data;
        const std::int64_t s = x.stride;
        for (std::int64_t j = lo; j < hi; ++j) dst[j] = op(src[(start + j) * s], j);
    }
}

/// dst[j] = x[start + j] * w[j] for j0 <= j < j1 (frame_span).
template <class T>
inline void window_span(const SignalView<T> &x, std::int64_t start, std::int64_t j0, std::int64_t j1,
                        const T *__restrict w, T *__restrict dst) noexcept {
    frame_span(x, start, j0, j1, [w](T v, std::int64_t j) { return v * w[j]; }, dst);
}

/// One windowed frame: window_span over [0, n).
template <class T>
inline void window_frame(const SignalView<T> &x, std::int64_t start, std::int64_t n,
                         const T *__restrict w, T *__restrict dst) noexcept {
    window_span(x, start, 0, n, w, dst);
}

/// The n samples from `start` on, unwindowed (zeros outside the signal): a pointer into the
/// signal where they lie inside it, contiguous, and `readable` accepts their address; otherwise
/// a copy in dst.
template <class T, class Readable>
inline const T *raw_frame(const SignalView<T> &x, std::int64_t start, std::int64_t n, Readable readable,
                          T *__restrict dst) noexcept {
    if (x.stride == 1 && start >= 0 && start + n <= x.length && readable(x.data + start)) return x.data + start;
    frame_span(x, start, 0, n, [](T v, std::int64_t) { return v; }, dst);
    return dst;
}

/// count windowed frames, frame i starting at sample start + i * hop, into dst + i * stride.
/// Column by column (a span of the window for every frame, then the next span): the span of
/// the window stays in L1 for all the frames, where frame by frame a long window (2048 doubles:
/// 16 KB, like the frame and its source) is read from L2 again for each frame.
template <class T>
inline void window_frames(const SignalView<T> &x, std::int64_t start, std::int64_t hop, std::int64_t count,
                          std::int64_t n, const T *__restrict w, T *__restrict dst, std::int64_t stride) noexcept {
    constexpr std::int64_t span = 2048 / sizeof(T);  // 2 KB of window
    for (std::int64_t j0 = 0; j0 < n; j0 += span) {
        const std::int64_t j1 = std::min(n, j0 + span);
        for (std::int64_t i = 0; i < count; ++i) window_span(x, start + i * hop, j0, j1, w, dst + i * stride);
    }
}

}  // namespace spectrograms
