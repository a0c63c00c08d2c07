#include "spectrograms/plan.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "spectrograms/errors.hpp"
#include "spectrograms/thread_pool.hpp"
#include "spectrograms/vmath.hpp"
#include "simd.hpp"
#include "split.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace spectrograms {

namespace {

std::string fmt(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

std::int64_t round_up(std::int64_t n, std::int64_t m) { return (n + m - 1) / m * m; }

// Per-thread scratch, reused by every plan and call on that thread: no allocation per frame
// or per call once it has grown to the largest block seen.
thread_local ScratchArray t_frames, t_spectra, t_tile, t_imag, t_stage;

// Outputs of at least this many bytes do not stay in cache for their consumer, so each task
// computes a cache-sized run of frames into a staging buffer and streams it out with
// non-temporal stores: the frames' scattered, cache-missing stores (each a read of the line
// from memory first) become whole-line writes. Smaller outputs are written in place.
constexpr std::size_t stream_min_bytes = std::size_t(1) << 20;
constexpr std::size_t stage_bytes = std::size_t(512) << 10;
// Frames of [window_frame_min, window_frame_max] bytes are windowed a block at a time
// (compute_frames): the window, the frame and its source together overflow L1 there, and a
// block of them fits in L2 beside the block's spectra.
constexpr std::size_t window_frame_min = std::size_t(8) << 10, window_frame_max = std::size_t(16) << 10;

// memcpy, with the whole 64-byte lines of dst written by non-temporal stores (the partial lines
// at either end, shared with neighbouring rows, by ordinary ones). Callers finish with
// stream_fence().
void stream_copy(char *dst, const char *src, std::size_t n) {
#if defined(__SSE2__)
    const std::size_t head = std::min(n, (64 - reinterpret_cast<std::uintptr_t>(dst) % 64) % 64);
    std::memcpy(dst, src, head);
    std::size_t i = head;
    for (; i + 64 <= n; i += 64) {
        const auto *s = reinterpret_cast<const __m128i *>(src + i);
        auto *d = reinterpret_cast<__m128i *>(dst + i);
        const __m128i a = _mm_loadu_si128(s), b = _mm_loadu_si128(s + 1), c = _mm_loadu_si128(s + 2),
                      e = _mm_loadu_si128(s + 3);
        _mm_stream_si128(d, a);
        _mm_stream_si128(d + 1, b);
        _mm_stream_si128(d + 2, c);
        _mm_stream_si128(d + 3, e);
    }
    std::memcpy(dst + i, src + i, n - i);
#else
    std::memcpy(dst, src, n);
#endif
}

// Orders the non-temporal stores before whatever the thread does next (the pool's completion
// signal included).
void stream_fence() {
#if defined(__SSE2__)
    _mm_sfence();
#endif
}

// The hot loops around the FFT (windowing, and a filterbank block's two) are SPECTROGRAMS_CLONES.

// out[(k - first) * ts + i] = |spectra[i * ps + k]|^2 (or |.| when magnitude) for bins
// [first, last) of `count` spectra: the block's power transposed to (bin, frame) rows.
template <class T>
[[gnu::always_inline]] inline void tile_block_body(const std::complex<T> *spectra, std::int64_t ps,
                                                   std::int64_t count, std::int64_t first, std::int64_t last,
                                                   bool magnitude, T *out, std::int64_t ts) {
    // Four bins (one cache line of complex doubles) of every frame at a time: the reads stay
    // in a few lines and the writes fill whole rows.
    constexpr std::int64_t run = 4;
    std::int64_t k0 = first;
    for (; k0 + run <= last; k0 += run)
        for (std::int64_t i = 0; i < count; ++i) {
            const std::complex<T> *z = spectra + i * ps + k0;
            T *t = out + (k0 - first) * ts + i;
            for (std::int64_t j = 0; j < run; ++j) t[j * ts] = std::norm(z[j]);
        }
    for (std::int64_t i = 0; i < count; ++i)
        for (std::int64_t k = k0; k < last; ++k) out[(k - first) * ts + i] = std::norm(spectra[i * ps + k]);
    if (magnitude)
        for (std::int64_t k = 0; k < last - first; ++k)
            for (std::int64_t i = 0; i < count; ++i) out[k * ts + i] = std::sqrt(out[k * ts + i]);
}

// tile_block_body's output from the unsplit spectra of FftPlan::r2c_unsplit (f: the plan's split
// factors, m = n_fft / 2): each bin is computed with the split step's arithmetic (split.hpp), so
// the bits are those of the split spectrum's tile.
template <class T>
[[gnu::always_inline]] inline void split_tile_body(const std::complex<T> *spectra, std::int64_t ps, const T *f,
                                                   std::int64_t m, std::int64_t count, std::int64_t first,
                                                   std::int64_t last, bool magnitude, T *out, std::int64_t ts) {
    for (std::int64_t i = 0; i < count; ++i) {
        const T *z = reinterpret_cast<const T *>(spectra + i * ps);
        for (std::int64_t k = first; k < last; ++k) out[(k - first) * ts + i] = std::norm(split::bin(z, f, k, m));
    }
    if (magnitude)
        for (std::int64_t k = 0; k < last - first; ++k)
            for (std::int64_t i = 0; i < count; ++i) out[k * ts + i] = std::sqrt(out[k * ts + i]);
}

// Groups of g bins k0 .. k0 + g - 1 in [first, last) whose mirror groups m - k0 - g + 1 .. m - k0
// are in [first, last) too and disjoint from them: k0 = lo, lo + g, ... < end (none where
// end == lo). The tiles split such a group and its mirror together.
struct MirrorPairs {
    std::int64_t lo, end;
};
inline MirrorPairs mirror_pairs(std::int64_t first, std::int64_t last, std::int64_t m, std::int64_t g) {
    const std::int64_t lo = std::max<std::int64_t>({first, m - last + 1, 1});
    std::int64_t k0 = lo;
    while (k0 + g <= std::min(last, m - first + 1) && 2 * k0 + 2 * g - 2 < m) k0 += g;
    return {lo, k0};
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(SPECTROGRAMS_NO_CLONES)
#define SPECTROGRAMS_AVX2_TILE 1
// The same for a full block of 16 frames with AVX2: a vector of squares summed in pairs (hadd:
// re^2 + im^2, the order std::norm uses) gives one frame's norms for several bins, and an
// in-register transpose turns frames x bins into bin rows. sqrt is correctly rounded either way,
// so the bits equal tile_block_body's.

// r[j] holds frame h + j's norms of bins row0 + dir * perm[lane] (hadd's order; row0 relative to
// the tile's first bin): transposed, the rows' entries for frames h .. h + 7 (float) or h .. h + 3.
__attribute__((target("avx2"))) [[gnu::always_inline]] inline void store_rows(const __m256 *r, std::int64_t row0,
                                                                             std::int64_t dir, bool magnitude,
                                                                             float *out, std::int64_t ts, int h) {
    constexpr int perm[8] = {0, 1, 4, 5, 2, 3, 6, 7};
    __m256 t[8], u[8];
    for (int j = 0; j < 8; j += 2) {
        t[j] = _mm256_unpacklo_ps(r[j], r[j + 1]);
        t[j + 1] = _mm256_unpackhi_ps(r[j], r[j + 1]);
    }
    for (int q = 0; q < 2; ++q) {  // frames 4q .. 4q + 3
        u[4 * q + 0] = _mm256_shuffle_ps(t[4 * q], t[4 * q + 2], _MM_SHUFFLE(1, 0, 1, 0));
        u[4 * q + 1] = _mm256_shuffle_ps(t[4 * q], t[4 * q + 2], _MM_SHUFFLE(3, 2, 3, 2));
        u[4 * q + 2] = _mm256_shuffle_ps(t[4 * q + 1], t[4 * q + 3], _MM_SHUFFLE(1, 0, 1, 0));
        u[4 * q + 3] = _mm256_shuffle_ps(t[4 * q + 1], t[4 * q + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int p = 0; p < 4; ++p) {
        __m256 lo = _mm256_permute2f128_ps(u[p], u[p + 4], 0x20);  // position p, frames 0-7
        __m256 hi = _mm256_permute2f128_ps(u[p], u[p + 4], 0x31);  // position p + 4
        if (magnitude) {
            lo = _mm256_sqrt_ps(lo);
            hi = _mm256_sqrt_ps(hi);
        }
        _mm256_storeu_ps(out + (row0 + dir * perm[p]) * ts + h, lo);
        _mm256_storeu_ps(out + (row0 + dir * perm[p + 4]) * ts + h, hi);
    }
}
__attribute__((target("avx2"))) [[gnu::always_inline]] inline void store_rows(const __m256d *r, std::int64_t row0,
                                                                             std::int64_t dir, bool magnitude,
                                                                             double *out, std::int64_t ts, int h) {
    constexpr int perm[4] = {0, 2, 1, 3};
    const __m256d t0 = _mm256_unpacklo_pd(r[0], r[1]), t1 = _mm256_unpackhi_pd(r[0], r[1]);
    const __m256d t2 = _mm256_unpacklo_pd(r[2], r[3]), t3 = _mm256_unpackhi_pd(r[2], r[3]);
    __m256d rows[4] = {_mm256_permute2f128_pd(t0, t2, 0x20), _mm256_permute2f128_pd(t1, t3, 0x20),
                       _mm256_permute2f128_pd(t0, t2, 0x31), _mm256_permute2f128_pd(t1, t3, 0x31)};
    for (int p = 0; p < 4; ++p) {
        if (magnitude) rows[p] = _mm256_sqrt_pd(rows[p]);
        _mm256_storeu_pd(out + (row0 + dir * perm[p]) * ts + h, rows[p]);
    }
}

// Vector types of the AVX2 tile: a group is the bins of two vectors (hadd's operands).
template <class T> struct Avx;
template <> struct Avx<float> {
    using V = __m256;
    static constexpr std::int64_t group = 8;
    __attribute__((target("avx2"))) static V load(const float *p) { return _mm256_loadu_ps(p); }
    __attribute__((target("avx2"))) static V add(V a, V b) { return _mm256_add_ps(a, b); }
    __attribute__((target("avx2"))) static V sub(V a, V b) { return _mm256_sub_ps(a, b); }
    __attribute__((target("avx2"))) static V norms(V a, V b) {
        return _mm256_hadd_ps(_mm256_mul_ps(a, a), _mm256_mul_ps(b, b));
    }
};
template <> struct Avx<double> {
    using V = __m256d;
    static constexpr std::int64_t group = 4;
    __attribute__((target("avx2"))) static V load(const double *p) { return _mm256_loadu_pd(p); }
    __attribute__((target("avx2"))) static V add(V a, V b) { return _mm256_add_pd(a, b); }
    __attribute__((target("avx2"))) static V sub(V a, V b) { return _mm256_sub_pd(a, b); }
    __attribute__((target("avx2"))) static V norms(V a, V b) {
        return _mm256_hadd_pd(_mm256_mul_pd(a, a), _mm256_mul_pd(b, b));
    }
};

template <class T>
__attribute__((target("avx2"))) void tile_block16_avx2(const std::complex<T> *spectra, std::int64_t ps,
                                                       std::int64_t first, std::int64_t last, bool magnitude, T *out,
                                                       std::int64_t ts) {
    using A = Avx<T>;
    constexpr std::int64_t g = A::group, half = g / 2;  // half: complex bins per vector
    std::int64_t k0 = first;
    for (; k0 + g <= last; k0 += g)
        for (int h = 0; h < 16; h += g) {
            typename A::V r[g];
            for (int j = 0; j < g; ++j) {
                const T *z = reinterpret_cast<const T *>(spectra + (h + j) * ps + k0);
                r[j] = A::norms(A::load(z), A::load(z + 2 * half));
            }
            store_rows(r, k0 - first, 1, magnitude, out, ts, h);
        }
    if (k0 < last) tile_block_body(spectra + k0, ps, 16, 0, last - k0, magnitude, out + (k0 - first) * ts, ts);
}

// The tile of bins [kb, ke) from unsplit spectra (FftPlan::r2c_unsplit; f, m as for
// split_tile_body), each vector of bins split in registers (split::bins_vec) and squared there.
template <class T>
__attribute__((target("avx2"))) void split_tile_single(const std::complex<T> *spectra, std::int64_t ps, const T *f,
                                                       std::int64_t m, std::int64_t first, std::int64_t kb,
                                                       std::int64_t ke, bool magnitude, T *out, std::int64_t ts) {
    using A = Avx<T>;
    constexpr std::int64_t g = A::group, half = g / 2;
    // bins_vec reads bins k .. k + half - 1 and their mirrors: 1 <= k, k + half - 1 <= m - 1
    std::int64_t k0 = std::min(std::max<std::int64_t>(kb, 1), ke);
    if (k0 > kb) split_tile_body(spectra, ps, f, m, 16, kb, k0, magnitude, out + (kb - first) * ts, ts);
    for (; k0 + g <= std::min(ke, m); k0 += g)
        for (int h = 0; h < 16; h += g) {
            typename A::V r[g];
            for (int j = 0; j < g; ++j) {
                const T *z = reinterpret_cast<const T *>(spectra + (h + j) * ps);
                r[j] = A::norms(split::bins_vec(z, f, k0, m), split::bins_vec(z, f, k0 + half, m));
            }
            store_rows(r, k0 - first, 1, magnitude, out, ts, h);
        }
    if (k0 < ke) split_tile_body(spectra, ps, f, m, 16, k0, ke, magnitude, out + (k0 - first) * ts, ts);
}

// tile_block16_avx2's output for bins [first, last) from a full block of unsplit spectra. Where a
// group of bins and its mirror group (m - k) are both wanted, one split computes both (S + P and
// S - P: the split step's X[m - k] up to the sign of its imaginary part, which squaring drops);
// the other bins are split one group at a time. Saves the split step's store and the tile's
// reload of the block's spectra, and the split of bins the tile does not use; same bits.
template <class T>
__attribute__((target("avx2"))) void split_tile16_avx2(const std::complex<T> *spectra, std::int64_t ps, const T *f,
                                                       std::int64_t m, std::int64_t first, std::int64_t last,
                                                       bool magnitude, T *out, std::int64_t ts) {
    using A = Avx<T>;
    using V = typename A::V;
    constexpr std::int64_t g = A::group, half = g / 2;
    const auto [lo, end] = mirror_pairs(first, last, m, g);
    if (end == lo) return split_tile_single(spectra, ps, f, m, first, first, last, magnitude, out, ts);
    for (std::int64_t k0 = lo; k0 < end; k0 += g)
        for (int h = 0; h < 16; h += g) {
            V r[g], q[g];
            for (int j = 0; j < g; ++j) {
                const T *z = reinterpret_cast<const T *>(spectra + (h + j) * ps);
                V sa, pa, sb, pb;
                split::sp_vec(z, f, k0, m, sa, pa);
                split::sp_vec(z, f, k0 + half, m, sb, pb);
                r[j] = A::norms(A::add(sa, pa), A::add(sb, pb));  // bins k0 + perm[lane]
                q[j] = A::norms(A::sub(sa, pa), A::sub(sb, pb));  // bins m - k0 - perm[lane]
            }
            store_rows(r, k0 - first, 1, magnitude, out, ts, h);
            store_rows(q, m - k0 - first, -1, magnitude, out, ts, h);
        }
    // the rest: [first, lo), the middle [end, m - end + 1) and [m - lo + 1, last)
    split_tile_single(spectra, ps, f, m, first, first, lo, magnitude, out, ts);
    split_tile_single(spectra, ps, f, m, first, end, m - end + 1, magnitude, out, ts);
    split_tile_single(spectra, ps, f, m, first, m - lo + 1, last, magnitude, out, ts);
}

// One frame's bins [first, last) from its unsplit spectrum z (FftPlan::r2c_unsplit; f, m as for
// split_tile_body) into column 0 of `col` (row stride ts), while z is still in L1 from the FFT:
// split_tile16_avx2 instead reads a block's 16 spectra back from L2. Four bins at a time, with
// real and imaginary parts in separate vectors (lanes: bins k, k + 2, k + 1, k + 3), so that the
// split's complex arithmetic needs no shuffles; where a group's mirror bins (m - k ...) are wanted
// too, S - P gives them from the same split, as in split_tile16_avx2. The operations are those of
// split::sp and std::norm (a - b computed as a + (-b) is the same IEEE operation), so the bits
// equal split_tile_body's. Where compute_frames uses it, and why, is said there.
__attribute__((target("avx2"))) [[gnu::always_inline]] inline void column_scatter(__m256d v, double *col,
                                                                                 std::int64_t ts, std::int64_t r0,
                                                                                 std::int64_t dir) {
    // lane l holds bin row r0 + dir * {0, 2, 1, 3}[l]
    const __m128d lo = _mm256_castpd256_pd128(v), hi = _mm256_extractf128_pd(v, 1);
    _mm_storel_pd(col + r0 * ts, lo);
    _mm_storeh_pd(col + (r0 + 2 * dir) * ts, lo);
    _mm_storel_pd(col + (r0 + dir) * ts, hi);
    _mm_storeh_pd(col + (r0 + 3 * dir) * ts, hi);
}
// Z[k .. k + 3] (a) and their mirrors Z[m - k - {0, 1, 2, 3}] (b), real and imaginary parts in
// separate vectors, lanes in the order bins k, k + 2, k + 1, k + 3 (and their mirrors).
__attribute__((target("avx2"))) [[gnu::always_inline]] inline void load_group_soa(const double *z, std::int64_t k,
                                                                                 std::int64_t m, __m256d &ar,
                                                                                 __m256d &ai, __m256d &br,
                                                                                 __m256d &bi) {
    const __m256d a0 = _mm256_loadu_pd(z + 2 * k), a1 = _mm256_loadu_pd(z + 2 * k + 4);
    ar = _mm256_unpacklo_pd(a0, a1);
    ai = _mm256_unpackhi_pd(a0, a1);
    // mirrors Z[m - k - {0, 2, 1, 3}]: [Z[m - k] | Z[m - k - 1]] and [Z[m - k - 2] | Z[m - k - 3]]
    const __m256d b1 = _mm256_loadu2_m128d(z + 2 * (m - k - 1), z + 2 * (m - k));
    const __m256d b0 = _mm256_loadu2_m128d(z + 2 * (m - k - 3), z + 2 * (m - k - 2));
    br = _mm256_unpacklo_pd(b1, b0);
    bi = _mm256_unpackhi_pd(b1, b0);
}
__attribute__((target("avx2"))) [[gnu::always_inline]] inline void split_group_soa(const double *z, const double *f,
                                                                                  std::int64_t k, std::int64_t m,
                                                                                  __m256d &sr, __m256d &si,
                                                                                  __m256d &pr, __m256d &pi) {
    const __m256d half = _mm256_set1_pd(0.5);
    __m256d ar, ai, br, bi;
    load_group_soa(z, k, m, ar, ai, br, bi);
    const __m256d t0 = _mm256_loadu_pd(f + 2 * k), t1 = _mm256_loadu_pd(f + 2 * k + 4);
    const __m256d tr = _mm256_unpacklo_pd(t0, t1), ti = _mm256_unpackhi_pd(t0, t1);
    // B = conj(mirror): S = (A + B) / 2, D = A - B, P = t D
    sr = _mm256_mul_pd(half, _mm256_add_pd(ar, br));
    si = _mm256_mul_pd(half, _mm256_sub_pd(ai, bi));
    const __m256d dr = _mm256_sub_pd(ar, br), di = _mm256_add_pd(ai, bi);
    pr = _mm256_sub_pd(_mm256_mul_pd(tr, dr), _mm256_mul_pd(ti, di));
    pi = _mm256_add_pd(_mm256_mul_pd(tr, di), _mm256_mul_pd(ti, dr));
}
__attribute__((target("avx2"))) [[gnu::always_inline]] inline __m256d norms_soa(__m256d re, __m256d im,
                                                                               bool magnitude) {
    const __m256d p = _mm256_add_pd(_mm256_mul_pd(re, re), _mm256_mul_pd(im, im));
    return magnitude ? _mm256_sqrt_pd(p) : p;
}
// Bins [kb, ke) one group of four at a time where the group and its mirrors lie in [1, m - 1];
// the rest one bin at a time (split::bin).
__attribute__((target("avx2"))) void split_column_single(const double *z, const double *f, std::int64_t m,
                                                         std::int64_t first, std::int64_t kb, std::int64_t ke,
                                                         bool magnitude, double *col, std::int64_t ts) {
    auto one = [&](std::int64_t k) {
        const double p = std::norm(split::bin(z, f, k, m));
        col[(k - first) * ts] = magnitude ? std::sqrt(p) : p;
    };
    std::int64_t k = kb;
    for (; k < ke && k < 1; ++k) one(k);
    for (; k + 4 <= std::min(ke, m); k += 4) {
        __m256d sr, si, pr, pi;
        split_group_soa(z, f, k, m, sr, si, pr, pi);
        column_scatter(norms_soa(_mm256_add_pd(sr, pr), _mm256_add_pd(si, pi), magnitude), col, ts, k - first, 1);
    }
    for (; k < ke; ++k) one(k);
}
__attribute__((target("avx2"))) void split_column_avx2(const double *z, const double *f, std::int64_t m,
                                                       std::int64_t first, std::int64_t last, bool magnitude,
                                                       double *col, std::int64_t ts) {
    constexpr std::int64_t g = 4;
    const auto [lo, end] = mirror_pairs(first, last, m, g);
    if (end == lo) return split_column_single(z, f, m, first, first, last, magnitude, col, ts);
    for (std::int64_t k0 = lo; k0 < end; k0 += g) {
        __m256d sr, si, pr, pi;
        split_group_soa(z, f, k0, m, sr, si, pr, pi);
        column_scatter(norms_soa(_mm256_add_pd(sr, pr), _mm256_add_pd(si, pi), magnitude), col, ts, k0 - first, 1);
        column_scatter(norms_soa(_mm256_sub_pd(sr, pr), _mm256_sub_pd(si, pi), magnitude), col, ts, m - k0 - first,
                       -1);
    }
    split_column_single(z, f, m, first, first, lo, magnitude, col, ts);
    split_column_single(z, f, m, first, end, m - end + 1, magnitude, col, ts);
    split_column_single(z, f, m, first, m - lo + 1, last, magnitude, col, ts);
}

// 2 X[k] (split::bin, doubled) for any -m <= k <= 2m of a real signal's spectrum.
inline void doubled_bin(const double *z, const double *f, std::int64_t m, std::int64_t k, double &re, double &im) {
    const std::int64_t j = k < 0 ? -k : k > m ? 2 * m - k : k;
    const std::complex<double> v = split::bin(z, f, j, m);
    re = 2 * v.real();
    im = 2 * (j == k ? v.imag() : -v.imag());
}
// 2 X[k] of bins [kb, ke) (-1 <= kb, ke <= m + 2: X[-k] = conj X[k] and X[m + k] = conj X[m - k]
// of a real signal) from the unsplit z, as real parts re[k - kb] and imaginary parts im[k - kb]:
// four bins at a time as split_group_soa computes them, but with 2 f read from tw
// (column_twiddles: in the groups' lane order, so not deinterleaved per frame) and S not halved;
// split::bin doubled for the rest. Every value is exactly twice split::bin's.
__attribute__((target("avx2"))) void split_range_soa(const double *z, const double *f, const double *tw,
                                                     std::int64_t m, std::int64_t kb, std::int64_t ke, double *re,
                                                     double *im) {
    auto one = [&](std::int64_t k) { doubled_bin(z, f, m, k, re[k - kb], im[k - kb]); };
    std::int64_t k = kb;
    for (; k < ke && k < 1; ++k) one(k);
    for (; k + 4 <= std::min(ke, m); k += 4, tw += 8) {
        __m256d ar, ai, br, bi;
        load_group_soa(z, k, m, ar, ai, br, bi);
        const __m256d tr = _mm256_loadu_pd(tw), ti = _mm256_loadu_pd(tw + 4);
        const __m256d sr = _mm256_add_pd(ar, br), si = _mm256_sub_pd(ai, bi);
        const __m256d dr = _mm256_sub_pd(ar, br), di = _mm256_add_pd(ai, bi);
        const __m256d pr = _mm256_sub_pd(_mm256_mul_pd(tr, dr), _mm256_mul_pd(ti, di));
        const __m256d pi = _mm256_add_pd(_mm256_mul_pd(tr, di), _mm256_mul_pd(ti, dr));
        _mm256_storeu_pd(re + (k - kb), _mm256_permute4x64_pd(_mm256_add_pd(sr, pr), 0xD8));
        _mm256_storeu_pd(im + (k - kb), _mm256_permute4x64_pd(_mm256_add_pd(si, pi), 0xD8));
    }
    for (; k < ke; ++k) one(k);
}
// The three-term sum, |.|^2 (or |.|) and the column's stores, from split_range_soa's 2 X (cell k
// reads re[k], re[k + 1], re[k + 2], and im), in vectors V of 4 (AVX2) or 8 (AVX-512) doubles:
// GCC vector extensions, inlined into each kernel and compiled for its target, then one cell at a
// time with the same operations.
typedef double V4d __attribute__((vector_size(32)));
typedef double V8d __attribute__((vector_size(64)));
// In place (a vector argument or result would change the ABI of three_term_column's instances)
__attribute__((target("avx2"))) inline void vector_sqrt(V4d *x) { *x = V4d(_mm256_sqrt_pd(__m256d(*x))); }
__attribute__((target("avx512f"))) inline void vector_sqrt(V8d *x) {
    *x = V8d(_mm512_mask_sqrt_pd(__m512d(*x), 0xFF, __m512d(*x)));  // _mm512_sqrt_pd: a GCC 12 warning
}
//
// Returns whether the column is as accurate as the time-domain product's: the frame's rounding
// errors here scale with its raw spectrum, not its windowed one, so a frame whose samples sit
// where the window is (nearly) zero, whose windowed spectrum is far below its raw one, would lose
// relative precision (a click on the window's zero would leave noise that a chromagram's
// normalisation blows up). False when the largest windowed cell is below 1e-3 of the largest raw
// bin over the tile; the caller then computes the frame again the time-domain way.
template <class V>
[[gnu::always_inline]] inline bool three_term_column(const double *re, const double *im, std::int64_t n, double a0,
                                                     double h, bool magnitude, double *col, std::int64_t ts) {
    constexpr std::int64_t lanes = sizeof(V) / sizeof(double);
    const double a = a0 / 2, g = h / 2;  // on 2 X: the same products, exactly
    V top_w{}, top_raw{};                // the largest |Xw|^2 and |2X|^2 so far, lane by lane
    std::int64_t k = 0;
    for (; k + lanes <= n; k += lanes) {
        V rl, rc, rr, il, ic, ir;  // left, centre, right
        std::memcpy(&rl, re + k, sizeof(V));
        std::memcpy(&rc, re + k + 1, sizeof(V));
        std::memcpy(&rr, re + k + 2, sizeof(V));
        std::memcpy(&il, im + k, sizeof(V));
        std::memcpy(&ic, im + k + 1, sizeof(V));
        std::memcpy(&ir, im + k + 2, sizeof(V));
        const V wr = a * rc - g * (rl + rr), wi = a * ic - g * (il + ir);
        V p = wr * wr + wi * wi;
        const V raw = rc * rc + ic * ic;
        top_w = p > top_w ? p : top_w;
        top_raw = raw > top_raw ? raw : top_raw;
        if (magnitude) vector_sqrt(&p);
        for (std::int64_t j = 0; j < lanes; ++j) col[(k + j) * ts] = p[j];
    }
    double best_w = 0, best_raw = 0;
    for (std::int64_t j = 0; j < lanes; ++j) {
        best_w = std::max(best_w, top_w[j]);
        best_raw = std::max(best_raw, top_raw[j]);
    }
    for (; k < n; ++k) {
        const double wr = a * re[k + 1] - g * (re[k] + re[k + 2]), wi = a * im[k + 1] - g * (im[k] + im[k + 2]);
        const double p = wr * wr + wi * wi;
        best_w = std::max(best_w, p);
        best_raw = std::max(best_raw, re[k + 1] * re[k + 1] + im[k + 1] * im[k + 1]);
        col[k * ts] = magnitude ? std::sqrt(p) : p;
    }
    // |Xw| >= 1e-3 |X| with |X|^2 = best_raw / 4; NaN compares false
    return 4e6 * best_w >= best_raw;
}
// One frame's column of the tile, bins [first, last), from the unsplit spectrum z of its raw
// (unwindowed) samples, for a window a0 - a1 cos(2 pi n / N) of the frame's length N (periodic
// Hann, Hamming): the windowed frame's spectrum is a0 X[k] - h (X[k - 1] + X[k + 1]), h = a1 / 2,
// so the frame is never windowed. scratch: 2 round_up(last - first + 2, 8) doubles; tw:
// column_twiddles(f, m, first - 1, last + 1). a0 and h apply to 2 X as a0 / 2 and h / 2, the same
// products exactly. Every bin takes the same operations in the same order, vector or scalar.
// Returns three_term_column's verdict.
__attribute__((target("avx2"))) bool cosine_column_avx2(const double *z, const double *f, const double *tw,
                                                        std::int64_t m, std::int64_t first, std::int64_t last,
                                                        double a0, double h, bool magnitude, double *scratch,
                                                        double *col, std::int64_t ts) {
    const std::int64_t n = last - first;
    double *re = scratch, *im = scratch + round_up(n + 2, 8);
    split_range_soa(z, f, tw, m, first - 1, last + 1, re, im);
    return three_term_column<V4d>(re, im, n, a0, h, magnitude, col, ts);
}

// cosine_column_avx2 with AVX-512, with about half its instructions: eight bins a vector, each
// vector of Z's and its mirror's real or imaginary parts gathered from two loads by one
// two-source permute (in natural order, the mirror reversed), and tw from column_twiddles(...,
// true) (2 f in natural order, eight real parts then eight imaginary parts a group). The
// operations and their order are split_range_soa's and cosine_column_avx2's, so the bits are
// theirs; bins outside whole groups go through split::bin and the scalar cell, as there.
__attribute__((target("avx512f"))) bool cosine_column_avx512(const double *z, const double *f, const double *tw,
                                                             std::int64_t m, std::int64_t first, std::int64_t last,
                                                             double a0, double h, bool magnitude, double *scratch,
                                                             double *col, std::int64_t ts) {
    const std::int64_t n = last - first, kb = first - 1, ke = last + 1;
    double *re = scratch, *im = scratch + round_up(n + 2, 8);  // X[first + k] at re[k + 1], im[k + 1]
    auto one = [&](std::int64_t k) { doubled_bin(z, f, m, k, re[k - kb], im[k - kb]); };
    const __m512i even = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
    const __m512i odd = _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15);
    const __m512i mirror_re = _mm512_setr_epi64(14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i mirror_im = _mm512_setr_epi64(15, 13, 11, 9, 7, 5, 3, 1);
    std::int64_t k = kb;
    for (; k < ke && k < 1; ++k) one(k);
    for (; k + 8 <= std::min(ke, m); k += 8, tw += 16) {
        const __m512d a0v = _mm512_loadu_pd(z + 2 * k), a1v = _mm512_loadu_pd(z + 2 * k + 8);
        const __m512d b0v = _mm512_loadu_pd(z + 2 * (m - k - 7)), b1v = _mm512_loadu_pd(z + 2 * (m - k - 3));
        const __m512d ar = _mm512_permutex2var_pd(a0v, even, a1v), ai = _mm512_permutex2var_pd(a0v, odd, a1v);
        const __m512d br = _mm512_permutex2var_pd(b0v, mirror_re, b1v);
        const __m512d bi = _mm512_permutex2var_pd(b0v, mirror_im, b1v);
        const __m512d tr = _mm512_loadu_pd(tw), ti = _mm512_loadu_pd(tw + 8);
        const __m512d sr = _mm512_add_pd(ar, br), si = _mm512_sub_pd(ai, bi);
        const __m512d dr = _mm512_sub_pd(ar, br), di = _mm512_add_pd(ai, bi);
        const __m512d pr = _mm512_sub_pd(_mm512_mul_pd(tr, dr), _mm512_mul_pd(ti, di));
        const __m512d pi = _mm512_add_pd(_mm512_mul_pd(tr, di), _mm512_mul_pd(ti, dr));
        _mm512_storeu_pd(re + (k - kb), _mm512_add_pd(sr, pr));
        _mm512_storeu_pd(im + (k - kb), _mm512_add_pd(si, pi));
    }
    for (; k < ke; ++k) one(k);
    return three_term_column<V8d>(re, im, n, a0, h, magnitude, col, ts);
}

const bool have_avx512_column = __builtin_cpu_supports("avx512f");
const bool have_avx2_tile = __builtin_cpu_supports("avx2");
#endif

template <class T> constexpr std::int64_t band_lanes = 32 / sizeof(T);

// band_sums_body for a tile of frames_per_block columns, of which the first count (<= NV vectors)
// are kept: each band's sums over frames in NV vector registers.
template <class T, bool Complex, std::int64_t NV>
[[gnu::always_inline]] inline void band_sums_vectors(const T *tile, std::int64_t count, std::int64_t first,
                                                     const SparseFilterbank &fb, const T *weights, T *out,
                                                     std::int64_t rs, const T *weights_imag, T *out_imag,
                                                     std::int64_t rs_imag) {
    // Explicit 32-byte vectors (GCC/Clang vector extension, two SSE registers on the baseline
    // target): left to itself the vectoriser would vectorise over taps instead of frames.
    typedef T V __attribute__((vector_size(32)));
    constexpr std::int64_t full = frames_per_block, lanes = band_lanes<T>;
    std::int64_t b = 0;
    if constexpr (!Complex) {
        // Bands over the same bins (chroma's twelve): three at a time, one pass over the tile.
        for (; b + 3 <= fb.n_bands; b += 3) {
            if (fb.start[b + 1] != fb.start[b] || fb.start[b + 2] != fb.start[b] || fb.count[b + 1] != fb.count[b] ||
                fb.count[b + 2] != fb.count[b])
                break;
            V a0[NV] = {}, a1[NV] = {}, a2[NV] = {};
            const T *w0 = weights + fb.offset[b], *w1 = weights + fb.offset[b + 1], *w2 = weights + fb.offset[b + 2];
            const T *t = tile + (fb.start[b] - first) * full;
            for (std::int64_t j = 0; j < fb.count[b]; ++j, t += full) {
                const V u0 = V{} + w0[j], u1 = V{} + w1[j], u2 = V{} + w2[j];
                for (std::int64_t v = 0; v < NV; ++v) {
                    V tv;
                    std::memcpy(&tv, t + v * lanes, sizeof(V));
                    a0[v] += u0 * tv;
                    a1[v] += u1 * tv;
                    a2[v] += u2 * tv;
                }
            }
            std::memcpy(out + b * rs, a0, sizeof(T) * count);
            std::memcpy(out + (b + 1) * rs, a1, sizeof(T) * count);
            std::memcpy(out + (b + 2) * rs, a2, sizeof(T) * count);
        }
    }
    for (; b < fb.n_bands; ++b) {
        V acc[NV] = {}, acc_imag[NV] = {};
        const T *w = weights + fb.offset[b];
        const T *wi = Complex ? weights_imag + fb.offset[b] : nullptr;
        const T *t = tile + (fb.start[b] - first) * full;
        for (std::int64_t j = 0; j < fb.count[b]; ++j, t += full) {
            const V wj = V{} + w[j];
            for (std::int64_t v = 0; v < NV; ++v) {
                V tv;
                std::memcpy(&tv, t + v * lanes, sizeof(V));
                acc[v] += wj * tv;
                if constexpr (Complex) acc_imag[v] += (V{} + wi[j]) * tv;
            }
        }
        std::memcpy(out + b * rs, acc, sizeof(T) * count);
        if constexpr (Complex) std::memcpy(out_imag + b * rs_imag, acc_imag, sizeof(T) * count);
    }
}

// Row b of out (stride rs) = sum_j weights[offset[b] + j] * tile row (start[b] - first + j); with
// weights_imag (complex kernels, CQT) also row b of out_imag (stride rs_imag) from the imaginary
// parts, in the same pass over the tile. The sums over a block's frames are kept in registers; the
// order of the additions is the same on every path.
//
// A real filterbank's tile has frames_per_block columns whatever the block's count (emit_block
// zeroes the columns past count up to a whole vector), so a partial block takes the vector code
// too, with as many vectors as its frames need. A CQT tile has `count` columns: its partial blocks
// take the loop at the end.
template <class T, bool Complex>
[[gnu::always_inline]] inline void band_sums_body(const T *tile, std::int64_t count, std::int64_t first,
                                                  const SparseFilterbank &fb, const T *weights, T *out,
                                                  std::int64_t rs, const T *weights_imag, T *out_imag,
                                                  std::int64_t rs_imag) {
    constexpr std::int64_t full = frames_per_block, lanes = band_lanes<T>;
    static_assert(full % lanes == 0 && full / lanes <= 4, "band_sums: up to four vectors of frames");
    if (count == full || !Complex) {
        switch ((count + lanes - 1) / lanes) {
            case 1: return band_sums_vectors<T, Complex, 1>(tile, count, first, fb, weights, out, rs, weights_imag,
                                                            out_imag, rs_imag);
            case 2: return band_sums_vectors<T, Complex, 2>(tile, count, first, fb, weights, out, rs, weights_imag,
                                                            out_imag, rs_imag);
            case 3: return band_sums_vectors<T, Complex, 3>(tile, count, first, fb, weights, out, rs, weights_imag,
                                                            out_imag, rs_imag);
            default: return band_sums_vectors<T, Complex, full / lanes>(tile, count, first, fb, weights, out, rs,
                                                                        weights_imag, out_imag, rs_imag);
        }
    }
    for (int part = 0; part < (Complex ? 2 : 1); ++part) {
        const T *ws = part == 0 ? weights : weights_imag;
        T *o = part == 0 ? out : out_imag;
        const std::int64_t stride = part == 0 ? rs : rs_imag;
        for (std::int64_t b = 0; b < fb.n_bands; ++b) {
            T *__restrict row = o + b * stride;
            std::fill(row, row + count, T(0));
            const T *w = ws + fb.offset[b];
            for (std::int64_t j = 0; j < fb.count[b]; ++j) {
                const T wj = w[j];
                const T *__restrict t = tile + (fb.start[b] - first + j) * count;
                for (std::int64_t i = 0; i < count; ++i) row[i] += wj * t[i];
            }
        }
    }
}

SPECTROGRAMS_CLONES void windowed_frames(const SignalView<double> &x, std::int64_t start, std::int64_t hop,
                                         std::int64_t count, std::int64_t n, const double *w, double *dst,
                                         std::int64_t stride) {
    window_frames(x, start, hop, count, n, w, dst, stride);
}
SPECTROGRAMS_CLONES void windowed_frames(const SignalView<float> &x, std::int64_t start, std::int64_t hop,
                                         std::int64_t count, std::int64_t n, const float *w, float *dst,
                                         std::int64_t stride) {
    window_frames(x, start, hop, count, n, w, dst, stride);
}
// tile[(p - first) * count + i] = frames[i * stride + p] for samples [first, last).
template <class T>
[[gnu::always_inline]] inline void frames_tile_body(const T *frames, std::int64_t stride, std::int64_t count,
                                                    std::int64_t first, std::int64_t last, T *tile) {
    for (std::int64_t i = 0; i < count; ++i)
        for (std::int64_t p = first; p < last; ++p) tile[(p - first) * count + i] = frames[i * stride + p];
}
SPECTROGRAMS_CLONES void frames_tile(const double *f, std::int64_t stride, std::int64_t count, std::int64_t first,
                                     std::int64_t last, double *tile) {
    frames_tile_body(f, stride, count, first, last, tile);
}
SPECTROGRAMS_CLONES void frames_tile(const float *f, std::int64_t stride, std::int64_t count, std::int64_t first,
                                     std::int64_t last, float *tile) {
    frames_tile_body(f, stride, count, first, last, tile);
}
SPECTROGRAMS_CLONES void tile_block_any(const std::complex<double> *s, std::int64_t ps, std::int64_t count,
                                        std::int64_t first, std::int64_t last, bool magnitude, double *out,
                                        std::int64_t ts) {
    tile_block_body(s, ps, count, first, last, magnitude, out, ts);
}
SPECTROGRAMS_CLONES void tile_block_any(const std::complex<float> *s, std::int64_t ps, std::int64_t count,
                                        std::int64_t first, std::int64_t last, bool magnitude, float *out,
                                        std::int64_t ts) {
    tile_block_body(s, ps, count, first, last, magnitude, out, ts);
}
// The block's power (or magnitude) as (bin, frame) rows of stride ts.
template <class T>
void tile_block(const std::complex<T> *s, std::int64_t ps, std::int64_t count, std::int64_t first,
                std::int64_t last, bool magnitude, T *out, std::int64_t ts) {
#ifdef SPECTROGRAMS_AVX2_TILE
    if (count == frames_per_block && have_avx2_tile)
        return tile_block16_avx2(s, ps, first, last, magnitude, out, ts);
#endif
    tile_block_any(s, ps, count, first, last, magnitude, out, ts);
}
// The same from a full block of unsplit spectra (only where fused_split_tile() says so).
template <class T>
void split_tile_block(const std::complex<T> *s, std::int64_t ps, const T *f, std::int64_t m, std::int64_t first,
                      std::int64_t last, bool magnitude, T *out, std::int64_t ts) {
#ifdef SPECTROGRAMS_AVX2_TILE
    split_tile16_avx2(s, ps, f, m, first, last, magnitude, out, ts);
#else
    split_tile_body(s, ps, f, m, frames_per_block, first, last, magnitude, out, ts);
#endif
}
// One frame's column of the tile from its unsplit spectrum (float64 with AVX2 only: see
// compute_frames).
inline void split_column(const double *z, const double *f, std::int64_t m, std::int64_t first, std::int64_t last,
                         bool magnitude, double *col, std::int64_t ts) {
#ifdef SPECTROGRAMS_AVX2_TILE
    split_column_avx2(z, f, m, first, last, magnitude, col, ts);
#else
    split_tile_body(reinterpret_cast<const std::complex<double> *>(z), 0, f, m, 1, first, last, magnitude, col, ts);
#endif
}
// The same for a frame's raw samples and a cosine window (cosine_column_avx2 or, wide, its
// AVX-512 twin, with tw from column_twiddles(..., wide)); false where the frame must be computed
// the time-domain way instead (three_term_column). Float64 with AVX2 only: compute_frames takes
// this path only where fused_split_tile() holds, which needs AVX2.
inline bool cosine_column(const double *z, const double *f, const double *tw, bool wide, std::int64_t m,
                          std::int64_t first, std::int64_t last, double a0, double h, bool magnitude,
                          double *scratch, double *col, std::int64_t ts) {
#ifdef SPECTROGRAMS_AVX2_TILE
    if (wide) return cosine_column_avx512(z, f, tw, m, first, last, a0, h, magnitude, scratch, col, ts);
    return cosine_column_avx2(z, f, tw, m, first, last, a0, h, magnitude, scratch, col, ts);
#else
    (void)z, (void)f, (void)tw, (void)wide, (void)m, (void)first, (void)last, (void)a0, (void)h, (void)magnitude,
        (void)scratch, (void)col, (void)ts;
    throw std::logic_error("cosine_column needs AVX2 (compute_frames takes it only where fused_split_tile())");
#endif
}
// Whether cosine_column may take its AVX-512 kernel: the CPU has AVX-512F, and the environment
// variable SPECTROGRAMS_NO_AVX512 is unset, empty or "0" (it makes the AVX2 kernel's bits, which
// are the same, checkable on one machine). Read when a plan is made.
bool column_avx512() {
#ifdef SPECTROGRAMS_AVX2_TILE
    const char *off = std::getenv("SPECTROGRAMS_NO_AVX512");
    return have_avx512_column && !(off && *off && std::strcmp(off, "0") != 0);
#else
    return false;
#endif
}
// The split factors of cosine_column's vector groups for bins [kb, ke), doubled: for AVX2 (wide
// false) groups of 4 in split_range_soa's lane order (k, k + 2, k + 1, k + 3), for AVX-512 groups
// of 8 in order; each group's real parts, then its imaginary parts.
std::vector<double> column_twiddles(const double *f, std::int64_t m, std::int64_t kb, std::int64_t ke, bool wide) {
    std::vector<double> tw;
    const std::int64_t g = wide ? 8 : 4;
    for (std::int64_t k = std::min(std::max<std::int64_t>(kb, 1), ke); k + g <= std::min(ke, m); k += g) {
        for (int part = 0; part < 2; ++part) {
            if (wide) {
                for (std::int64_t lane = 0; lane < 8; ++lane) tw.push_back(2 * f[2 * (k + lane) + part]);
            } else {
                for (std::int64_t lane : {0, 2, 1, 3}) tw.push_back(2 * f[2 * (k + lane) + part]);
            }
        }
    }
    return tw;
}
// a0 and a1 where the window is a0 - a1 cos(2 pi n / N) of an even length N >= 4 with a0 > 0:
// from w[0] = a0 - a1 and w[N / 2] = a0 + a1, checked at every n to 8 ulp of a0 + |a1| (scipy's
// periodic Hann and ours differ by an ulp or two).
struct CosineWindow {
    double a0, a1;
};
std::optional<CosineWindow> cosine_coefficients(const std::vector<double> &w) {
    const auto n = static_cast<std::int64_t>(w.size());
    if (n < 4 || n % 2 != 0) return std::nullopt;
    const double a0 = (w[0] + w[n / 2]) / 2, a1 = (w[n / 2] - w[0]) / 2, pi = std::acos(-1.0);
    const double tol = 8 * std::numeric_limits<double>::epsilon() * (std::abs(a0) + std::abs(a1));
    if (!(a0 > 0)) return std::nullopt;
    for (std::int64_t j = 0; j < n; ++j)
        if (!(std::abs(w[j] - (a0 - a1 * std::cos(2 * pi * static_cast<double>(j) / static_cast<double>(n)))) <= tol))
            return std::nullopt;
    return CosineWindow{a0, a1};
}
// Whether a full block may skip the split step and have the tile split its bins (AVX2 only: the
// scalar tile gains nothing from it).
bool fused_split_tile() {
#ifdef SPECTROGRAMS_AVX2_TILE
    return have_avx2_tile;
#else
    return false;
#endif
}
SPECTROGRAMS_CLONES void band_sums(const double *tile, std::int64_t count, std::int64_t first,
                                   const SparseFilterbank &fb, const double *weights, double *out, std::int64_t rs) {
    band_sums_body<double, false>(tile, count, first, fb, weights, out, rs, nullptr, nullptr, 0);
}
SPECTROGRAMS_CLONES void band_sums(const float *tile, std::int64_t count, std::int64_t first,
                                   const SparseFilterbank &fb, const float *weights, float *out, std::int64_t rs) {
    band_sums_body<float, false>(tile, count, first, fb, weights, out, rs, nullptr, nullptr, 0);
}
SPECTROGRAMS_CLONES void complex_band_sums(const double *tile, std::int64_t count, std::int64_t first,
                                           const SparseFilterbank &fb, const double *weights, double *out,
                                           std::int64_t rs, const double *weights_imag, double *out_imag,
                                           std::int64_t rs_imag) {
    band_sums_body<double, true>(tile, count, first, fb, weights, out, rs, weights_imag, out_imag, rs_imag);
}
SPECTROGRAMS_CLONES void complex_band_sums(const float *tile, std::int64_t count, std::int64_t first,
                                           const SparseFilterbank &fb, const float *weights, float *out,
                                           std::int64_t rs, const float *weights_imag, float *out_imag,
                                           std::int64_t rs_imag) {
    band_sums_body<float, true>(tile, count, first, fb, weights, out, rs, weights_imag, out_imag, rs_imag);
}

// 10 / ln 10: dB = db_per_neper * ln(power).
template <class T> T db_per_neper() { return static_cast<T>(10.0 / std::log(10.0)); }

// Cells computed in float64 rounded to the plan's dtype (SpectrogramPlan::wide_).
template <class T> void narrow(const double *src, T *dst, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) dst[i] = static_cast<T>(src[i]);
}

}  // namespace

ChromaNorm chroma_norm_from_string(const std::string &name) {
    if (name == "none") return ChromaNorm::none;
    if (name == "l1") return ChromaNorm::l1;
    if (name == "l2") return ChromaNorm::l2;
    if (name == "max") return ChromaNorm::max;
    throw invalid_input("chroma norm must be one of 'none', 'l1', 'l2', 'max'; got '" + name + "'");
}

void validate(const PlanConfig &c) {
    const auto &s = c.stft;
    if (s.n_fft < 1) throw invalid_input("n_fft must be >= 1, got " + std::to_string(s.n_fft));
    if (s.n_fft > (1LL << 28)) throw invalid_input("n_fft must be <= 2^28, got " + std::to_string(s.n_fft));
    if (s.hop_size < 1) throw invalid_input("hop_size must be >= 1, got " + std::to_string(s.hop_size));
    if (s.hop_size > s.n_fft)
        throw invalid_input("hop_size must be <= n_fft (" + std::to_string(s.n_fft) + "), got " +
                            std::to_string(s.hop_size));
    if (static_cast<std::int64_t>(s.window.size()) != s.n_fft)
        throw dimension_mismatch("window must have n_fft = " + std::to_string(s.n_fft) +
                                 " coefficients, got " + std::to_string(s.window.size()));
    for (double w : s.window)
        if (!std::isfinite(w)) throw invalid_input("window coefficients must be finite, got " + fmt(w));
    if (!(std::isfinite(c.sample_rate) && c.sample_rate > 0))
        throw invalid_input("sample_rate must be finite and > 0, got " + fmt(c.sample_rate));
    if (!std::isfinite(c.floor_db)) throw invalid_input("floor_db must be finite, got " + fmt(c.floor_db));
    // Band edges of a filterbank: 0 <= f_min (0 < f_min where `positive`) < f_max <= Nyquist.
    auto check_edges = [&](double f_min, double f_max, bool positive) {
        const double nyquist = c.sample_rate / 2;
        if (!(std::isfinite(f_min) && (positive ? f_min > 0 : f_min >= 0)))
            throw invalid_input(std::string("f_min must be finite and ") + (positive ? "> 0" : ">= 0") +
                                ", got " + fmt(f_min));
        if (!(std::isfinite(f_max) && f_max > f_min))
            throw invalid_input("f_max must be finite and > f_min (" + fmt(f_min) + "), got " + fmt(f_max));
        if (f_max > nyquist)
            throw invalid_input("f_max must be <= the Nyquist frequency sample_rate/2 = " + fmt(nyquist) +
                                " Hz, got " + fmt(f_max));
    };
    if (c.scale == Scale::mel) {
        if (c.mel.n_mels < 1) throw invalid_input("n_mels must be >= 1, got " + std::to_string(c.mel.n_mels));
        check_edges(c.mel.f_min, c.mel.f_max, false);
    } else if (c.scale == Scale::erb) {
        if (c.erb.n_bands < 2) throw invalid_input("n_filters must be >= 2, got " + std::to_string(c.erb.n_bands));
        check_edges(c.erb.f_min, c.erb.f_max, false);
    } else if (c.scale == Scale::loghz) {
        if (c.loghz.n_bands < 1) throw invalid_input("n_bins must be >= 1, got " + std::to_string(c.loghz.n_bands));
        check_edges(c.loghz.f_min, c.loghz.f_max, true);
    } else if (c.scale == Scale::chroma) {
        const auto &h = c.chroma;
        if (!(std::isfinite(h.tuning) && h.tuning > 0))
            throw invalid_input("tuning must be finite and > 0 Hz, got " + fmt(h.tuning));
        if (!(std::isfinite(h.f_min) && h.f_min >= 0))
            throw invalid_input("f_min must be finite and >= 0, got " + fmt(h.f_min));
        if (!(std::isfinite(h.f_max) && h.f_max > h.f_min))
            throw invalid_input("f_max must be finite and > f_min (" + fmt(h.f_min) + "), got " + fmt(h.f_max));
        if (c.quantity != Quantity::magnitude)
            throw invalid_input("a chromagram is computed from |X|: its quantity must be 'magnitude'");
    } else if (c.scale == Scale::cqt) {
        const auto &q = c.cqt;
        if (q.bins_per_octave < 1)
            throw invalid_input("bins_per_octave must be >= 1, got " + std::to_string(q.bins_per_octave));
        if (q.n_bins < 1) throw invalid_input("the CQT needs at least one bin, got " + std::to_string(q.n_bins));
        if (!(std::isfinite(q.f_min) && q.f_min > 0))
            throw invalid_input("f_min must be finite and > 0, got " + fmt(q.f_min));
        const double octaves = static_cast<double>(q.n_bins - 1) / static_cast<double>(q.bins_per_octave);
        const double top = q.f_min * std::pow(2.0, octaves);
        if (!(top < c.sample_rate / 2))
            throw invalid_input("the top CQT bin, " + fmt(top) + " Hz, must be below the Nyquist frequency " +
                                fmt(c.sample_rate / 2) + " Hz: lower f_min or n_octaves");
    }
    if (c.quantity == Quantity::complex && c.scale != Scale::linear)
        throw invalid_input("a complex output exists only on the linear scale");
}

template <class T>
SpectrogramPlan<T>::SpectrogramPlan(PlanConfig config) : config_(std::move(config)) {
    validate(config_);
    const auto &s = config_.stft;
    n_fft_bins_ = s.n_fft / 2 + 1;
    constexpr std::int64_t reals_per_line = 64 / sizeof(T);
    padded_frame_ = round_up(s.n_fft, reals_per_line);
    padded_spectrum_ = round_up(n_fft_bins_, reals_per_line / 2);
    floor_power_ = static_cast<T>(std::pow(10.0, config_.floor_db / 10.0));
    floor_log_ = floor_power_;
    scaled_log_floor(&floor_log_, 1, floor_power_, db_per_neper<T>());  // what a cell on the floor computes
    window_.assign(s.window.begin(), s.window.end());
    if constexpr (std::is_same_v<T, float>) {
        if (config_.scale == Scale::linear && config_.quantity == Quantity::db) {
            PlanConfig wide = config_;
            wide.stft.window.assign(window_.begin(), window_.end());  // the float32 coefficients
            wide_ = std::make_shared<const SpectrogramPlan<double>>(std::move(wide));
        }
    }
    fft_ = get_fft_plan<T>(FftKind::r2c, s.n_fft);
    const double sr = config_.sample_rate;
    switch (config_.scale) {
        case Scale::linear: break;
        case Scale::mel: {
            const auto &m = config_.mel;
            filterbank_ = mel_filterbank(sr, s.n_fft, m.n_mels, m.f_min, m.f_max, m.norm, m.htk);
            break;
        }
        case Scale::erb:
            filterbank_ = erb_filterbank(sr, s.n_fft, config_.erb.n_bands, config_.erb.f_min, config_.erb.f_max);
            break;
        case Scale::loghz:
            filterbank_ = loghz_filterbank(sr, s.n_fft, config_.loghz.n_bands, config_.loghz.f_min,
                                           config_.loghz.f_max);
            break;
        case Scale::chroma:
            filterbank_ = chroma_filterbank(sr, s.n_fft, config_.chroma.tuning, config_.chroma.f_min,
                                            config_.chroma.f_max);
            break;
        case Scale::cqt:
            filterbank_ = cqt_kernels(sr, s.n_fft, config_.cqt.bins_per_octave, config_.cqt.n_bins, config_.cqt.f_min);
            band_weights_imag_.assign(filterbank_.weights_imag.begin(), filterbank_.weights_imag.end());
            std::fill(window_.begin(), window_.end(), T(1));  // the CQT's frames are not windowed
            break;
    }
    if (config_.scale == Scale::linear) {
        n_bins_ = n_fft_bins_;
    } else {
        band_weights_.assign(filterbank_.weights.begin(), filterbank_.weights.end());
        n_bins_ = filterbank_.n_bands;
        tile_first_ = n_fft_bins_;
        tile_last_ = 0;
        for (std::int64_t b = 0; b < filterbank_.n_bands; ++b) {
            if (filterbank_.count[b] == 0) continue;
            tile_first_ = std::min(tile_first_, filterbank_.start[b]);
            tile_last_ = std::max(tile_last_, filterbank_.start[b] + filterbank_.count[b]);
        }
        if (tile_last_ <= tile_first_) tile_first_ = tile_last_ = 0;  // every band empty
    }
    if constexpr (std::is_same_v<T, double>) {
        if (config_.scale != Scale::cqt) {
            if (const auto c = cosine_coefficients(s.window)) {  // even n_fft: fft_->splits()
                cosine_window_ = true;
                cosine_a0_ = c->a0;
                cosine_h_ = c->a1 / 2;
                column_wide_ = column_avx512();
                column_twiddles_ = column_twiddles(fft_->split_factors(), s.n_fft / 2, tile_first_ - 1,
                                                   tile_last_ + 1, column_wide_);
            }
        }
    }
}

template <class T> DType SpectrogramPlan<T>::output_dtype() const noexcept {
    if (config_.quantity == Quantity::complex) return dtype_of<complex_type>::value;
    return dtype_of<T>::value;
}

template <class T> std::vector<double> SpectrogramPlan<T>::frequencies() const {
    if (config_.scale != Scale::linear) return filterbank_.centres;
    std::vector<double> f(static_cast<std::size_t>(n_fft_bins_));
    for (std::int64_t k = 0; k < n_fft_bins_; ++k)
        f[k] = static_cast<double>(k) * config_.sample_rate / static_cast<double>(config_.stft.n_fft);
    return f;
}

template <class T> void SpectrogramPlan<T>::finish_cells(T *row, std::int64_t count) const {
    if (config_.quantity == Quantity::magnitude) {
        for (std::int64_t i = 0; i < count; ++i) row[i] = std::sqrt(row[i]);
    } else if (config_.quantity == Quantity::db) {
        // 10 log10(max(p, floor)) as (10 / ln 10) ln(...), with the vectorised log (libmvec on AVX2
        // machines: a cell's bits do not depend on its position in the row, so compute_frame's
        // single column equals the block's). Cells on the floor read floor_db exactly.
        scaled_log_floor(row, count, floor_power_, db_per_neper<T>());
        const T floor_db = static_cast<T>(config_.floor_db), at_floor = floor_log_;
        for (std::int64_t i = 0; i < count; ++i) row[i] = row[i] <= at_floor ? floor_db : row[i];
    }
}

template <class T>
void SpectrogramPlan<T>::emit_block(const complex_type *spectra, std::int64_t count, T *tile,
                                    void *out, std::int64_t rs, std::int64_t column, bool unsplit,
                                    bool tile_ready) const {
    const std::int64_t nb = n_fft_bins_, ps = padded_spectrum_;
    const Quantity q = config_.quantity;
    if (q == Quantity::complex) {
        auto *o = static_cast<complex_type *>(out) + column;
        for (std::int64_t k = 0; k < nb; ++k)
            for (std::int64_t i = 0; i < count; ++i) o[k * rs + i] = spectra[i * ps + k];
        return;
    }
    T *o = static_cast<T *>(out) + column;
    auto post = [&](T *row) { finish_cells(row, count); };
    if (config_.scale == Scale::linear) {
        tile_block(spectra, ps, count, 0, nb, q == Quantity::magnitude, o, rs);
        if (q == Quantity::db)
            for (std::int64_t k = 0; k < nb; ++k) post(o + k * rs);
        return;
    }
    // Power of the block over the bins the filterbank uses, transposed to (bin, frame) so that
    // each band sums whole rows; chroma weighs |X| instead. unsplit: a full block of
    // FftPlan::r2c_unsplit spectra, whose bins the tile splits as it squares them.
    const bool chroma = config_.scale == Scale::chroma;
    const auto &fb = filterbank_;
    if (!tile_ready) {
        if (unsplit)
            split_tile_block(spectra, ps, fft_->split_factors(), config_.stft.n_fft / 2, tile_first_, tile_last_,
                             chroma, tile, frames_per_block);
        else
            tile_block(spectra, ps, count, tile_first_, tile_last_, chroma, tile, frames_per_block);
    }
    // The columns past count that band_sums's last vector computes and drops: zero, not stale.
    constexpr std::int64_t lanes = band_lanes<T>;
    if (const std::int64_t pad = (lanes - count % lanes) % lanes; pad > 0)
        for (std::int64_t k = 0; k < tile_last_ - tile_first_; ++k)
            std::fill(tile + k * frames_per_block + count, tile + k * frames_per_block + count + pad, T(0));
    band_sums(tile, count, tile_first_, fb, band_weights_.data(), o, rs);
    if (!chroma)
        for (std::int64_t b = 0; b < fb.n_bands; ++b) post(o + b * rs);
    if (chroma && config_.chroma.norm != ChromaNorm::none) {
        const ChromaNorm norm = config_.chroma.norm;
        for (std::int64_t i = 0; i < count; ++i) {
            T size = 0;
            for (std::int64_t b = 0; b < fb.n_bands; ++b) {
                const T v = std::abs(o[b * rs + i]);
                if (norm == ChromaNorm::l2) size += v * v;
                else if (norm == ChromaNorm::l1) size += v;
                else size = std::max(size, v);
            }
            if (norm == ChromaNorm::l2) size = std::sqrt(size);
            if (size > 0)
                for (std::int64_t b = 0; b < fb.n_bands; ++b) o[b * rs + i] /= size;
        }
    }
}

template <class T>
void SpectrogramPlan<T>::emit_cqt_block(const T *frames, std::int64_t count, T *tile, void *out, std::int64_t rs,
                                        std::int64_t column) const {
    // X_k = sum conj(K_k[m]) frame[m] = re - i im with re, im the sums against K's real and
    // imaginary parts; |X_k|^2 = re^2 + im^2.
    const auto &fb = filterbank_;
    T *re = static_cast<T *>(out) + column;
    auto *im = static_cast<T *>(t_imag.get(sizeof(T) * static_cast<std::size_t>(fb.n_bands * count)));
    frames_tile(frames, padded_frame_, count, tile_first_, tile_last_, tile);
    complex_band_sums(tile, count, tile_first_, fb, band_weights_.data(), re, rs, band_weights_imag_.data(), im,
                      count);
    for (std::int64_t b = 0; b < fb.n_bands; ++b) {
        T *row = re + b * rs;
        const T *irow = im + b * count;
        for (std::int64_t i = 0; i < count; ++i) row[i] = row[i] * row[i] + irow[i] * irow[i];
        finish_cells(row, count);
    }
}

namespace {
// Bytes [begin, end) of a contiguous signal that frames [f0, f0 + count) read and frame f0 - 1
// does not (empty for a strided signal, or where count <= 0).
struct ByteSpan {
    const char *begin = nullptr, *end = nullptr;
};
template <class T>
ByteSpan new_samples(const SignalView<T> &x, std::int64_t f0, std::int64_t count, const StftConfig &s,
                     std::int64_t pad) {
    if (count <= 0 || x.stride != 1) return {};
    const std::int64_t lo = std::clamp<std::int64_t>((f0 - 1) * s.hop_size - pad + s.n_fft, 0, x.length);
    const std::int64_t hi = std::clamp<std::int64_t>((f0 + count - 1) * s.hop_size - pad + s.n_fft, lo, x.length);
    return {reinterpret_cast<const char *>(x.data + lo), reinterpret_cast<const char *>(x.data + hi)};
}
// One load from each 4 KB page the span touches. A software prefetch that misses the TLB can be
// dropped (it measured so on this AMD EPYC): a load walks the page tables, so the prefetches of
// the span's lines that follow find their pages mapped.
inline void touch_pages(const ByteSpan &span) {
    constexpr std::uintptr_t page = 4096;
    for (auto a = reinterpret_cast<std::uintptr_t>(span.begin); a < reinterpret_cast<std::uintptr_t>(span.end);
         a = (a & ~(page - 1)) + page) {
        const volatile char *p = reinterpret_cast<const volatile char *>(a);
        (void)*p;
    }
}
// Prefetches part i of n of the span (its cache lines split evenly) towards L2.
inline void prefetch_part(const ByteSpan &span, std::int64_t i, std::int64_t n) {
    constexpr std::int64_t line = 64;
    const std::int64_t lines = (span.end - span.begin + line - 1) / line;
    for (std::int64_t l = lines * i / n, e = lines * (i + 1) / n; l < e; ++l)
        __builtin_prefetch(span.begin + l * line, 0, 2);
}
}  // namespace

template <class T> bool SpectrogramPlan<T>::fused_split() const noexcept {
    return config_.scale != Scale::cqt && config_.scale != Scale::linear && fft_->splits() && fused_split_tile();
}

template <class T> bool SpectrogramPlan<T>::column_path() const noexcept {
    const auto &s = config_.stft;
    if (!(fused_split() && std::is_same_v<T, double> && s.n_fft >= 2048)) return false;
    const auto p = mirror_pairs(tile_first_, tile_last_, s.n_fft / 2, 4);
    return p.end == p.lo;
}

template <class T> bool SpectrogramPlan<T>::frequency_window() const noexcept {
    return cosine_window_ && column_path();
}

template <class T>
void SpectrogramPlan<T>::compute_frames(const SignalView<T> &x, void *out, std::int64_t rs,
                                        std::int64_t first, std::int64_t last,
                                        std::int64_t origin) const {
    const auto &s = config_.stft;
    const std::int64_t pad = frame_padding(s.n_fft, s.centre);
    const std::int64_t block = std::min(frames_per_block, last - first);
    if (block <= 0) return;
    const bool cqt = config_.scale == Scale::cqt;
    // Full blocks of the filterbank scales leave the split step to the tile (emit_block), which
    // splits only the bins it uses; a frame's bits are the same either way, so compute_frame and
    // partial blocks need not do the same. (The linear scale wants every bin: its tile writes the
    // output rows, and splitting there measured no faster than the split step.)
    const bool fuse = fused_split();
    // In float64, where the tile's bins have no mirror bins in it (chroma: bins below a quarter
    // of the sample rate) and frames are 2048 points or more, every block (full or not) goes
    // further: each frame's column of the tile is computed right after its FFT, while the
    // spectrum is in L1 (split_column), so the spectra share one buffer and the tile never reads
    // them back from L2. Measured in one process, alternating: chromagram 3-6% faster at 2048
    // points, 2-4% at 4096; at 1024 points within 2.5% either way, at 512 up to 5% slower, and
    // with mirror pairs (a full-range mel) 4-13% slower, so those keep the block tile.
    const bool by_column = column_path();
    // The CQT's kernels read a block of windowed frames. The FFT kinds window one frame at a time
    // into the same buffer, which the FFT then reads from L1, except for frames of 8 to 16 KB:
    // those are windowed a block at a time (windowed_frames), which reads the window once for
    // the block where frame by frame it comes from L2 again for each frame. Measured in one
    // process, interleaved: 2-4% faster for 1024 and 2048 points (float64) and 2048 (float32);
    // within 2.5% either way for shorter frames (512 points slower windowed a block at a time)
    // and for 4096 points, whose block of frames would crowd the spectra out of L2.
    //
    // The column path goes further still where the window is a0 - a1 cos(2 pi n / N) (periodic
    // Hann, Hamming): it transforms the raw frame, straight from the signal where FFTW can read
    // it there, and windows in the frequency domain (cosine_column), a three-term sum over the
    // few hundred bins the tile wants in place of a product over the frame's samples. Measured
    // in one process, alternating (chromagram, 10 s at 22.05 kHz, 2048/512, librosa's periodic
    // Hann): 5-8% faster on a clip in cache, 4-6% on fresh clips; the frames copied instead of
    // read in place, 10-12% slower than that. A symmetric window (the built-in Hann) has period
    // N - 1, no harmonic of the frame: its spectrum is no three-term sum, so it keeps the product.
    const bool freq_window = by_column && cosine_window_;  // frequency_window()
    const std::size_t frame_bytes = sizeof(T) * static_cast<std::size_t>(padded_frame_);
    const bool window_block =
        !freq_window && (cqt || (frame_bytes >= window_frame_min && frame_bytes <= window_frame_max));
    auto *frames = static_cast<T *>(t_frames.get(sizeof(T) * padded_frame_ * (window_block ? block : 1)));
    const std::int64_t soa = round_up(tile_last_ - tile_first_ + 2, 8);  // cosine_column's scratch
    auto *spectra = static_cast<complex_type *>(t_spectra.get(
        by_column ? sizeof(complex_type) * padded_spectrum_ + sizeof(double) * 2 * soa
                  : sizeof(complex_type) * padded_spectrum_ * block));
    // A filterbank tile has frames_per_block columns even for a shorter block (see band_sums).
    T *tile = config_.scale == Scale::linear
                  ? nullptr
                  : static_cast<T *>(t_tile.get(sizeof(T) * std::max<std::int64_t>(1, tile_last_ - tile_first_) *
                                                (cqt ? block : frames_per_block)));
    for (std::int64_t f0 = first; f0 < last; f0 += block) {
        const std::int64_t count = std::min(block, last - f0);
        const bool unsplit = fuse && count == frames_per_block;
        const std::int64_t start = f0 * s.hop_size - pad;
        if (window_block)
            windowed_frames(x, start, s.hop_size, count, s.n_fft, window_.data(), frames, padded_frame_);
        // The samples the next block adds: their pages touched now, their lines prefetched a part
        // after each FFT of this one. A signal fresh from memory (a dataset's clips) then streams
        // in while the FFTs compute, instead of stalling the next block's windowing. Measured on
        // 10 s clips at 22.05 kHz (2048/512, chromagram, float64) cycling through 56 MB of them:
        // the prefetches alone 4-5% faster, the page touches another 6-8%; on a clip already in
        // cache, 1% slower.
        const ByteSpan ahead = new_samples(x, f0 + block, std::min(block, last - f0 - block), s, pad);
        touch_pages(ahead);
        if (cqt)
            prefetch_part(ahead, 0, 1);
        else
            for (std::int64_t i = 0; i < count; ++i) {
                prefetch_part(ahead, i, count);
                T *frame = window_block ? frames + i * padded_frame_ : frames;
                if constexpr (std::is_same_v<T, double>) {
                    if (freq_window) {
                        const double *raw = raw_frame(x, start + i * s.hop_size, s.n_fft,
                                                      FftPlan<double>::readable, frame);
                        fft_->r2c_unsplit_from(raw, spectra);
                        const bool magnitude = config_.scale == Scale::chroma;
                        if (cosine_column(reinterpret_cast<const double *>(spectra), fft_->split_factors(),
                                          column_twiddles_.data(), column_wide_, s.n_fft / 2, tile_first_,
                                          tile_last_, cosine_a0_, cosine_h_, magnitude,
                                          reinterpret_cast<double *>(spectra + padded_spectrum_), tile + i,
                                          frames_per_block))
                            continue;
                        // the window's zeros hold the frame's samples: the time-domain column path
                        windowed_frames(x, start + i * s.hop_size, s.hop_size, 1, s.n_fft, window_.data(), frame, 0);
                        fft_->r2c_unsplit(frame, spectra);
                        split_column(reinterpret_cast<const double *>(spectra), fft_->split_factors(), s.n_fft / 2,
                                     tile_first_, tile_last_, magnitude, tile + i, frames_per_block);
                        continue;
                    }
                }
                if (!window_block)
                    windowed_frames(x, start + i * s.hop_size, s.hop_size, 1, s.n_fft, window_.data(), frame, 0);
                if constexpr (std::is_same_v<T, double>) {
                    if (by_column) {
                        fft_->r2c_unsplit(frame, spectra);
                        split_column(reinterpret_cast<const double *>(spectra), fft_->split_factors(),
                                     s.n_fft / 2, tile_first_, tile_last_, config_.scale == Scale::chroma,
                                     tile + i, frames_per_block);
                        continue;
                    }
                }
                if (unsplit) fft_->r2c_unsplit(frame, spectra + i * padded_spectrum_);
                else fft_->r2c(frame, spectra + i * padded_spectrum_);
            }
        if (cqt) emit_cqt_block(frames, count, tile, out, rs, f0 - origin);
        else emit_block(spectra, count, tile, out, rs, f0 - origin, unsplit, by_column);
    }
}

template <class T>
std::vector<std::int64_t> SpectrogramPlan<T>::frame_counts(const std::vector<SignalView<T>> &xs) const {
    if (xs.empty()) throw invalid_input("a batch needs at least one signal, got 0");
    std::vector<std::int64_t> frames(xs.size());
    for (std::size_t b = 0; b < xs.size(); ++b) {
        if (xs[b].length < 1)
            throw invalid_input("signal " + std::to_string(b) + " is empty; expected at least one sample");
        frames[b] = n_frames(xs[b].length);
    }
    return frames;
}

template <class T>
void SpectrogramPlan<T>::run(const std::vector<SignalView<T>> &xs, const std::vector<std::int64_t> &frames,
                             std::int64_t max_frames, int n_threads, void *out) const {
    if (wide_) return run_wide(xs, frames, max_frames, n_threads, out);
    const std::int64_t n_items = static_cast<std::int64_t>(xs.size());
    const std::size_t elem = dtype_size(output_dtype());
    const std::int64_t item_stride = n_bins_ * max_frames;
    std::int64_t total = 0;
    for (auto f : frames) total += f;

    // Tasks are (item, run of frames); runs are whole blocks, about 4 per thread in all, so one
    // long signal uses every thread and unequal items stay balanced.
    struct Task { std::int64_t item, first, last; };
    std::vector<Task> tasks;
    const std::int64_t chunk =
        n_threads <= 1 ? std::numeric_limits<std::int64_t>::max()
                       : std::max(frames_per_block,
                                  round_up((total + 4 * n_threads - 1) / (4 * n_threads), frames_per_block));
    for (std::int64_t b = 0; b < n_items; ++b)
        for (std::int64_t f = 0; f < frames[b];) {
            const std::int64_t last = frames[b] - f > chunk ? f + chunk : frames[b];
            tasks.push_back({b, f, last});
            f = last;
        }
    // Longest first: the threads take tasks in this order, so the last ones to finish are short
    // (unequal items stay balanced). Each task writes its own cells, so the order changes no bits.
    if (n_threads > 1)
        std::stable_sort(tasks.begin(), tasks.end(),
                         [](const Task &a, const Task &b) { return a.last - a.first > b.last - b.first; });

    char *base = static_cast<char *>(out);
    const bool stream = elem * static_cast<std::size_t>(item_stride * n_items) >= stream_min_bytes;
    // Frames per staged run: whole blocks, as many as fit the staging buffer.
    const std::int64_t run_frames =
        std::max(frames_per_block, static_cast<std::int64_t>(stage_bytes / (elem * static_cast<std::size_t>(n_bins_))) /
                                       frames_per_block * frames_per_block);
    parallel_for(static_cast<std::int64_t>(tasks.size()), n_threads, [&](std::int64_t t) {
        const Task &task = tasks[static_cast<std::size_t>(t)];
        char *item = base + elem * static_cast<std::size_t>(task.item * item_stride);
        if (!stream) {
            compute_frames(xs[task.item], item, max_frames, task.first, task.last, 0);
        } else {
            for (std::int64_t f0 = task.first; f0 < task.last; f0 += run_frames) {
                const std::int64_t count = std::min(run_frames, task.last - f0);
                const std::size_t row_bytes = elem * static_cast<std::size_t>(count);
                char *stage = static_cast<char *>(t_stage.get(row_bytes * static_cast<std::size_t>(n_bins_)));
                compute_frames(xs[task.item], stage, count, f0, f0 + count, f0);
                if (count == max_frames) {  // the item's rows are contiguous
                    stream_copy(item, stage, row_bytes * static_cast<std::size_t>(n_bins_));
                } else {
                    for (std::int64_t k = 0; k < n_bins_; ++k)
                        stream_copy(item + elem * static_cast<std::size_t>(k * max_frames + f0),
                                    stage + row_bytes * static_cast<std::size_t>(k), row_bytes);
                }
            }
            stream_fence();
        }
        if (task.last == frames[task.item] && task.last < max_frames)  // zero the padding
            for (std::int64_t k = 0; k < n_bins_; ++k)
                std::memset(item + elem * static_cast<std::size_t>(k * max_frames + task.last), 0,
                            elem * static_cast<std::size_t>(max_frames - task.last));
    });
}

template <class T>
void SpectrogramPlan<T>::run_wide(const std::vector<SignalView<T>> &xs, const std::vector<std::int64_t> &frames,
                                  std::int64_t max_frames, int n_threads, void *out) const {
    // The samples upcast exactly, the cells computed by the float64 plan and rounded once.
    std::vector<std::unique_ptr<double[]>> copies;
    std::vector<SignalView<double>> views;
    for (const auto &x : xs) {
        std::unique_ptr<double[]> c(new double[static_cast<std::size_t>(x.length)]);
        for (std::int64_t i = 0; i < x.length; ++i) c[i] = static_cast<double>(x.data[i * x.stride]);
        views.push_back({c.get(), x.length, 1});
        copies.push_back(std::move(c));
    }
    const std::int64_t cells = static_cast<std::int64_t>(xs.size()) * n_bins_ * max_frames;
    auto wide = make_buffer(DType::f64, {cells});
    wide_->run(views, frames, max_frames, n_threads, wide->data());
    narrow(wide->template as<double>(), static_cast<T *>(out), cells);
}

template <class T>
BufferPtr SpectrogramPlan<T>::compute(const SignalView<T> &x, int n_threads) const {
    const std::vector<SignalView<T>> xs{x};
    const auto frames = frame_counts(xs);
    auto out = make_buffer(output_dtype(), {n_bins_, frames[0]});
    run(xs, frames, frames[0], n_threads, out->data());
    return out;
}

template <class T>
BufferPtr SpectrogramPlan<T>::compute_batch(const std::vector<SignalView<T>> &xs, int n_threads,
                                            bool pad) const {
    const auto frames = frame_counts(xs);
    if (!pad)
        for (std::size_t b = 1; b < frames.size(); ++b)
            if (frames[b] != frames[0])
                throw dimension_mismatch("pad=False needs equal frame counts, but item 0 has " +
                                         std::to_string(frames[0]) + " frames and item " + std::to_string(b) +
                                         " has " + std::to_string(frames[b]) + " frames");
    const std::int64_t max_frames = *std::max_element(frames.begin(), frames.end());
    auto out = make_buffer(output_dtype(), {static_cast<std::int64_t>(xs.size()), n_bins_, max_frames});
    run(xs, frames, max_frames, n_threads, out->data());
    return out;
}

template <class T>
BufferPtr SpectrogramPlan<T>::compute_frame(const SignalView<T> &x, std::int64_t index) const {
    const std::int64_t n = n_frames(x.length);
    if (index < 0 || index >= n)
        throw std::out_of_range("frame index " + std::to_string(index) + " is out of range for a signal of " +
                                std::to_string(x.length) + " samples with " + std::to_string(n) + " frames");
    auto out = make_buffer(output_dtype(), {n_bins_});
    if (wide_) {
        // Only the frame's own samples are upcast: the copy's other samples are never read.
        const auto &s = config_.stft;
        const std::int64_t start = index * s.hop_size - frame_padding(s.n_fft, s.centre);
        const std::int64_t lo = std::max<std::int64_t>(start, 0), hi = std::min(start + s.n_fft, x.length);
        std::unique_ptr<double[]> wide(new double[static_cast<std::size_t>(x.length)]);
        for (std::int64_t i = lo; i < hi; ++i) wide[i] = static_cast<double>(x.data[i * x.stride]);
        std::vector<double> column(static_cast<std::size_t>(n_bins_));
        wide_->compute_frames({wide.get(), x.length, 1}, column.data(), 1, index, index + 1, index);
        narrow(column.data(), static_cast<T *>(out->data()), n_bins_);
        return out;
    }
    compute_frames(x, out->data(), 1, index, index + 1, index);
    return out;
}

template class SpectrogramPlan<float>;
template class SpectrogramPlan<double>;

}  // namespace spectrograms
