#include "spectrograms/features.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "spectrograms/errors.hpp"
#include "spectrograms/thread_pool.hpp"
#include "spectrograms/vmath.hpp"

namespace spectrograms {

namespace {
constexpr double pi = 3.14159265358979323846;

PlanConfig checked_mel(PlanConfig mel, const MfccConfig &m) {
    if (mel.scale != Scale::mel) throw invalid_input("an MFCC plan is built on a mel plan");
    mel.quantity = Quantity::power;
    if (!std::isfinite(m.floor_db)) throw invalid_input("floor_db must be finite, got " + std::to_string(m.floor_db));
    if (m.n_mfcc < 1 || m.n_mfcc > mel.mel.n_mels)
        throw invalid_input("n_mfcc must be between 1 and n_mels (" + std::to_string(mel.mel.n_mels) + "), got " +
                            std::to_string(m.n_mfcc));
    if (!(std::isfinite(m.lifter) && m.lifter >= 0))
        throw invalid_input("lifter must be finite and >= 0, got " + std::to_string(m.lifter));
    if (!(std::isfinite(m.top_db) && m.top_db >= 0))
        throw invalid_input("top_db must be finite and >= 0 (0: none), got " + std::to_string(m.top_db));
    return mel;
}
}  // namespace

DctNorm dct_norm_from_string(const std::string &name) {
    if (name == "none") return DctNorm::none;
    if (name == "ortho") return DctNorm::ortho;
    throw invalid_input("dct_norm must be 'none' or 'ortho'; got '" + name + "'");
}

std::vector<double> mfcc_dct_matrix(const MfccConfig &c, std::int64_t n_mels) {
    const double n = static_cast<double>(n_mels);
    std::vector<double> d(static_cast<std::size_t>(c.n_mfcc * n_mels));
    for (std::int64_t k = 0; k < c.n_mfcc; ++k) {
        double scale = 1.0;
        if (c.dct_norm == DctNorm::ortho) scale = std::sqrt((k == 0 ? 1.0 : 2.0) / n);
        if (c.lifter > 0) scale *= 1.0 + c.lifter / 2.0 * std::sin(pi * static_cast<double>(k) / c.lifter);
        for (std::int64_t m = 0; m < n_mels; ++m)
            d[static_cast<std::size_t>(k * n_mels + m)] =
                scale * std::cos(pi * static_cast<double>(k) * (static_cast<double>(m) + 0.5) / n);
    }
    return d;
}

template <class T>
MfccPlan<T>::MfccPlan(PlanConfig mel, MfccConfig mfcc)
    : config_(mfcc), mel_(checked_mel(std::move(mel), mfcc)) {
    const auto d = mfcc_dct_matrix(config_, mel_.n_bins());
    dct_.assign(d.begin(), d.end());
}

template <class T>
void MfccPlan<T>::finish(T *mel, std::int64_t ms, std::int64_t n_frames, T *out, std::int64_t os) const {
    const std::int64_t n_mels = mel_.n_bins();
    // The floor in the power domain: 10^(floor_db/10), and with top_db the signal's largest power
    // (itself floored) times 10^(-top_db/10), which is librosa's max(S_db, S_db.max() - top_db).
    T floor = static_cast<T>(std::pow(10.0, config_.floor_db / 10.0));
    if (config_.top_db > 0) {
        const T top = max_rows(mel, n_mels, ms, n_frames, floor);
        floor = std::max(floor, top * static_cast<T>(std::pow(10.0, -config_.top_db / 10.0)));
    }
    // 10 log10(x) as (10 / ln 10) ln(x): ln has a vector version (libmvec) where log10 has none.
    const T db_per_neper = static_cast<T>(10.0 / std::log(10.0));
    for (std::int64_t m = 0; m < n_mels; ++m) scaled_log_floor(mel + m * ms, n_frames, floor, db_per_neper);
    // out = D @ log_mel, a row of coefficients at a time so that the inner loop runs over frames.
    dense_rows(dct_.data(), config_.n_mfcc, n_mels, mel, ms, n_frames, out, os);
}

template <class T> BufferPtr MfccPlan<T>::compute(const SignalView<T> &signal, int n_threads) const {
    auto log_mel = mel_.compute(signal, n_threads);
    const std::int64_t n_frames = log_mel->shape()[1];
    auto out = make_buffer(dtype_of<T>::value, {config_.n_mfcc, n_frames});
    finish(log_mel->template as<T>(), n_frames, n_frames, out->template as<T>(), n_frames);
    return out;
}

template <class T>
BufferPtr MfccPlan<T>::compute_batch(const std::vector<SignalView<T>> &signals, int n_threads, bool pad) const {
    const auto frames = mel_.frame_counts(signals);
    auto log_mel = mel_.compute_batch(signals, n_threads, pad);
    const std::int64_t n_items = log_mel->shape()[0], n_mels = log_mel->shape()[1], max_frames = log_mel->shape()[2];
    auto out = make_buffer(dtype_of<T>::value, {n_items, config_.n_mfcc, max_frames}, true);
    T *mel = log_mel->template as<T>();
    T *o = out->template as<T>();
    parallel_for(n_items, n_threads, [&](std::int64_t b) {
        finish(mel + b * n_mels * max_frames, max_frames, frames[static_cast<std::size_t>(b)],
               o + b * config_.n_mfcc * max_frames, max_frames);
    });
    return out;
}

template class MfccPlan<float>;
template class MfccPlan<double>;

}  // namespace spectrograms
