#include "spectrograms/reconstruct.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "spectrograms/errors.hpp"
#include "spectrograms/fft.hpp"
#include "spectrograms/thread_pool.hpp"

namespace spectrograms {

namespace {

std::int64_t round_up(std::int64_t n, std::int64_t m) { return (n + m - 1) / m * m; }

// Per-thread scratch for one frame's spectrum and samples.
thread_local ScratchArray t_spectrum, t_frame;

void check_istft_args(std::int64_t n_bins, std::int64_t n_frames, std::int64_t n_fft, std::int64_t hop,
                      const std::vector<double> &window) {
    if (n_fft < 1) throw invalid_input("n_fft must be >= 1, got " + std::to_string(n_fft));
    if (hop < 1 || hop > n_fft)
        throw invalid_input("hop_size must be between 1 and n_fft (" + std::to_string(n_fft) + "), got " +
                            std::to_string(hop));
    if (n_bins != n_fft / 2 + 1)
        throw dimension_mismatch("the STFT matrix must have n_fft/2+1 = " + std::to_string(n_fft / 2 + 1) +
                                 " rows for n_fft = " + std::to_string(n_fft) + ", got " + std::to_string(n_bins));
    if (n_frames < 1) throw invalid_input("the STFT matrix must have at least one frame, got 0");
    if (static_cast<std::int64_t>(window.size()) != n_fft)
        throw dimension_mismatch("window must have n_fft = " + std::to_string(n_fft) + " coefficients, got " +
                                 std::to_string(window.size()));
}

// What every item of an inverse STFT shares: the window, 1 / (summed squared window) where that
// sum is usable, and the geometry.
struct OverlapAdd {
    std::int64_t n_fft, hop, n_bins, n_frames, full, start, out_len;
    std::vector<double> window;     // scaled by 1/n_fft (FFTW's c2r is unnormalised)
    std::vector<double> inv_wss;    // 0 where the window sum is below the smallest normal

    template <class T>
    OverlapAdd(std::int64_t n_fft_, std::int64_t hop_, std::int64_t n_frames_, const std::vector<double> &w,
               bool centre, std::int64_t length, T)
        : n_fft(n_fft_), hop(hop_), n_bins(n_fft_ / 2 + 1), n_frames(n_frames_) {
        full = n_fft + hop * (n_frames - 1);
        start = centre ? n_fft / 2 : 0;
        const std::int64_t natural = std::max<std::int64_t>(0, full - 2 * start);
        out_len = length >= 0 ? length : natural;
        window.resize(static_cast<std::size_t>(n_fft));
        for (std::int64_t j = 0; j < n_fft; ++j) window[j] = w[j] / static_cast<double>(n_fft);
        std::vector<double> wss(static_cast<std::size_t>(full), 0.0);
        for (std::int64_t f = 0; f < n_frames; ++f)
            for (std::int64_t j = 0; j < n_fft; ++j) wss[f * hop + j] += w[j] * w[j];
        inv_wss.resize(wss.size());
        const double tiny = std::numeric_limits<T>::min();
        for (std::size_t i = 0; i < wss.size(); ++i) inv_wss[i] = wss[i] > tiny ? 1.0 / wss[i] : 1.0;
    }

    // One item: frames' irfft times the window, overlap-added in double, normalised, trimmed.
    template <class T>
    void run(const std::complex<T> *X, std::int64_t bin_stride, std::int64_t frame_stride, const FftPlan<T> &c2r,
             std::vector<double> &acc, T *out) const {
        acc.assign(static_cast<std::size_t>(full), 0.0);
        auto *spectrum = static_cast<std::complex<T> *>(t_spectrum.get(sizeof(std::complex<T>) * (n_bins + 8)));
        auto *frame = static_cast<T *>(t_frame.get(sizeof(T) * round_up(n_fft, 64 / static_cast<std::int64_t>(sizeof(T)))));
        for (std::int64_t f = 0; f < n_frames; ++f) {
            const std::complex<T> *column = X + f * frame_stride;
            for (std::int64_t k = 0; k < n_bins; ++k) spectrum[k] = column[k * bin_stride];
            c2r.c2r(spectrum, frame);
            double *a = acc.data() + f * hop;
            for (std::int64_t j = 0; j < n_fft; ++j) a[j] += static_cast<double>(frame[j]) * window[j];
        }
        for (std::int64_t i = 0; i < out_len; ++i) {
            const std::int64_t src = start + i;
            out[i] = src < full ? static_cast<T>(acc[src] * inv_wss[src]) : T(0);
        }
    }
};

}  // namespace

template <class T>
BufferPtr istft_batch(const SpectraView<T> &s, std::int64_t n_fft, std::int64_t hop, const std::vector<double> &window,
                      bool centre, std::int64_t length, int n_threads) {
    check_istft_args(s.n_bins, s.n_frames, n_fft, hop, window);
    if (s.n_items < 1) throw invalid_input("the batch must hold at least one STFT matrix, got 0");
    const OverlapAdd ola(n_fft, hop, s.n_frames, window, centre, length, T{});
    auto out = make_buffer(dtype_of<T>::value, {s.n_items, ola.out_len});
    auto plan = get_fft_plan<T>(FftKind::c2r, n_fft);
    T *y = out->template as<T>();
    parallel_for(s.n_items, n_threads, [&](std::int64_t b) {
        thread_local std::vector<double> acc;
        ola.run(s.data + b * s.item_stride, s.bin_stride, s.frame_stride, *plan, acc, y + b * ola.out_len);
    });
    return out;
}

template <class T>
BufferPtr istft(const std::complex<T> *X, std::int64_t n_bins, std::int64_t n_frames, std::int64_t bin_stride,
                std::int64_t frame_stride, std::int64_t n_fft, std::int64_t hop, const std::vector<double> &window,
                bool centre, std::int64_t length) {
    check_istft_args(n_bins, n_frames, n_fft, hop, window);
    const OverlapAdd ola(n_fft, hop, n_frames, window, centre, length, T{});
    auto out = make_buffer(dtype_of<T>::value, {ola.out_len});
    std::vector<double> acc;
    ola.run(X, bin_stride, frame_stride, *get_fft_plan<T>(FftKind::c2r, n_fft), acc, out->template as<T>());
    return out;
}

template <class T>
BufferPtr griffin_lim(const T *magnitude, std::int64_t n_bins, std::int64_t n_frames, std::int64_t bin_stride,
                      std::int64_t frame_stride, const SpectrogramPlan<T> &plan, int n_iter, double momentum,
                      const std::vector<std::complex<T>> &initial_phase, std::int64_t length) {
    const auto &c = plan.config();
    if (c.quantity != Quantity::complex || c.scale != Scale::linear)
        throw internal_error("griffin_lim needs a complex STFT plan");
    const std::int64_t n_fft = c.stft.n_fft, hop = c.stft.hop_size;
    check_istft_args(n_bins, n_frames, n_fft, hop, c.stft.window);
    if (n_iter < 0) throw invalid_input("n_iter must be >= 0, got " + std::to_string(n_iter));
    if (!(std::isfinite(momentum) && momentum >= 0))
        throw invalid_input("momentum must be finite and >= 0, got " + std::to_string(momentum));
    const std::int64_t cells = n_bins * n_frames;
    if (!initial_phase.empty() && static_cast<std::int64_t>(initial_phase.size()) != cells)
        throw dimension_mismatch("initial phases must have n_bins * n_frames = " + std::to_string(cells) +
                                 " values, got " + std::to_string(initial_phase.size()));

    // S, the target magnitude, compact (bin, frame); angles as unit complex numbers.
    std::vector<T> S(static_cast<std::size_t>(cells));
    for (std::int64_t k = 0; k < n_bins; ++k)
        for (std::int64_t f = 0; f < n_frames; ++f) S[k * n_frames + f] = magnitude[k * bin_stride + f * frame_stride];
    std::vector<std::complex<T>> angles = initial_phase.empty()
                                              ? std::vector<std::complex<T>>(static_cast<std::size_t>(cells), T(1))
                                              : initial_phase;
    std::vector<std::complex<T>> rebuilt(static_cast<std::size_t>(cells), T(0)), product(static_cast<std::size_t>(cells));
    // Iterate on signals of the requested length when their STFT has n_frames frames (as librosa
    // does: the tail past the natural length then takes part), else on the natural length.
    const std::int64_t inner_length = length >= 0 && plan.n_frames(length) == n_frames ? length : -1;
    const OverlapAdd ola(n_fft, hop, n_frames, c.stft.window, c.stft.centre, inner_length, T{});
    auto c2r = get_fft_plan<T>(FftKind::c2r, n_fft);
    std::vector<T> signal(static_cast<std::size_t>(std::max<std::int64_t>(ola.out_len, 1)));
    std::vector<double> acc;
    const T beta = static_cast<T>(momentum / (1.0 + momentum));
    const T eps = std::numeric_limits<T>::min();
    auto inverse = [&](T *out) {
        for (std::int64_t i = 0; i < cells; ++i) product[i] = S[i] * angles[i];
        ola.run(product.data(), n_frames, 1, *c2r, acc, out);
    };
    for (int it = 0; it < n_iter; ++it) {
        inverse(signal.data());
        auto spectra = plan.compute({signal.data(), static_cast<std::int64_t>(signal.size()), 1});
        if (spectra->shape()[1] != n_frames)
            throw internal_error("griffin_lim: frame count changed between iSTFT and STFT");
        const auto *Z = spectra->template as<std::complex<T>>();
        for (std::int64_t i = 0; i < cells; ++i) {
            const std::complex<T> a = Z[i] - beta * rebuilt[i];
            rebuilt[i] = Z[i];
            angles[i] = a / (std::abs(a) + eps);
        }
    }
    const OverlapAdd final_ola(n_fft, hop, n_frames, c.stft.window, c.stft.centre, length, T{});
    auto out = make_buffer(dtype_of<T>::value, {final_ola.out_len});
    for (std::int64_t i = 0; i < cells; ++i) product[i] = S[i] * angles[i];
    final_ola.run(product.data(), n_frames, 1, *c2r, acc, out->template as<T>());
    return out;
}

#define SPECTROGRAMS_INSTANTIATE(T)                                                                                  \
    template BufferPtr istft_batch<T>(const SpectraView<T> &, std::int64_t, std::int64_t, const std::vector<double> &, \
                                      bool, std::int64_t, int);                                                      \
    template BufferPtr istft<T>(const std::complex<T> *, std::int64_t, std::int64_t, std::int64_t, std::int64_t,     \
                                std::int64_t, std::int64_t, const std::vector<double> &, bool, std::int64_t);        \
    template BufferPtr griffin_lim<T>(const T *, std::int64_t, std::int64_t, std::int64_t, std::int64_t,             \
                                      const SpectrogramPlan<T> &, int, double, const std::vector<std::complex<T>> &, \
                                      std::int64_t);
SPECTROGRAMS_INSTANTIATE(float)
SPECTROGRAMS_INSTANTIATE(double)
#undef SPECTROGRAMS_INSTANTIATE

}  // namespace spectrograms
