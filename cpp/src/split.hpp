// Internal to the engine's sources: the arithmetic of the real FFT's split step, shared by the
// in-place split (fft.cpp, detail::split_real_spectrum) and the spectrogram plan's fused
// split-and-power tile (plan.cpp), which computes |X[k]|^2 straight from the unsplit Z.
//
// Z = DFT_m(x[2j] + i x[2j+1]) as interleaved (re, im) pairs; f = detail::split_factors(m). With
// A = Z[k], B = conj(Z[m - k]), S = (A + B) / 2 and P = f_k (A - B): X[k] = S + P for every
// 0 < k < m, and X[m - k] = conj(S - P) (f_{m-k} = conj(f_k)). Computing X[m - k] as S' + P'
// of bin m - k gives the same bits as conj(S - P) up to the sign of a zero imaginary part (the
// operations are mirror images of each other and IEEE rounding is sign-symmetric), so squares
// and magnitudes from either agree bit for bit. Elementwise throughout: mul, then add/sub, no
// fused multiply-add (the engine builds with -ffp-contract=off), so vector code equals scalar.
#pragma once

#include <complex>
#include <cstdint>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(SPECTROGRAMS_NO_CLONES)
#define SPECTROGRAMS_AVX_SPLIT 1
#include <immintrin.h>
#endif

namespace spectrograms::split {

template <class T> struct SP { T sr, si, pr, pi; };

/// S and P of bin k, 0 < k < m.
template <class T> inline SP<T> sp(const T *z, const T *f, std::int64_t k, std::int64_t m) noexcept {
    const std::int64_t j = m - k;
    const T ar = z[2 * k], ai = z[2 * k + 1], br = z[2 * j], bi = z[2 * j + 1];
    const T sr = T(0.5) * (ar + br), si = T(0.5) * (ai + -bi), dr = ar - br, di = ai - -bi;
    const T tr = f[2 * k], ti = f[2 * k + 1];
    return {sr, si, tr * dr - ti * di, tr * di + ti * dr};
}

/// X[k] for any 0 <= k <= m, read from the unsplit Z (which is not modified).
template <class T> inline std::complex<T> bin(const T *z, const T *f, std::int64_t k, std::int64_t m) noexcept {
    if (k == 0) return {z[0] + z[1], T(0)};
    if (k == m) return {z[0] - z[1], T(0)};
    const SP<T> v = sp(z, f, k, m);
    return {v.sr + v.pr, v.si + v.pi};
}

#ifdef SPECTROGRAMS_AVX_SPLIT
/// S and P of bins k, k + 1 (double; 1 <= k, k + 1 <= m - 1), the operations of sp().
__attribute__((target("avx"))) inline void sp_vec(const double *z, const double *f, std::int64_t k, std::int64_t m,
                                                  __m256d &s, __m256d &p) noexcept {
    const __m256d half = _mm256_set1_pd(0.5), conj = _mm256_setr_pd(0.0, -0.0, 0.0, -0.0);
    const __m256d a = _mm256_loadu_pd(z + 2 * k), mirror = _mm256_loadu_pd(z + 2 * (m - k - 1));
    const __m256d b = _mm256_xor_pd(_mm256_permute2f128_pd(mirror, mirror, 1), conj);
    const __m256d d = _mm256_sub_pd(a, b), t = _mm256_loadu_pd(f + 2 * k);
    s = _mm256_mul_pd(half, _mm256_add_pd(a, b));
    p = _mm256_addsub_pd(_mm256_mul_pd(_mm256_movedup_pd(t), d),
                         _mm256_mul_pd(_mm256_permute_pd(t, 0xF), _mm256_permute_pd(d, 0x5)));
}

/// S and P of bins k .. k + 3 (float; 1 <= k, k + 3 <= m - 1).
__attribute__((target("avx"))) inline void sp_vec(const float *z, const float *f, std::int64_t k, std::int64_t m,
                                                  __m256 &s, __m256 &p) noexcept {
    const __m256 half = _mm256_set1_ps(0.5f), conj = _mm256_setr_ps(0.f, -0.f, 0.f, -0.f, 0.f, -0.f, 0.f, -0.f);
    const __m256 a = _mm256_loadu_ps(z + 2 * k), mirror = _mm256_loadu_ps(z + 2 * (m - k - 3));
    const __m256 b = _mm256_xor_ps(_mm256_permute_ps(_mm256_permute2f128_ps(mirror, mirror, 1), 0x4E), conj);
    const __m256 d = _mm256_sub_ps(a, b), t = _mm256_loadu_ps(f + 2 * k);
    s = _mm256_mul_ps(half, _mm256_add_ps(a, b));
    p = _mm256_addsub_ps(_mm256_mul_ps(_mm256_moveldup_ps(t), d),
                         _mm256_mul_ps(_mm256_movehdup_ps(t), _mm256_permute_ps(d, 0xB1)));
}

/// X[k], X[k + 1] (double) or X[k .. k + 3] (float) from the unsplit Z: S + P.
__attribute__((target("avx"))) inline __m256d bins_vec(const double *z, const double *f, std::int64_t k,
                                                       std::int64_t m) noexcept {
    __m256d s, p;
    sp_vec(z, f, k, m, s, p);
    return _mm256_add_pd(s, p);
}
__attribute__((target("avx"))) inline __m256 bins_vec(const float *z, const float *f, std::int64_t k,
                                                      std::int64_t m) noexcept {
    __m256 s, p;
    sp_vec(z, f, k, m, s, p);
    return _mm256_add_ps(s, p);
}
#endif

}  // namespace spectrograms::split
