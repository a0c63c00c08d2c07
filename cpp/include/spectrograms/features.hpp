// Features computed from a spectrogram plan's output: MFCC (log-mel -> DCT-II -> lifter).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "buffer.hpp"
#include "framing.hpp"
#include "plan.hpp"

namespace spectrograms {

enum class DctNorm : std::uint8_t { none, ortho };
/// Parses "none" or "ortho"; throws invalid_input naming them.
DctNorm dct_norm_from_string(const std::string &name);

struct MfccConfig {
    std::int64_t n_mfcc = 13;
    /// none: c_k = sum_n x_n cos(pi k (n + 1/2) / N); ortho: that times sqrt(1/N) for k = 0 and
    /// sqrt(2/N) otherwise (scipy.fft.dct(type=2, norm="ortho")).
    DctNorm dct_norm = DctNorm::none;
    /// L > 0 multiplies c_k by 1 + (L/2) sin(pi k / L) (c_0 is kept); 0 leaves the coefficients.
    double lifter = 22.0;
    /// The log: 10 log10(max(mel power, 10^(floor_db / 10))).
    double floor_db = -80.0;
    /// > 0: each signal's log-mel values are first raised to at least (their maximum - top_db),
    /// as librosa.power_to_db(top_db=...) does; 0 disables it.
    double top_db = 0.0;
};

/// The (n_mfcc x n_mels) matrix that maps one frame of log-mel values to its coefficients, with
/// the DCT normalisation and the lifter folded in; row-major.
std::vector<double> mfcc_dct_matrix(const MfccConfig &config, std::int64_t n_mels);

/// MFCC: the mel power spectrogram of a mel plan, then per signal the log (with the optional
/// top_db clamp) and the DCT matrix. Immutable and thread-safe.
template <class T> class MfccPlan {
  public:
    using value_type = T;
    /// `mel` is a mel plan's config (its quantity is replaced by power). Throws invalid_input for
    /// another scale, n_mfcc outside [1, n_mels], or a negative or non-finite lifter or top_db,
    /// or a non-finite floor_db.
    MfccPlan(PlanConfig mel, MfccConfig mfcc);

    const SpectrogramPlan<T> &mel_plan() const noexcept { return mel_; }
    const MfccConfig &config() const noexcept { return config_; }
    std::int64_t n_mfcc() const noexcept { return config_.n_mfcc; }

    /// (n_mfcc, n_frames).
    BufferPtr compute(const SignalView<T> &signal, int n_threads = 1) const;
    /// (B, n_mfcc, max_frames), item b zero past its own frames; each item equals compute().
    BufferPtr compute_batch(const std::vector<SignalView<T>> &signals, int n_threads = 1,
                            bool pad = true) const;

  private:
    /// mel power (n_mels rows, row stride `mel_stride`, n_frames used; overwritten by its log) ->
    /// out (n_mfcc rows, row stride `out_stride`).
    void finish(T *mel, std::int64_t mel_stride, std::int64_t n_frames, T *out, std::int64_t out_stride) const;

    MfccConfig config_;
    SpectrogramPlan<T> mel_;
    std::vector<T> dct_;
};

extern template class MfccPlan<float>;
extern template class MfccPlan<double>;

}  // namespace spectrograms
