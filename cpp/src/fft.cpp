#include "spectrograms/fft.hpp"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <map>
#include <utility>

#include "spectrograms/buffer.hpp"
#include "spectrograms/errors.hpp"
#include "split.hpp"

namespace spectrograms {

namespace {

std::atomic<unsigned> g_flags{FFTW_MEASURE};
std::atomic<bool> g_flags_from_env{false};
std::atomic<std::int64_t> g_created{0}, g_hits{0};
constexpr double planning_time_limit_s = 1.0;

unsigned flags_for(const std::string &effort) {
    if (effort == "estimate") return FFTW_ESTIMATE;
    if (effort == "measure") return FFTW_MEASURE;
    if (effort == "patient") return FFTW_PATIENT;
    throw invalid_input("FFTW planner effort must be 'estimate', 'measure' or 'patient'; got '" +
                        effort + "'");
}

unsigned planner_flags() {
    if (!g_flags_from_env.exchange(true)) {
        if (const char *env = std::getenv("SPECTROGRAMS_FFTW_PLANNER")) {
            try {
                g_flags = flags_for(env);
            } catch (const invalid_input &) {
                // an unknown value keeps the default rather than failing every computation
            }
        }
        // FFTW_MEASURE can spend seconds on a large prime length; bound each plan's search (the
        // plan found by then is used). Called here, under the planner lock, before any planning.
        fftw_set_timelimit(planning_time_limit_s);
        fftwf_set_timelimit(planning_time_limit_s);
    }
    return g_flags.load();
}

// fork() while another thread plans would leave the child's planner lock held forever.
void lock_planner() { planner_mutex().lock(); }
void unlock_planner() { planner_mutex().unlock(); }
struct AtForkRegistration {
    AtForkRegistration() { pthread_atfork(lock_planner, unlock_planner, unlock_planner); }
};

template <class T> using CacheMap = std::map<std::pair<FftKind, std::int64_t>,
                                             std::shared_ptr<const FftPlan<T>>>;
template <class T> CacheMap<T> &cache() {
    static CacheMap<T> map;
    return map;
}

// Scratch arrays for planning (FFTW_MEASURE overwrites them), aligned like every engine array.
struct PlanningArrays {
    void *a, *b;
    explicit PlanningArrays(std::size_t bytes) : a(aligned_malloc(bytes)), b(aligned_malloc(bytes)) {}
    ~PlanningArrays() { aligned_free(a); aligned_free(b); }
};

// One pair of the split step (split.hpp): X[k] = S + P and X[m - k] = conj(S - P).
template <class T> inline void split_pair(T *z, const T *f, std::int64_t k, std::int64_t m) noexcept {
    const std::int64_t j = m - k;
    const split::SP<T> v = split::sp(z, f, k, m);
    z[2 * k] = v.sr + v.pr;
    z[2 * k + 1] = v.si + v.pi;
    if (j != k) {
        z[2 * j] = v.sr - v.pr;
        z[2 * j + 1] = -(v.si - v.pi);
    }
}

template <class T> inline void split_ends(T *z, std::int64_t m) noexcept {
    const T r = z[0], i = z[1];
    z[0] = r + i;
    z[1] = 0;
    z[2 * m] = r - i;
    z[2 * m + 1] = 0;
}

#ifdef SPECTROGRAMS_AVX_SPLIT
// The same pairs, a vector of bins k.. and their mirror bins ..m - k at a time, while the two
// blocks are disjoint; elementwise with split_pair's operations and order (mul, then addsub: no
// fused multiply-add), so the bits are the scalar code's.
__attribute__((target("avx"))) void split_avx(double *z, const double *f, std::int64_t m) noexcept {
    split_ends(z, m);
    const __m256d conj = _mm256_setr_pd(0.0, -0.0, 0.0, -0.0);
    std::int64_t k = 1;
    for (; k + 1 < m - k - 1; k += 2) {
        __m256d s, p;
        split::sp_vec(z, f, k, m, s, p);
        const __m256d x = _mm256_add_pd(s, p), y = _mm256_xor_pd(_mm256_sub_pd(s, p), conj);
        _mm256_storeu_pd(z + 2 * k, x);
        _mm256_storeu_pd(z + 2 * (m - k - 1), _mm256_permute2f128_pd(y, y, 1));
    }
    for (; k <= m - k; ++k) split_pair(z, f, k, m);
}

__attribute__((target("avx"))) void split_avx(float *z, const float *f, std::int64_t m) noexcept {
    split_ends(z, m);
    const __m256 conj = _mm256_setr_ps(0.f, -0.f, 0.f, -0.f, 0.f, -0.f, 0.f, -0.f);
    std::int64_t k = 1;
    for (; k + 3 < m - k - 3; k += 4) {
        __m256 s, p;
        split::sp_vec(z, f, k, m, s, p);
        const __m256 x = _mm256_add_ps(s, p), y = _mm256_xor_ps(_mm256_sub_ps(s, p), conj);
        _mm256_storeu_ps(z + 2 * k, x);
        _mm256_storeu_ps(z + 2 * (m - k - 3), _mm256_permute_ps(_mm256_permute2f128_ps(y, y, 1), 0x4E));
    }
    for (; k <= m - k; ++k) split_pair(z, f, k, m);
}

const bool have_avx_split = __builtin_cpu_supports("avx");
#endif

}  // namespace

std::mutex &planner_mutex() {
    static std::mutex m;
    static AtForkRegistration registration;
    return m;
}

void set_planner_effort(const std::string &effort) {
    std::lock_guard<std::mutex> lock(planner_mutex());
    planner_flags();  // the environment is read once; an explicit call wins over it
    g_flags = flags_for(effort);
}

std::string planner_effort() {
    std::lock_guard<std::mutex> lock(planner_mutex());
    switch (planner_flags()) {
        case FFTW_ESTIMATE: return "estimate";
        case FFTW_PATIENT: return "patient";
        default: return "measure";
    }
}

template <> FftPlan<double>::FftPlan(FftKind kind, std::int64_t n)
    : kind_(kind), n_(n), plan_(nullptr) {
    if (half()) split_factors_ = detail::split_factors<double>(n / 2);
    PlanningArrays arrays(sizeof(fftw_complex) * static_cast<std::size_t>(n + 2));
    const int len = static_cast<int>(n);
    const unsigned flags = planner_flags();
    auto *r = static_cast<double *>(arrays.a);
    auto *c = static_cast<fftw_complex *>(arrays.b);
    switch (kind) {
        case FftKind::r2c:
            if (half()) plan_ = fftw_plan_dft_1d(len / 2, reinterpret_cast<fftw_complex *>(r), c, FFTW_FORWARD, flags);
            else plan_ = fftw_plan_dft_r2c_1d(len, r, c, flags);
            break;
        case FftKind::c2r: plan_ = fftw_plan_dft_c2r_1d(len, c, r, flags); break;
        case FftKind::c2c_forward:
            plan_ = fftw_plan_dft_1d(len, static_cast<fftw_complex *>(arrays.a), c, FFTW_FORWARD, flags);
            break;
        case FftKind::c2c_backward:
            plan_ = fftw_plan_dft_1d(len, static_cast<fftw_complex *>(arrays.a), c, FFTW_BACKWARD, flags);
            break;
    }
    if (!plan_) throw fft_backend_error("FFTW could not create a plan of length " + std::to_string(n));
}

template <> FftPlan<float>::FftPlan(FftKind kind, std::int64_t n)
    : kind_(kind), n_(n), plan_(nullptr) {
    if (half()) split_factors_ = detail::split_factors<float>(n / 2);
    PlanningArrays arrays(sizeof(fftwf_complex) * static_cast<std::size_t>(n + 2));
    const int len = static_cast<int>(n);
    const unsigned flags = planner_flags();
    auto *r = static_cast<float *>(arrays.a);
    auto *c = static_cast<fftwf_complex *>(arrays.b);
    switch (kind) {
        case FftKind::r2c:
            if (half()) plan_ = fftwf_plan_dft_1d(len / 2, reinterpret_cast<fftwf_complex *>(r), c, FFTW_FORWARD, flags);
            else plan_ = fftwf_plan_dft_r2c_1d(len, r, c, flags);
            break;
        case FftKind::c2r: plan_ = fftwf_plan_dft_c2r_1d(len, c, r, flags); break;
        case FftKind::c2c_forward:
            plan_ = fftwf_plan_dft_1d(len, static_cast<fftwf_complex *>(arrays.a), c, FFTW_FORWARD, flags);
            break;
        case FftKind::c2c_backward:
            plan_ = fftwf_plan_dft_1d(len, static_cast<fftwf_complex *>(arrays.a), c, FFTW_BACKWARD, flags);
            break;
    }
    if (!plan_) throw fft_backend_error("FFTW could not create a plan of length " + std::to_string(n));
}

template <> FftPlan<double>::~FftPlan() {
    std::lock_guard<std::mutex> lock(planner_mutex());
    fftw_destroy_plan(plan_);
}
template <> FftPlan<float>::~FftPlan() {
    std::lock_guard<std::mutex> lock(planner_mutex());
    fftwf_destroy_plan(plan_);
}

template <class T> void FftPlan<T>::r2c(T *in, std::complex<T> *out) const noexcept {
    using C = typename fftw_traits<T>::complex_type;
    if (half()) {
        fftw_traits<T>::execute_c2c(plan_, reinterpret_cast<C *>(in), reinterpret_cast<C *>(out));
        detail::split_real_spectrum(reinterpret_cast<T *>(out), split_factors_.data(), n_ / 2);
        return;
    }
    fftw_traits<T>::execute_r2c(plan_, in, reinterpret_cast<C *>(out));
}
template <class T> void FftPlan<T>::r2c_unsplit(T *in, std::complex<T> *out) const noexcept {
    using C = typename fftw_traits<T>::complex_type;
    fftw_traits<T>::execute_c2c(plan_, reinterpret_cast<C *>(in), reinterpret_cast<C *>(out));
}
template <class T> void FftPlan<T>::r2c_unsplit_from(const T *in, std::complex<T> *out) const noexcept {
    using C = typename fftw_traits<T>::complex_type;
    fftw_traits<T>::execute_c2c(plan_, reinterpret_cast<C *>(const_cast<T *>(in)), reinterpret_cast<C *>(out));
}
template <class T> void FftPlan<T>::c2r(std::complex<T> *in, T *out) const noexcept {
    fftw_traits<T>::execute_c2r(plan_, reinterpret_cast<typename fftw_traits<T>::complex_type *>(in), out);
}
template <class T> void FftPlan<T>::c2c(std::complex<T> *in, std::complex<T> *out) const noexcept {
    using C = typename fftw_traits<T>::complex_type;
    fftw_traits<T>::execute_c2c(plan_, reinterpret_cast<C *>(in), reinterpret_cast<C *>(out));
}

namespace detail {

template <class T> void split_real_spectrum(T *z, const T *factors, std::int64_t m, bool vector) noexcept {
#ifdef SPECTROGRAMS_AVX_SPLIT
    if (vector && have_avx_split) return split_avx(z, factors, m);
#else
    (void)vector;
#endif
    split_ends(z, m);
    for (std::int64_t k = 1; k <= m - k; ++k) split_pair(z, factors, k, m);
}

template <class T> std::vector<T> split_factors(std::int64_t m) {
    // -i/2 exp(-i pi k / m) = (-sin(a) / 2, -cos(a) / 2), a = pi k / m, in long double and rounded.
    const long double pi = 3.141592653589793238462643383279502884L;
    std::vector<T> f(2 * static_cast<std::size_t>(m + 1));
    for (std::int64_t k = 0; k <= m; ++k) {
        // reflected into [0, pi/2]: sin(pi - a) = sin(a), cos(pi - a) = -cos(a); exact at pi/2
        const std::int64_t r = std::min(k, m - k);
        const long double a = pi * static_cast<long double>(r) / static_cast<long double>(m);
        const long double c = 2 * r == m ? 0.0L : std::cos(a);
        f[2 * static_cast<std::size_t>(k)] = static_cast<T>(-0.5L * std::sin(a));
        f[2 * static_cast<std::size_t>(k) + 1] = static_cast<T>(-0.5L * (k > m - k ? -c : c));
    }
    return f;
}

template void split_real_spectrum<float>(float *, const float *, std::int64_t, bool) noexcept;
template void split_real_spectrum<double>(double *, const double *, std::int64_t, bool) noexcept;
template std::vector<float> split_factors<float>(std::int64_t);
template std::vector<double> split_factors<double>(std::int64_t);

}  // namespace detail

template <class T> std::shared_ptr<const FftPlan<T>> get_fft_plan(FftKind kind, std::int64_t n) {
    if (n < 1 || n > (1LL << 30))
        throw invalid_input("FFT length must be between 1 and 2^30, got " + std::to_string(n));
    std::shared_ptr<const FftPlan<T>> plan;
    {
        std::lock_guard<std::mutex> lock(planner_mutex());
        auto &map = cache<T>();
        auto it = map.find({kind, n});
        if (it != map.end()) {
            ++g_hits;
            return it->second;
        }
    }
    // Not found: plan under the lock (FftPlan's constructor calls the planner and does not lock).
    std::lock_guard<std::mutex> lock(planner_mutex());
    auto &map = cache<T>();
    auto it = map.find({kind, n});
    if (it != map.end()) return it->second;
    plan = std::shared_ptr<const FftPlan<T>>(new FftPlan<T>(kind, n));
    map.emplace(std::make_pair(kind, n), plan);
    ++g_created;
    return plan;
}

template std::shared_ptr<const FftPlan<float>> get_fft_plan<float>(FftKind, std::int64_t);
template std::shared_ptr<const FftPlan<double>> get_fft_plan<double>(FftKind, std::int64_t);
template class FftPlan<float>;
template class FftPlan<double>;

FftCacheInfo fft_plan_cache_info() {
    std::lock_guard<std::mutex> lock(planner_mutex());
    return {static_cast<std::int64_t>(cache<float>().size() + cache<double>().size()),
            g_created.load(), g_hits.load()};
}

void clear_fft_plan_cache() {
    // Plans whose last reference is the cache die here; their destructors take the planner lock,
    // so move them out first and let them go after the lock is released.
    CacheMap<float> f;
    CacheMap<double> d;
    {
        std::lock_guard<std::mutex> lock(planner_mutex());
        f.swap(cache<float>());
        d.swap(cache<double>());
        g_created = 0;
        g_hits = 0;
    }
}

std::string export_wisdom() {
    std::lock_guard<std::mutex> lock(planner_mutex());
    std::string out;
    if (char *w = fftw_export_wisdom_to_string()) { out += w; std::free(w); }
    out += '\x1f';
    if (char *w = fftwf_export_wisdom_to_string()) { out += w; std::free(w); }
    return out;
}

bool import_wisdom(const std::string &wisdom) {
    const auto sep = wisdom.find('\x1f');
    if (sep == std::string::npos) return false;
    std::lock_guard<std::mutex> lock(planner_mutex());
    const std::string d = wisdom.substr(0, sep), f = wisdom.substr(sep + 1);
    bool ok = true;
    if (!d.empty()) ok &= fftw_import_wisdom_from_string(d.c_str()) != 0;
    if (!f.empty()) ok &= fftwf_import_wisdom_from_string(f.c_str()) != 0;
    return ok;
}

}  // namespace spectrograms
