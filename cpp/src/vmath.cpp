#include "spectrograms/vmath.hpp"

#include <algorithm>
#include <cmath>

#include "simd.hpp"

#if defined(SPECTROGRAMS_HAVE_LIBMVEC) && defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SPECTROGRAMS_MVEC 1
#include <immintrin.h>
#endif

namespace spectrograms {

namespace {

template <class T> void scaled_log_floor_scalar(T *x, std::int64_t n, T floor, T scale) noexcept {
    for (std::int64_t i = 0; i < n; ++i) x[i] = scale * std::log(std::max(x[i], floor));
}

template <class T>
[[gnu::always_inline]] inline void dense_rows_body(const T *d, std::int64_t n_out, std::int64_t n_in, const T *x,
                                                   std::int64_t xs, std::int64_t n_cols, T *out,
                                                   std::int64_t os) noexcept {
    for (std::int64_t k = 0; k < n_out; ++k) {
        T *__restrict row = out + k * os;
        std::fill(row, row + n_cols, T(0));
        const T *w = d + k * n_in;
        for (std::int64_t m = 0; m < n_in; ++m) {
            const T wm = w[m];
            const T *__restrict xm = x + m * xs;
            for (std::int64_t t = 0; t < n_cols; ++t) row[t] += wm * xm[t];
        }
    }
}

#ifdef SPECTROGRAMS_MVEC
#pragma GCC push_options
#pragma GCC target("avx2")
// glibc's vector ABI names (libmvec): the AVX2 variants of log and logf.
extern "C" __m256d _ZGVdN4v_log(__m256d);
extern "C" __m256 _ZGVdN8v_logf(__m256);

// max(floor, v) returns v when v is NaN, as std::max(v, floor) does.
__attribute__((target("avx2"))) void scaled_log_floor_avx2(double *x, std::int64_t n, double floor,
                                                           double scale) noexcept {
    const __m256d f = _mm256_set1_pd(floor), s = _mm256_set1_pd(scale);
    std::int64_t i = 0;
    for (; i + 4 <= n; i += 4)
        _mm256_storeu_pd(x + i, _mm256_mul_pd(s, _ZGVdN4v_log(_mm256_max_pd(f, _mm256_loadu_pd(x + i)))));
    if (i < n) {  // the tail through the same function, padded with the floor
        alignas(32) double lane[4] = {floor, floor, floor, floor};
        std::copy(x + i, x + n, lane);
        _mm256_store_pd(lane, _mm256_mul_pd(s, _ZGVdN4v_log(_mm256_max_pd(f, _mm256_load_pd(lane)))));
        std::copy(lane, lane + (n - i), x + i);
    }
}

__attribute__((target("avx2"))) void scaled_log_floor_avx2(float *x, std::int64_t n, float floor,
                                                           float scale) noexcept {
    const __m256 f = _mm256_set1_ps(floor), s = _mm256_set1_ps(scale);
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(x + i, _mm256_mul_ps(s, _ZGVdN8v_logf(_mm256_max_ps(f, _mm256_loadu_ps(x + i)))));
    if (i < n) {
        alignas(32) float lane[8];
        std::fill(lane, lane + 8, floor);
        std::copy(x + i, x + n, lane);
        _mm256_store_ps(lane, _mm256_mul_ps(s, _ZGVdN8v_logf(_mm256_max_ps(f, _mm256_load_ps(lane)))));
        std::copy(lane, lane + (n - i), x + i);
    }
}
#pragma GCC pop_options

const bool have_avx2 = __builtin_cpu_supports("avx2");
#endif

}  // namespace

bool vector_log_available() noexcept {
#ifdef SPECTROGRAMS_MVEC
    return have_avx2;
#else
    return false;
#endif
}

void scaled_log_floor(double *x, std::int64_t n, double floor, double scale) noexcept {
#ifdef SPECTROGRAMS_MVEC
    if (have_avx2) return scaled_log_floor_avx2(x, n, floor, scale);
#endif
    scaled_log_floor_scalar(x, n, floor, scale);
}

void scaled_log_floor(float *x, std::int64_t n, float floor, float scale) noexcept {
#ifdef SPECTROGRAMS_MVEC
    if (have_avx2) return scaled_log_floor_avx2(x, n, floor, scale);
#endif
    scaled_log_floor_scalar(x, n, floor, scale);
}

SPECTROGRAMS_CLONES void dense_rows(const double *d, std::int64_t n_out, std::int64_t n_in, const double *x,
                                    std::int64_t xs, std::int64_t n_cols, double *out, std::int64_t os) noexcept {
    dense_rows_body(d, n_out, n_in, x, xs, n_cols, out, os);
}

SPECTROGRAMS_CLONES void dense_rows(const float *d, std::int64_t n_out, std::int64_t n_in, const float *x,
                                    std::int64_t xs, std::int64_t n_cols, float *out, std::int64_t os) noexcept {
    dense_rows_body(d, n_out, n_in, x, xs, n_cols, out, os);
}

}  // namespace spectrograms
