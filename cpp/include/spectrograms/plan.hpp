// A spectrogram plan: window + FFT plan + optional sparse filterbank + post-step.
// Immutable after construction and safe to use from many threads at once.
#pragma once
#include <complex>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "buffer.hpp"
#include "fft.hpp"
#include "filterbank.hpp"
#include "framing.hpp"

namespace spectrograms {

/// Rows of the output: FFT bins, or bands of a filterbank applied to power (mel, ERB, log-Hz), or
/// the 12 pitch classes of a chromagram (a filterbank on |X|, then each frame normalised), or
/// constant-Q bins (complex kernels applied to the unwindowed frame, see cqt_kernels).
enum class Scale : std::uint8_t { linear, mel, erb, loghz, chroma, cqt };
/// What each output cell holds: the complex STFT, |X|^2, |X| (on filterbank scales
/// sqrt(filterbank @ |X|^2)), or 10 log10(max(power, 10^(floor_db/10))).
enum class Quantity : std::uint8_t { complex, power, magnitude, db };

struct StftConfig {
    std::int64_t n_fft = 512;
    std::int64_t hop_size = 256;
    bool centre = true;
    std::vector<double> window;  ///< n_fft coefficients
};

struct MelConfig {
    std::int64_t n_mels = 128;
    double f_min = 0.0;
    double f_max = 0.0;
    MelNorm norm = MelNorm::none;
    bool htk = false;
};

/// ERB filters (n_bands = n_filters) or log-Hz bins (n_bands = n_bins) between f_min and f_max.
struct BandConfig {
    std::int64_t n_bands = 0;
    double f_min = 0.0;
    double f_max = 0.0;
};

/// How each chroma frame is scaled: not at all, to unit L1 or L2 norm, or to a maximum of 1.
/// All-zero frames stay zero.
enum class ChromaNorm : std::uint8_t { none, l1, l2, max };
/// Parses "none", "l1", "l2", "max"; throws invalid_input naming them.
ChromaNorm chroma_norm_from_string(const std::string &name);

struct ChromaConfig {
    double tuning = 440.0;  ///< frequency of A4 in Hz
    double f_min = 32.7;
    double f_max = 4186.0;  ///< may exceed Nyquist: only the bins that exist are used
    ChromaNorm norm = ChromaNorm::l2;
};

struct CqtConfig {
    std::int64_t bins_per_octave = 12;
    std::int64_t n_bins = 84;
    double f_min = 32.70319566257483;  ///< the top bin f_min 2^((n_bins-1)/bins_per_octave) < Nyquist
};

struct PlanConfig {
    StftConfig stft;
    double sample_rate = 16000.0;
    Scale scale = Scale::linear;
    Quantity quantity = Quantity::power;
    double floor_db = -80.0;
    MelConfig mel;
    BandConfig erb;
    BandConfig loghz;
    ChromaConfig chroma;  ///< with Scale::chroma, whose quantity must be magnitude
    CqtConfig cqt;        ///< with Scale::cqt, which ignores the window (frames are not windowed)
};

/// Throws invalid_input (or dimension_mismatch for a window of the wrong length) with a message
/// that says what was expected and what came in.
void validate(const PlanConfig &config);

/// Frames processed together: windowed frames, their spectra and the power tile of one block
/// stay in L1/L2 cache.
inline constexpr std::int64_t frames_per_block = 16;

template <class T> class SpectrogramPlan {
  public:
    using complex_type = std::complex<T>;
    explicit SpectrogramPlan(PlanConfig config);

    const PlanConfig &config() const noexcept { return config_; }
    /// Rows of the output: n_fft/2+1 on the linear scale, else the number of bands.
    std::int64_t n_bins() const noexcept { return n_bins_; }
    std::int64_t n_frames(std::int64_t signal_length) const noexcept {
        return n_frames_for(signal_length, config_.stft.n_fft, config_.stft.hop_size,
                            config_.stft.centre);
    }
    DType output_dtype() const noexcept;
    /// Row frequencies in Hz: k sr / n_fft, or the band centres.
    std::vector<double> frequencies() const;
    /// The filterbank (empty on the linear scale).
    const SparseFilterbank &filterbank() const noexcept { return filterbank_; }
    const std::vector<T> &window() const noexcept { return window_; }

    /// (n_bins, n_frames) for one signal.
    BufferPtr compute(const SignalView<T> &signal, int n_threads = 1) const;
    /// (B, n_bins, max_frames), item b zero past its own n_frames. Work is split over items and
    /// over blocks of frames, so one long signal also uses every thread. Throws
    /// dimension_mismatch when pad is false and the frame counts differ.
    BufferPtr compute_batch(const std::vector<SignalView<T>> &signals, int n_threads = 1,
                            bool pad = true) const;
    /// Column frame_index of compute(signal), as a 1-D buffer; std::out_of_range past the end.
    BufferPtr compute_frame(const SignalView<T> &signal, std::int64_t frame_index) const;

    /// Frames per signal; throws invalid_input for an empty list or an empty signal.
    std::vector<std::int64_t> frame_counts(const std::vector<SignalView<T>> &signals) const;

    /// The precision the cells are computed in: float64 for a float32 plan of the linear scale in
    /// dB (see wide_), else the plan's own.
    DType compute_dtype() const noexcept { return wide_ ? DType::f64 : dtype_of<T>::value; }
    /// Whether compute takes the column path (float64, 2048 points and more, a filterbank tile
    /// without mirror bins, AVX2): each frame's tile column computed right after its FFT.
    bool column_path() const noexcept;
    /// Whether that path also windows in the frequency domain: the window is a periodic cosine
    /// window a0 - a1 cos(2 pi n / n_fft) (periodic Hann, Hamming).
    bool frequency_window() const noexcept;

  private:
    template <class U> friend class SpectrogramPlan;
    /// Whether a full block's tile splits the unsplit spectra itself (filterbank scales, even
    /// n_fft, AVX2): the condition under both the block tile's split and the column path.
    bool fused_split() const noexcept;
    /// Frames [first, last) of `signal` into out, whose row k starts at out + k * row_stride
    /// (in output elements) and whose column for frame f is f - column_origin.
    void compute_frames(const SignalView<T> &signal, void *out, std::int64_t row_stride,
                        std::int64_t first, std::int64_t last, std::int64_t column_origin) const;
    void run(const std::vector<SignalView<T>> &signals, const std::vector<std::int64_t> &frames,
             std::int64_t max_frames, int n_threads, void *out) const;
    void run_wide(const std::vector<SignalView<T>> &signals, const std::vector<std::int64_t> &frames,
                  std::int64_t max_frames, int n_threads, void *out) const;
    /// tile_ready: the filterbank tile already holds the block's power or magnitude (the column
    /// path of compute_frames), so spectra is not read.
    void emit_block(const complex_type *spectra, std::int64_t count, T *tile, void *out,
                    std::int64_t row_stride, std::int64_t column, bool unsplit, bool tile_ready = false) const;
    /// Power -> the plan's quantity (magnitude or dB), in place.
    void finish_cells(T *row, std::int64_t count) const;
    void emit_cqt_block(const T *frames, std::int64_t count, T *tile, void *out, std::int64_t row_stride,
                        std::int64_t column) const;

    PlanConfig config_;
    std::int64_t n_fft_bins_;
    std::int64_t n_bins_;
    std::int64_t padded_frame_;     ///< frame row stride in scratch, a multiple of 64 bytes
    std::int64_t padded_spectrum_;  ///< spectrum row stride in scratch, likewise
    T floor_power_;
    T floor_log_;  ///< (10 / ln 10) ln(floor_power_) as finish_cells computes it
    std::vector<T> window_;
    std::shared_ptr<const FftPlan<T>> fft_;
    SparseFilterbank filterbank_;
    std::vector<T> band_weights_;
    std::vector<T> band_weights_imag_;  ///< CQT only
    std::int64_t tile_first_ = 0, tile_last_ = 0;  ///< bins (CQT: samples) [first, last) it reads
    /// Whether the window is a0 - a1 cos(2 pi n / n_fft) (periodic Hann, Hamming), to within a few
    /// rounding errors; cosine_h_ = a1 / 2. The column path of compute_frames then windows in
    /// the frequency domain.
    bool cosine_window_ = false;
    double cosine_a0_ = 0, cosine_h_ = 0;
    std::vector<double> column_twiddles_;  ///< float64 cosine windows: the column path's split factors
    bool column_wide_ = false;             ///< ... for its AVX-512 kernel
    /// Float32 plans of the linear scale in dB compute in float64 and round each cell once. A
    /// linear dB cell is one FFT bin, and float32 rounding in the window product and the FFT is
    /// relative to the frame's energy: a bin 80-100 dB below its frame's peak comes out ~1e-3 to
    /// 1e-2 dB off, which the logarithm shows. This float64 plan (with the float32 window's exact
    /// coefficients) computes such plans' cells from the float32 samples, upcast exactly; every
    /// other plan computes in its own dtype. Null for every other plan.
    std::shared_ptr<const SpectrogramPlan<double>> wide_;
};

/// Inverse STFT by weighted overlap-add (librosa.istft with the same window): each frame's
/// irfft times the window, summed, divided by the summed squared window where that exceeds the
/// smallest normal number; centre trimming; `length` >= 0 trims or zero-pads to that length.
/// `spectra` is (n_fft/2+1, n_frames) read through element strides. Defined in reconstruct.cpp.
template <class T>
BufferPtr istft(const std::complex<T> *spectra, std::int64_t n_bins, std::int64_t n_frames,
                std::int64_t bin_stride, std::int64_t frame_stride, std::int64_t n_fft,
                std::int64_t hop_size, const std::vector<double> &window, bool centre,
                std::int64_t length = -1);

extern template class SpectrogramPlan<float>;
extern template class SpectrogramPlan<double>;

}  // namespace spectrograms
