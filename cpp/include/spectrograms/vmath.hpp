// Elementwise and small dense kernels of the feature stages, with SIMD versions picked at run
// time.
#pragma once

#include <cstdint>

namespace spectrograms {

/// x[i] = scale * ln(max(x[i], floor)) for i < n. With glibc's libmvec on an AVX2 machine every
/// element goes through its 4-lane (double) or 8-lane (float) log, the tail too, so an element's
/// bits do not depend on its position; otherwise std::log. Either is within 4 ulp of ln.
void scaled_log_floor(double *x, std::int64_t n, double floor, double scale) noexcept;
void scaled_log_floor(float *x, std::int64_t n, float floor, float scale) noexcept;

/// out[k * os + t] = sum over m of d[k * n_in + m] * x[m * xs + t], for k < n_out and t < n_cols;
/// the sum runs over m in order, so the AVX2 and baseline versions give the same bits.
void dense_rows(const double *d, std::int64_t n_out, std::int64_t n_in, const double *x, std::int64_t xs,
                std::int64_t n_cols, double *out, std::int64_t os) noexcept;
void dense_rows(const float *d, std::int64_t n_out, std::int64_t n_in, const float *x, std::int64_t xs,
                std::int64_t n_cols, float *out, std::int64_t os) noexcept;

/// The largest of init and x[k * xs + t] for k < n_rows, t < n_cols, by std::max's rule (a NaN
/// element is passed over); max is exact, so the lanes' order changes nothing.
double max_rows(const double *x, std::int64_t n_rows, std::int64_t xs, std::int64_t n_cols, double init) noexcept;
float max_rows(const float *x, std::int64_t n_rows, std::int64_t xs, std::int64_t n_cols, float init) noexcept;

/// Whether scaled_log_floor uses libmvec on this machine.
bool vector_log_available() noexcept;

}  // namespace spectrograms
