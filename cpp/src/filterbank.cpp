#include "spectrograms/filterbank.hpp"

#include <algorithm>
#include <cmath>

#include "spectrograms/errors.hpp"

namespace spectrograms {

namespace {
// Appends a row's run from its first to its last nonzero entry; push(value) stores one weight.
template <class Row, class Push>
void append_run(SparseFilterbank &fb, const Row &row, double centre_hz, Push push) {
    std::int64_t first = -1, last = -1;
    for (std::int64_t k = 0; k < static_cast<std::int64_t>(row.size()); ++k) {
        if (row[static_cast<std::size_t>(k)] != 0.0) {
            if (first < 0) first = k;
            last = k;
        }
    }
    fb.start.push_back(first < 0 ? 0 : first);
    fb.count.push_back(first < 0 ? 0 : last - first + 1);
    fb.offset.push_back(static_cast<std::int64_t>(fb.weights.size()));
    for (std::int64_t k = first; first >= 0 && k <= last; ++k) push(row[static_cast<std::size_t>(k)]);
    fb.centres.push_back(centre_hz);
    ++fb.n_bands;
}
}  // namespace

void SparseFilterbank::add_dense_row(const std::vector<double> &row, double centre_hz) {
    append_run(*this, row, centre_hz, [this](double w) { weights.push_back(w); });
}

void SparseFilterbank::add_complex_row(const std::vector<std::complex<double>> &row, double centre_hz) {
    append_run(*this, row, centre_hz, [this](std::complex<double> w) {
        weights.push_back(w.real());
        weights_imag.push_back(w.imag());
    });
}

std::vector<double> SparseFilterbank::dense() const {
    std::vector<double> out(static_cast<std::size_t>(n_bands * n_fft_bins), 0.0);
    for (std::int64_t b = 0; b < n_bands; ++b)
        for (std::int64_t i = 0; i < count[b]; ++i)
            out[static_cast<std::size_t>(b * n_fft_bins + start[b] + i)] = weights[offset[b] + i];
    return out;
}

MelNorm mel_norm_from_string(const std::string &name) {
    std::string n;
    for (char c : name) n += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (n == "none") return MelNorm::none;
    if (n == "slaney") return MelNorm::slaney;
    if (n == "l1") return MelNorm::l1;
    if (n == "l2") return MelNorm::l2;
    throw invalid_input("mel norm must be one of 'none', 'slaney', 'l1', 'l2'; got '" + name + "'");
}

namespace {
constexpr double f_sp = 200.0 / 3.0;
constexpr double min_log_hz = 1000.0;
constexpr double min_log_mel = min_log_hz / f_sp;
const double logstep = std::log(6.4) / 27.0;
}  // namespace

double hz_to_mel(double hz, bool htk) noexcept {
    if (htk) return 2595.0 * std::log10(1.0 + hz / 700.0);
    if (hz >= min_log_hz) return min_log_mel + std::log(hz / min_log_hz) / logstep;
    return hz / f_sp;
}

double mel_to_hz(double mel, bool htk) noexcept {
    if (htk) return 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0);
    if (mel >= min_log_mel) return min_log_hz * std::exp(logstep * (mel - min_log_mel));
    return f_sp * mel;
}

SparseFilterbank mel_filterbank(double sample_rate, std::int64_t n_fft, std::int64_t n_mels,
                                double f_min, double f_max, MelNorm norm, bool htk) {
    if (n_mels < 1) throw invalid_input("n_mels must be >= 1, got " + std::to_string(n_mels));
    const std::int64_t n_bins = n_fft / 2 + 1;
    // The same arithmetic as librosa.filters.mel, step by step, so the weights agree to ulps.
    const std::int64_t n_points = n_mels + 2;
    const double mel_lo = hz_to_mel(f_min, htk), mel_hi = hz_to_mel(f_max, htk);
    const double step = (mel_hi - mel_lo) / static_cast<double>(n_points - 1);
    std::vector<double> mel_f(static_cast<std::size_t>(n_points));
    for (std::int64_t i = 0; i < n_points; ++i)
        mel_f[i] = mel_to_hz(i == n_points - 1 ? mel_hi : mel_lo + static_cast<double>(i) * step, htk);
    const double bin_hz = 1.0 / (static_cast<double>(n_fft) * (1.0 / sample_rate));

    SparseFilterbank fb;
    fb.n_fft_bins = n_bins;
    std::vector<double> row(static_cast<std::size_t>(n_bins));
    for (std::int64_t m = 0; m < n_mels; ++m) {
        const double lower_width = mel_f[m + 1] - mel_f[m];
        const double upper_width = mel_f[m + 2] - mel_f[m + 1];
        for (std::int64_t k = 0; k < n_bins; ++k) {
            const double f = static_cast<double>(k) * bin_hz;
            const double lower = -(mel_f[m] - f) / lower_width;
            const double upper = (mel_f[m + 2] - f) / upper_width;
            row[k] = std::max(0.0, std::min(lower, upper));
        }
        double scale = 1.0;
        if (norm == MelNorm::slaney) {
            scale = 2.0 / (mel_f[m + 2] - mel_f[m]);
            for (double &v : row) v *= scale;
        } else if (norm == MelNorm::l1 || norm == MelNorm::l2) {
            double length = 0.0;
            for (double v : row) length += norm == MelNorm::l1 ? std::abs(v) : v * v;
            if (norm == MelNorm::l2) length = std::sqrt(length);
            if (length >= std::numeric_limits<double>::min())
                for (double &v : row) v /= length;
        }
        fb.add_dense_row(row, mel_f[m + 1]);
    }
    return fb;
}

namespace {
double bin_frequency(std::int64_t k, double sample_rate, std::int64_t n_fft) {
    return static_cast<double>(k) * sample_rate / static_cast<double>(n_fft);
}
}  // namespace

SparseFilterbank erb_filterbank(double sample_rate, std::int64_t n_fft, std::int64_t n_filters,
                                double f_min, double f_max) {
    if (n_filters < 2) throw invalid_input("n_filters must be >= 2, got " + std::to_string(n_filters));
    const std::int64_t n_bins = n_fft / 2 + 1;
    SparseFilterbank fb;
    fb.n_fft_bins = n_bins;
    std::vector<double> row(static_cast<std::size_t>(n_bins));
    const double step = (f_max - f_min) / static_cast<double>(n_filters - 1);
    for (std::int64_t m = 0; m < n_filters; ++m) {
        const double fc = m == n_filters - 1 ? f_max : f_min + static_cast<double>(m) * step;
        const double b = 1.019 * 24.7 * (4.37 * fc / 1000.0 + 1.0);
        double peak = 0.0;
        for (std::int64_t k = 0; k < n_bins; ++k) {
            const double u = (bin_frequency(k, sample_rate, n_fft) - fc) / b;
            const double r = 1.0 + u * u;
            row[k] = 1.0 / ((r * r) * (r * r));
            peak = std::max(peak, row[k]);
        }
        // The response falls monotonically away from fc, so the kept weights are one run.
        for (double &v : row)
            if (v < erb_relative_floor * peak) v = 0.0;
        fb.add_dense_row(row, fc);
    }
    return fb;
}

SparseFilterbank loghz_filterbank(double sample_rate, std::int64_t n_fft, std::int64_t n_bins_out,
                                  double f_min, double f_max) {
    if (n_bins_out < 1) throw invalid_input("n_bins must be >= 1, got " + std::to_string(n_bins_out));
    const std::int64_t n_bins = n_fft / 2 + 1;
    SparseFilterbank fb;
    fb.n_fft_bins = n_bins;
    std::vector<double> row(static_cast<std::size_t>(n_bins), 0.0);
    const double log_ratio = std::log(f_max / f_min);
    for (std::int64_t i = 0; i < n_bins_out; ++i) {
        // np.geomspace: the end points exactly, the inner points f_min (f_max/f_min)^(i/(n-1)).
        double f = f_min;
        if (i == n_bins_out - 1 && n_bins_out > 1) f = f_max;
        else if (i > 0) f = f_min * std::exp(log_ratio * static_cast<double>(i) / static_cast<double>(n_bins_out - 1));
        // Position in FFT bins; past the last bin (odd n_fft, f near Nyquist) the last bin is used.
        const double position = std::min(f * static_cast<double>(n_fft) / sample_rate,
                                         static_cast<double>(n_bins - 1));
        const auto k0 = static_cast<std::int64_t>(std::floor(position));
        const double frac = position - static_cast<double>(k0);
        std::fill(row.begin(), row.end(), 0.0);
        row[k0] = 1.0 - frac;
        if (k0 + 1 < n_bins) row[k0 + 1] = frac;
        fb.add_dense_row(row, f);
    }
    return fb;
}

SparseFilterbank chroma_filterbank(double sample_rate, std::int64_t n_fft, double tuning, double f_min,
                                   double f_max) {
    const std::int64_t n_bins = n_fft / 2 + 1;
    std::vector<std::vector<double>> rows(12, std::vector<double>(static_cast<std::size_t>(n_bins), 0.0));
    bool any = false;
    for (std::int64_t k = 1; k < n_bins; ++k) {
        const double f = bin_frequency(k, sample_rate, n_fft);
        if (f < f_min || f > f_max) continue;
        any = true;
        const double pc = std::fmod(69.0 + 12.0 * std::log2(f / tuning), 12.0);
        const double pitch_class = pc < 0 ? pc + 12.0 : pc;
        for (int c = 0; c < 12; ++c) {
            const double d0 = std::fmod(std::abs(pitch_class - c), 12.0);
            const double d = std::min(d0, 12.0 - d0);
            rows[c][k] = std::exp(-0.5 * d * d);
        }
    }
    if (!any)
        throw invalid_input("no FFT bin lies between f_min (" + std::to_string(f_min) + " Hz) and f_max (" +
                            std::to_string(f_max) + " Hz) at this n_fft and sample rate");
    SparseFilterbank fb;
    fb.n_fft_bins = n_bins;
    for (int c = 0; c < 12; ++c) {
        double sum = 0.0;
        for (double v : rows[c]) sum += v;
        for (double &v : rows[c]) v /= sum;
        fb.add_dense_row(rows[c], tuning * std::pow(2.0, (c - 9) / 12.0));
    }
    return fb;
}

SparseFilterbank cqt_kernels(double sample_rate, std::int64_t n_fft, std::int64_t bins_per_octave,
                             std::int64_t n_bins, double f_min) {
    constexpr double pi = 3.14159265358979323846;
    if (bins_per_octave < 1)
        throw invalid_input("bins_per_octave must be >= 1, got " + std::to_string(bins_per_octave));
    if (n_bins < 1) throw invalid_input("the CQT needs at least one bin, got " + std::to_string(n_bins));
    const double q = 1.0 / (std::pow(2.0, 1.0 / static_cast<double>(bins_per_octave)) - 1.0);
    SparseFilterbank fb;
    fb.n_fft_bins = n_fft;
    std::vector<std::complex<double>> row(static_cast<std::size_t>(n_fft));
    for (std::int64_t k = 0; k < n_bins; ++k) {
        const double fk = f_min * std::pow(2.0, static_cast<double>(k) / static_cast<double>(bins_per_octave));
        // round half to even, as numpy.round
        const double length = std::nearbyint(q * sample_rate / fk);
        const auto n = static_cast<std::int64_t>(std::clamp(length, 1.0, static_cast<double>(n_fft)));
        std::fill(row.begin(), row.end(), std::complex<double>(0.0, 0.0));
        const std::int64_t origin = n_fft - n;
        double peak = 0.0;
        std::vector<double> hann(static_cast<std::size_t>(n), 1.0);
        for (std::int64_t m = 0; n > 1 && m < n; ++m)
            hann[m] = 0.5 - 0.5 * std::cos(2.0 * pi * static_cast<double>(m) / static_cast<double>(n - 1));
        for (double h : hann) peak = std::max(peak, h);
        double energy = 0.0;
        for (std::int64_t m = 0; m < n; ++m) {
            // |kernel[m]| = hann[m]: entries below 1 % of the peak are dropped
            if (hann[m] < 0.01 * peak) continue;
            const double phase = 2.0 * pi * fk * static_cast<double>(m) / sample_rate;
            row[origin + m] = std::polar(hann[m], phase);
            energy += hann[m] * hann[m];
        }
        const double norm = std::sqrt(energy);
        for (std::int64_t m = 0; m < n; ++m) row[origin + m] /= norm;
        fb.add_complex_row(row, fk);
    }
    return fb;
}

}  // namespace spectrograms
