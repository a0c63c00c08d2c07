#include "spectrograms/vmath.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

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

// out[k, t] = sum over m, in order, of d[k, m] * x[m, t]: every path adds the products of a cell
// in the same order from 0, so the blocked vector code and the column tail give the same bits.
// Blocks of three rows by four vectors of columns keep their sums in registers (twelve vector
// accumulators), one load of x per vector for three rows: the row-at-a-time loop loaded and
// stored its output row for every product.
template <class T>
[[gnu::always_inline]] inline void dense_rows_body(const T *d, std::int64_t n_out, std::int64_t n_in, const T *x,
                                                   std::int64_t xs, std::int64_t n_cols, T *out,
                                                   std::int64_t os) noexcept {
    typedef T V __attribute__((vector_size(32)));  // GCC/Clang vector extension: 2 SSE registers on the baseline
    constexpr std::int64_t lanes = 32 / sizeof(T), nv = 4, cols = lanes * nv, rows = 3;  // rows: w0..w2 below
    std::int64_t t0 = 0;
    for (; t0 + cols <= n_cols; t0 += cols) {
        std::int64_t k = 0;
        for (; k + rows <= n_out; k += rows) {
            V acc[rows][nv] = {};
            const T *w = d + k * n_in;
            for (std::int64_t m = 0; m < n_in; ++m) {
                // 12 accumulators, 3 weights and one vector of x: the 16 AVX registers
                const V w0 = V{} + w[m], w1 = V{} + w[n_in + m], w2 = V{} + w[2 * n_in + m];
                for (std::int64_t v = 0; v < nv; ++v) {
                    V xv;
                    std::memcpy(&xv, x + m * xs + t0 + v * lanes, sizeof(V));
                    acc[0][v] += w0 * xv;
                    acc[1][v] += w1 * xv;
                    acc[2][v] += w2 * xv;
                }
            }
            for (std::int64_t r = 0; r < rows; ++r) std::memcpy(out + (k + r) * os + t0, acc[r], sizeof(acc[r]));
        }
        for (; k < n_out; ++k) {
            V acc[nv] = {};
            const T *w = d + k * n_in;
            for (std::int64_t m = 0; m < n_in; ++m) {
                const V wm = V{} + w[m];
                for (std::int64_t v = 0; v < nv; ++v) {
                    V xv;
                    std::memcpy(&xv, x + m * xs + t0 + v * lanes, sizeof(V));
                    acc[v] += wm * xv;
                }
            }
            std::memcpy(out + k * os + t0, acc, sizeof(acc));
        }
    }
    if (t0 == n_cols) return;
    for (std::int64_t k = 0; k < n_out; ++k) {
        T *__restrict row = out + k * os;
        std::fill(row + t0, row + n_cols, T(0));
        const T *w = d + k * n_in;
        for (std::int64_t m = 0; m < n_in; ++m) {
            const T wm = w[m];
            const T *__restrict xm = x + m * xs;
            for (std::int64_t t = t0; t < n_cols; ++t) row[t] += wm * xm[t];
        }
    }
}

template <class T>
[[gnu::always_inline]] inline T max_rows_body(const T *x, std::int64_t n_rows, std::int64_t xs, std::int64_t n_cols,
                                              T init) noexcept {
    typedef T V __attribute__((vector_size(32)));
    constexpr std::int64_t lanes = 32 / sizeof(T), nv = 4;
    V acc[nv];
    for (auto &a : acc) a = V{} + init;
    T top = init;
    for (std::int64_t k = 0; k < n_rows; ++k) {
        const T *row = x + k * xs;
        std::int64_t t = 0;
        for (; t + nv * lanes <= n_cols; t += nv * lanes)
            for (std::int64_t v = 0; v < nv; ++v) {
                V e;
                std::memcpy(&e, row + t + v * lanes, sizeof(V));
                acc[v] = acc[v] < e ? e : acc[v];  // std::max(acc, e), lane by lane
            }
        for (; t < n_cols; ++t) top = std::max(top, row[t]);
    }
    for (std::int64_t v = 0; v < nv; ++v)
        for (std::int64_t l = 0; l < lanes; ++l) top = std::max(top, acc[v][l]);
    return top;
}

#ifdef SPECTROGRAMS_MVEC
#pragma GCC push_options
#pragma GCC target("avx2")
// glibc's vector ABI names (libmvec): the AVX2 variants of log and logf.
extern "C" __m256d _ZGVdN4v_log(__m256d);
extern "C" __m256 _ZGVdN8v_logf(__m256);

// One AVX2 register of T, and the libmvec log for it.
template <class T> struct Avx2;
template <> struct Avx2<double> {
    using V = __m256d;
    static constexpr int lanes = 4;
    static V set1(double v) { return _mm256_set1_pd(v); }
    static V loadu(const double *p) { return _mm256_loadu_pd(p); }
    static void storeu(double *p, V v) { _mm256_storeu_pd(p, v); }
    static V max(V a, V b) { return _mm256_max_pd(a, b); }
    static V mul(V a, V b) { return _mm256_mul_pd(a, b); }
    static V log(V v) { return _ZGVdN4v_log(v); }
};
template <> struct Avx2<float> {
    using V = __m256;
    static constexpr int lanes = 8;
    static V set1(float v) { return _mm256_set1_ps(v); }
    static V loadu(const float *p) { return _mm256_loadu_ps(p); }
    static void storeu(float *p, V v) { _mm256_storeu_ps(p, v); }
    static V max(V a, V b) { return _mm256_max_ps(a, b); }
    static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
    static V log(V v) { return _ZGVdN8v_logf(v); }
};

// max(floor, v) returns v when v is NaN, as std::max(v, floor) does. The tail goes through the
// same function, padded with the floor.
template <class T>
__attribute__((target("avx2"))) void scaled_log_floor_avx2(T *x, std::int64_t n, T floor, T scale) noexcept {
    using A = Avx2<T>;
    const auto f = A::set1(floor), s = A::set1(scale);
    auto one = [&](const T *in, T *out) { A::storeu(out, A::mul(s, A::log(A::max(f, A::loadu(in))))); };
    std::int64_t i = 0;
    for (; i + A::lanes <= n; i += A::lanes) one(x + i, x + i);
    if (i < n) {
        T lane[A::lanes];
        std::fill(lane, lane + A::lanes, floor);
        std::copy(x + i, x + n, lane);
        one(lane, lane);
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

SPECTROGRAMS_CLONES double max_rows(const double *x, std::int64_t n_rows, std::int64_t xs, std::int64_t n_cols,
                                     double init) noexcept {
    return max_rows_body(x, n_rows, xs, n_cols, init);
}

SPECTROGRAMS_CLONES float max_rows(const float *x, std::int64_t n_rows, std::int64_t xs, std::int64_t n_cols,
                                   float init) noexcept {
    return max_rows_body(x, n_rows, xs, n_cols, init);
}

}  // namespace spectrograms
