// FFTW plan cache (one planner lock), float/double traits and execute wrappers.
//
// FFTW's planner is not thread-safe; its new-array execute functions are. Plans are made once
// under planner_mutex() and shared; every transform runs a single-frame plan per frame, so a
// frame's numbers never depend on how frames were grouped into blocks, threads or batches.
#pragma once
#include <fftw3.h>

#include <complex>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace spectrograms {

template <class T> struct fftw_traits;

template <> struct fftw_traits<double> {
    using plan_type = fftw_plan;
    using complex_type = fftw_complex;
    static void execute_r2c(plan_type p, double *in, complex_type *out) { fftw_execute_dft_r2c(p, in, out); }
    static void execute_c2r(plan_type p, complex_type *in, double *out) { fftw_execute_dft_c2r(p, in, out); }
    static void execute_c2c(plan_type p, complex_type *in, complex_type *out) { fftw_execute_dft(p, in, out); }
    static int alignment_of(const double *p) { return fftw_alignment_of(const_cast<double *>(p)); }
};

template <> struct fftw_traits<float> {
    using plan_type = fftwf_plan;
    using complex_type = fftwf_complex;
    static void execute_r2c(plan_type p, float *in, complex_type *out) { fftwf_execute_dft_r2c(p, in, out); }
    static void execute_c2r(plan_type p, complex_type *in, float *out) { fftwf_execute_dft_c2r(p, in, out); }
    static void execute_c2c(plan_type p, complex_type *in, complex_type *out) { fftwf_execute_dft(p, in, out); }
    static int alignment_of(const float *p) { return fftwf_alignment_of(const_cast<float *>(p)); }
};

/// Which transform a plan computes. Forward/backward refer to the sign of the exponent.
enum class FftKind : std::uint8_t { r2c, c2r, c2c_forward, c2c_backward };

/// A shared FFTW plan for one transform of length n on 64-byte-aligned arrays. Destroyed (under
/// the planner lock) when the last holder lets go, so clearing the cache never breaks a plan.
template <class T> class FftPlan {
  public:
    using plan_type = typename fftw_traits<T>::plan_type;
    FftPlan(FftKind kind, std::int64_t n);
    ~FftPlan();
    FftPlan(const FftPlan &) = delete;
    FftPlan &operator=(const FftPlan &) = delete;

    std::int64_t size() const noexcept { return n_; }
    FftKind kind() const noexcept { return kind_; }
    /// Thread-safe; in and out must be 64-byte aligned (as every engine scratch array is).
    void r2c(T *in, std::complex<T> *out) const noexcept;
    void c2r(std::complex<T> *in, T *out) const noexcept;  // destroys `in`
    void c2c(std::complex<T> *in, std::complex<T> *out) const noexcept;

    /// Whether r2c runs as a complex FFT of n / 2 plus a split step (every even length). Then
    /// r2c_unsplit gives the complex FFT alone, Z = DFT_{n/2}(x[2j] + i x[2j+1]) in out[0, n/2),
    /// from which a caller that needs only some bins, or only their power, computes them with
    /// the split step's arithmetic (cpp/src/split.hpp) and these factors.
    bool splits() const noexcept { return half(); }
    void r2c_unsplit(T *in, std::complex<T> *out) const noexcept;
    /// r2c_unsplit from an array it only reads, such as the caller's signal: the plans are out of
    /// place without FFTW_DESTROY_INPUT, so FFTW keeps their input. `in` must pass readable().
    void r2c_unsplit_from(const T *in, std::complex<T> *out) const noexcept;
    /// Whether a transform may read its input at `in`: new-array execution needs the planning
    /// arrays' SIMD alignment (16 bytes), which a signal's frames need not have.
    static bool readable(const T *in) noexcept { return fftw_traits<T>::alignment_of(in) == 0; }
    const T *split_factors() const noexcept { return split_factors_.data(); }

  private:
    FftKind kind_;
    std::int64_t n_;
    plan_type plan_;
    // r2c of an even length n runs as a complex transform of n / 2 (FFTW's complex codelets are
    // far better vectorised than its real ones) followed by split_real_spectrum with these factors.
    bool half() const noexcept { return kind_ == FftKind::r2c && n_ % 2 == 0; }
    std::vector<T> split_factors_;
};

namespace detail {
/// The split step of a real FFT computed as a complex one: z holds Z = DFT_m(x[2j] + i x[2j+1])
/// as m + 1 interleaved complex slots (the last one free); on return it holds X = DFT_2m(x)[0..m].
/// factors[2k], factors[2k + 1] = the real and imaginary parts of -i/2 exp(-i pi k / m), k <= m.
/// vector = false forces the scalar code; the AVX code gives the same bits.
template <class T> void split_real_spectrum(T *z, const T *factors, std::int64_t m, bool vector = true) noexcept;
template <class T> std::vector<T> split_factors(std::int64_t m);
}  // namespace detail

/// A cached plan; creates it (under the planner lock) on first use.
template <class T> std::shared_ptr<const FftPlan<T>> get_fft_plan(FftKind kind, std::int64_t n);

/// The mutex that serialises every FFTW planner call in the process.
std::mutex &planner_mutex();

/// Planner rigour: "estimate", "measure" (default) or "patient"; the environment variable
/// SPECTROGRAMS_FFTW_PLANNER sets the initial value.
void set_planner_effort(const std::string &effort);
std::string planner_effort();

struct FftCacheInfo {
    std::int64_t plans;     ///< plans held by the cache
    std::int64_t created;   ///< plans created since start (or the last clear)
    std::int64_t hits;      ///< cache look-ups answered without planning
};
FftCacheInfo fft_plan_cache_info();
/// Drops the cache's references; plans still held by engine plans stay valid.
void clear_fft_plan_cache();

/// FFTW wisdom (both precisions) as text, and its import: lets another process plan the same
/// algorithms, and so compute the same bits.
std::string export_wisdom();
bool import_wisdom(const std::string &wisdom);

}  // namespace spectrograms
