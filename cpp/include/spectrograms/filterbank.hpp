// Sparse filterbanks: each band keeps its first FFT bin and its run of weights.
#pragma once
#include <complex>
#include <cstdint>
#include <string>
#include <vector>

namespace spectrograms {

/// Row-sparse (n_bands x n_fft_bins) weights. Band b covers bins start[b] .. start[b]+count[b]-1
/// with weights[offset[b] ...]. Built in double; plans cast the weights to their precision.
struct SparseFilterbank {
    std::int64_t n_bands = 0;
    std::int64_t n_fft_bins = 0;
    std::vector<std::int64_t> start, count, offset;
    std::vector<double> weights;
    std::vector<double> weights_imag;  ///< imaginary parts, same layout; only complex kernels (CQT)
    std::vector<double> centres;  ///< band centre frequencies in Hz

    /// Appends a band from a dense row, keeping its first to last nonzero weight.
    void add_dense_row(const std::vector<double> &row, double centre_hz);
    /// Appends a complex band (real parts to weights, imaginary to weights_imag), keeping its
    /// first to last nonzero weight.
    void add_complex_row(const std::vector<std::complex<double>> &row, double centre_hz);
    /// Dense copy, row-major (n_bands, n_fft_bins); for tests and exported layers.
    std::vector<double> dense() const;
};

enum class MelNorm { none, slaney, l1, l2 };
MelNorm mel_norm_from_string(const std::string &name);

/// Slaney (htk=false) or HTK mel scale, as librosa.hz_to_mel / mel_to_hz.
double hz_to_mel(double hz, bool htk) noexcept;
double mel_to_hz(double mel, bool htk) noexcept;

/// librosa.filters.mel(sr, n_fft, n_mels, fmin, fmax, htk, norm) in float64, stored sparsely.
/// Centres are the n_mels inner points of the n_mels + 2 mel-spaced frequencies.
SparseFilterbank mel_filterbank(double sample_rate, std::int64_t n_fft, std::int64_t n_mels,
                                double f_min, double f_max, MelNorm norm, bool htk);

/// Weights of an ERB band below this fraction of the band's peak are dropped (the response is
/// never exactly zero; this keeps the low bands sparse and changes outputs by < 1e-9 relative).
inline constexpr double erb_relative_floor = 1e-10;

/// ERB filterbank: centres linspace(f_min, f_max, n_filters) in Hz, bandwidth
/// b = 1.019 * 24.7 * (4.37 fc / 1000 + 1), power response |1 + j (f - fc) / b|^-8 at each FFT
/// bin frequency f = k sr / n_fft, no normalisation; applied to power.
SparseFilterbank erb_filterbank(double sample_rate, std::int64_t n_fft, std::int64_t n_filters,
                                double f_min, double f_max);

/// Log-frequency filterbank: n_bins geometric frequencies from f_min to f_max inclusive; each
/// band linearly interpolates the power spectrum between the two FFT bins around its frequency
/// (a 2-tap filter). Centres are those frequencies.
SparseFilterbank loghz_filterbank(double sample_rate, std::int64_t n_fft, std::int64_t n_bins,
                                  double f_min, double f_max);

/// Chroma weights (12 x n_fft/2+1) on |X|: each bin with f_min <= f <= f_max (and f > 0) has pitch
/// class pc = (69 + 12 log2(f / tuning)) mod 12 and gives chroma c the weight exp(-d^2 / 2), d the
/// circular distance between pc and c; each chroma row is then scaled to sum to 1. Row 0 is C.
/// Centres are the pitch classes' frequencies in octave 4. Throws invalid_input when no bin lies
/// in [f_min, f_max].
SparseFilterbank chroma_filterbank(double sample_rate, std::int64_t n_fft, double tuning, double f_min,
                                   double f_max);

/// Constant-Q kernels in the time domain, over the n_fft samples of an unwindowed frame (so
/// n_fft_bins = n_fft here): bin k has f_k = f_min 2^(k / bins_per_octave),
/// Q = 1 / (2^(1/bins_per_octave) - 1), N_k = clamp(round(Q sr / f_k), 1, n_fft) and kernel
/// exp(2 pi i f_k m / sr) hann_sym(N_k)[m], entries below 1 % of its peak set to zero, then
/// L2-normalised and right-aligned at sample n_fft - N_k. X_k = sum conj(K_k[m]) frame[...].
/// Centres are the f_k.
SparseFilterbank cqt_kernels(double sample_rate, std::int64_t n_fft, std::int64_t bins_per_octave,
                             std::int64_t n_bins, double f_min);

}  // namespace spectrograms
