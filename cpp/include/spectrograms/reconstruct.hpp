// From spectra back to signals: batched inverse STFT and fast Griffin-Lim phase reconstruction.
#pragma once
#include <complex>
#include <cstdint>
#include <vector>

#include "buffer.hpp"
#include "plan.hpp"

namespace spectrograms {

/// Where a batch of complex (n_bins, n_frames) matrices lives: element strides between items,
/// rows (bins) and columns (frames).
template <class T> struct SpectraView {
    const std::complex<T> *data;
    std::int64_t n_items, n_bins, n_frames;
    std::int64_t item_stride, bin_stride, frame_stride;
};

/// Inverse STFT of every item (librosa.istft semantics, see istft()), items in parallel on up to
/// n_threads threads. Output (n_items, length) C-contiguous; length < 0 means the natural length.
template <class T>
BufferPtr istft_batch(const SpectraView<T> &spectra, std::int64_t n_fft, std::int64_t hop_size,
                      const std::vector<double> &window, bool centre, std::int64_t length, int n_threads);

/// Fast Griffin-Lim (Perraudin, Balazs & Sondergaard 2013), as librosa.griffinlim: alternate
/// iSTFT and STFT of the plan's framing, with momentum, from the given initial phases
/// (n_bins x n_frames unit complex numbers, or empty for all-ones). `magnitude` is read
/// through element strides. The plan must compute the complex STFT.
template <class T>
BufferPtr griffin_lim(const T *magnitude, std::int64_t n_bins, std::int64_t n_frames, std::int64_t bin_stride,
                      std::int64_t frame_stride, const SpectrogramPlan<T> &stft_plan, int n_iter, double momentum,
                      const std::vector<std::complex<T>> &initial_phase, std::int64_t length);

}  // namespace spectrograms
