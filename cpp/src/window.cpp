#include "spectrograms/window.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "spectrograms/errors.hpp"

namespace spectrograms {

namespace {
constexpr double pi = 3.14159265358979323846;

// Modified Bessel function of the first kind, order 0, by its power series; the terms shrink
// fast enough for every beta a window uses, and this matches np.i0 to a few ulp.
double bessel_i0(double x) {
    const double q = x * x / 4.0;
    double term = 1.0, sum = 1.0;
    for (int k = 1; k < 500; ++k) {
        term *= q / (static_cast<double>(k) * k);
        sum += term;
        if (term < sum * 1e-17) break;
    }
    return sum;
}
}  // namespace

std::vector<double> make_window(WindowKind kind, std::int64_t n, double param) {
    if (n < 1) throw invalid_input("window length must be >= 1, got " + std::to_string(n));
    std::vector<double> w(static_cast<std::size_t>(n), 1.0);
    if (n == 1) return w;
    const double m = static_cast<double>(n - 1);
    for (std::int64_t k = 0; k < n; ++k) {
        const double x = static_cast<double>(k);
        double v = 1.0;
        switch (kind) {
            case WindowKind::rectangular: v = 1.0; break;
            case WindowKind::hanning: v = 0.5 - 0.5 * std::cos(2.0 * pi * x / m); break;
            case WindowKind::hamming: v = 0.54 - 0.46 * std::cos(2.0 * pi * x / m); break;
            case WindowKind::blackman:
                v = 0.42 - 0.5 * std::cos(2.0 * pi * x / m) + 0.08 * std::cos(4.0 * pi * x / m);
                break;
            case WindowKind::kaiser: {
                const double r = 2.0 * x / m - 1.0;
                v = bessel_i0(param * std::sqrt(std::max(0.0, 1.0 - r * r))) / bessel_i0(param);
                break;
            }
            case WindowKind::gaussian: {
                const double d = (x - m / 2.0) / param;
                v = std::exp(-0.5 * d * d);
                break;
            }
        }
        w[static_cast<std::size_t>(k)] = v;
    }
    // numpy's blackman gives -1e-17 at the ends; keep the exact zero a user would expect.
    if (kind == WindowKind::blackman) {
        w.front() = std::max(0.0, w.front());
        w.back() = std::max(0.0, w.back());
    }
    return w;
}

WindowKind window_kind_from_string(const std::string &name) {
    if (name == "rectangular") return WindowKind::rectangular;
    if (name == "hanning") return WindowKind::hanning;
    if (name == "hamming") return WindowKind::hamming;
    if (name == "blackman") return WindowKind::blackman;
    if (name == "kaiser") return WindowKind::kaiser;
    if (name == "gaussian") return WindowKind::gaussian;
    throw invalid_input("window kind must be one of rectangular, hanning, hamming, blackman, "
                        "kaiser, gaussian; got '" + name + "'");
}

std::vector<double> normalize_window(std::vector<double> w, const std::string &how) {
    if (how == "none" || how.empty()) return w;
    double scale = 0.0;
    if (how == "sum") {
        scale = std::accumulate(w.begin(), w.end(), 0.0);
    } else if (how == "peak" || how == "max") {
        for (double v : w) scale = std::max(scale, std::abs(v));
    } else if (how == "energy") {
        for (double v : w) scale += v * v;
        scale = std::sqrt(scale);
    } else if (how == "rms") {
        for (double v : w) scale += v * v;
        scale = std::sqrt(scale / static_cast<double>(w.size()));
    } else {
        throw invalid_input("window normalisation must be one of None, 'sum', 'peak', 'max', "
                            "'energy', 'rms'; got '" + how + "'");
    }
    if (!(std::abs(scale) > 0.0) || !std::isfinite(scale))
        throw invalid_input("cannot normalise a window by '" + how + "': the norm is " +
                            std::to_string(scale));
    for (double &v : w) v /= scale;
    return w;
}

}  // namespace spectrograms
