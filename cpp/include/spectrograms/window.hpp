// Window kinds and their coefficients. All built-in windows are symmetric (numpy/scipy sym=True).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace spectrograms {

enum class WindowKind { rectangular, hanning, hamming, blackman, kaiser, gaussian };

/// Symmetric window of length n: np.hanning, np.hamming, np.blackman, np.kaiser(n, param),
/// scipy.signal.windows.gaussian(n, std=param, sym=True), or ones. n == 1 gives [1].
std::vector<double> make_window(WindowKind kind, std::int64_t n, double param = 0.0);

/// Parses "rectangular", "hanning", ...; throws invalid_input naming the accepted kinds.
WindowKind window_kind_from_string(const std::string &name);

/// Scales custom coefficients: "none", "sum" (sum 1), "peak"/"max" (max |w| 1),
/// "energy" (sum w^2 = 1), "rms" (rms 1). Throws invalid_input for an all-zero window.
std::vector<double> normalize_window(std::vector<double> coefficients, const std::string &how);

}  // namespace spectrograms
