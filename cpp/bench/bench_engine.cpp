// Engine micro-benchmarks (Google Benchmark): SpectrogramPlan<double>/<float> compute, mel power and
// linear power, on W0-W3, against raw FFTW doing only the FFTs of the same frames, and
// compute_batch on W3 with 1 and 2 threads.
//
// Workloads (centred, Hann, zero padding; W3 timed per clip, cycling through its 64 clips):
//   W0: 512 samples at 16 kHz, n_fft 512, hop 256, 128 mels (3 frames: the per-call cost)
//   W1: 1 s at 16 kHz, n_fft 512, hop 256, 128 mels
//   W2: 10 s at 22.05 kHz, n_fft 2048, hop 512, 128 mels
//   W3: 64 clips x 4 s at 16 kHz, n_fft 400, hop 160, 80 mels
//
// Raw FFTW: the clip's frames are framed and windowed beforehand (rows padded to 64 bytes, as the
// engine's scratch), one fftw_plan_dft_r2c_1d(FFTW_MEASURE) is executed per frame with the
// new-array interface: the FFT cost alone, a lower bound for any spectrogram of that workload.
// RawFftwMany16 does the same with one fftw_plan_many_dft_r2c call per 16 frames (the C floor's
// blocking), to show what batched FFTW plans would give; RawFftwCached runs as many single-frame
// FFTs over 16 frames that stay in cache (pure FFT compute, no memory traffic).
//
// Every benchmark uses real (wall) time; "per_clip" is seconds per clip. By default the run makes
// 5 repetitions of each benchmark in random interleaved order and reports mean/median/stddev
// (override with the usual --benchmark_* flags).
//
// Build and run:
//   cmake -S . -B build/bench -G Ninja -DSPECTROGRAMS_BUILD_BENCHMARKS=ON -DSPECTROGRAMS_BUILD_PYTHON=OFF
//   cmake --build build/bench && build/bench/engine_bench
#include <benchmark/benchmark.h>
#include <fftw3.h>

#include <cmath>
#include <complex>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "spectrograms/buffer.hpp"
#include "spectrograms/fft.hpp"
#include "spectrograms/framing.hpp"
#include "spectrograms/plan.hpp"
#include "spectrograms/window.hpp"

using namespace spectrograms;

namespace {

struct Workload {
    const char *name;
    std::int64_t length, sr, n_fft, hop, n_mels, clips;
};
constexpr Workload kW0{"W0", 512, 16000, 512, 256, 128, 1};
constexpr Workload kW1{"W1", 16000, 16000, 512, 256, 128, 1};
constexpr Workload kW2{"W2", 220500, 22050, 2048, 512, 128, 1};
constexpr Workload kW3{"W3", 64000, 16000, 400, 160, 80, 64};
const Workload *const kWorkloads[] = {&kW0, &kW1, &kW2, &kW3};

// clips x length samples of white noise in [-0.5, 0.5), seeded; one vector per precision.
template <class T> const std::vector<T> &signals(const Workload &w) {
    static std::vector<T> store[4];
    const int i = &w == &kW0 ? 0 : &w == &kW1 ? 1 : &w == &kW2 ? 2 : 3;
    auto &v = store[i];
    if (v.empty()) {
        std::mt19937_64 g(42);
        std::uniform_real_distribution<double> d(-0.5, 0.5);
        v.resize(static_cast<std::size_t>(w.length * w.clips));
        for (auto &s : v) s = static_cast<T>(d(g));
    }
    return v;
}

PlanConfig config(const Workload &w, Scale scale) {
    PlanConfig c;
    c.stft = {w.n_fft, w.hop, true, make_window(WindowKind::hanning, w.n_fft)};
    c.sample_rate = static_cast<double>(w.sr);
    c.scale = scale;
    c.quantity = Quantity::power;
    c.mel.n_mels = w.n_mels;
    c.mel.f_min = 0.0;
    c.mel.f_max = static_cast<double>(w.sr) / 2;
    c.mel.norm = MelNorm::slaney;  // the C floor's filterbank (the cost is the same for none)
    return c;
}

void per_clip(benchmark::State &state, std::int64_t clips_per_iteration) {
    state.counters["per_clip"] = benchmark::Counter(
        static_cast<double>(clips_per_iteration),
        benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
    state.SetItemsProcessed(state.iterations() * clips_per_iteration);
}

// ---- the engine: one clip per iteration -----------------------------------------------------------

template <class T> void Engine(benchmark::State &state, const Workload *w, Scale scale) {
    const SpectrogramPlan<T> plan(config(*w, scale));
    const auto &x = signals<T>(*w);
    std::int64_t clip = 0;
    for (auto _ : state) {
        SignalView<T> view{x.data() + clip * w->length, w->length, 1};
        auto out = plan.compute(view, 1);
        benchmark::DoNotOptimize(out->data());
        if (++clip == w->clips) clip = 0;
    }
    per_clip(state, 1);
    state.counters["frames"] = static_cast<double>(plan.n_frames(w->length));
}

// ---- compute_batch: the 64 clips of W3 per iteration ---------------------------------------------

template <class T> void Batch(benchmark::State &state, const Workload *w) {
    const int threads = static_cast<int>(state.range(0));
    const SpectrogramPlan<T> plan(config(*w, Scale::mel));
    const auto &x = signals<T>(*w);
    std::vector<SignalView<T>> views;
    for (std::int64_t c = 0; c < w->clips; ++c) views.push_back({x.data() + c * w->length, w->length, 1});
    plan.compute_batch(views, threads);  // starts the pool's workers
    for (auto _ : state) {
        auto out = plan.compute_batch(views, threads);
        benchmark::DoNotOptimize(out->data());
    }
    per_clip(state, w->clips);
}

// ---- raw FFTW: the FFTs of the frames of one clip, nothing else -----------------------------------

template <class T> struct Fftw;
template <> struct Fftw<double> {
    using plan = fftw_plan;
    using cpx = fftw_complex;
    static plan one(int n, double *in, cpx *out) { return fftw_plan_dft_r2c_1d(n, in, out, FFTW_MEASURE); }
    static plan many(int n, int howmany, double *in, int idist, cpx *out, int odist) {
        return fftw_plan_many_dft_r2c(1, &n, howmany, in, nullptr, 1, idist, out, nullptr, 1, odist, FFTW_MEASURE);
    }
    static void exec(plan p, double *in, cpx *out) { fftw_execute_dft_r2c(p, in, out); }
    static void destroy(plan p) { fftw_destroy_plan(p); }
};
template <> struct Fftw<float> {
    using plan = fftwf_plan;
    using cpx = fftwf_complex;
    static plan one(int n, float *in, cpx *out) { return fftwf_plan_dft_r2c_1d(n, in, out, FFTW_MEASURE); }
    static plan many(int n, int howmany, float *in, int idist, cpx *out, int odist) {
        return fftwf_plan_many_dft_r2c(1, &n, howmany, in, nullptr, 1, idist, out, nullptr, 1, odist, FFTW_MEASURE);
    }
    static void exec(plan p, float *in, cpx *out) { fftwf_execute_dft_r2c(p, in, out); }
    static void destroy(plan p) { fftwf_destroy_plan(p); }
};

struct AlignedDeleter {
    void operator()(void *p) const noexcept { aligned_free(p); }
};

template <class T> struct Framed {  // one clip's windowed frames, rows padded to 64 bytes
    std::int64_t n_frames, in_stride, out_stride;
    std::unique_ptr<T, AlignedDeleter> in;
    std::unique_ptr<typename Fftw<T>::cpx, AlignedDeleter> out;

    explicit Framed(const Workload &w) {
        const std::int64_t reals = 64 / static_cast<std::int64_t>(sizeof(T));
        n_frames = n_frames_for(w.length, w.n_fft, w.hop, true);
        in_stride = (w.n_fft + reals - 1) / reals * reals;
        out_stride = (w.n_fft / 2 + 1 + reals / 2 - 1) / (reals / 2) * (reals / 2);
        in.reset(static_cast<T *>(aligned_malloc(sizeof(T) * in_stride * n_frames)));
        out.reset(static_cast<typename Fftw<T>::cpx *>(
            aligned_malloc(sizeof(typename Fftw<T>::cpx) * out_stride * n_frames)));
    }
    void fill(const Workload &w) {  // after planning: FFTW_MEASURE overwrites its arrays
        const auto win64 = make_window(WindowKind::hanning, w.n_fft);
        const std::vector<T> win(win64.begin(), win64.end());
        const auto &x = signals<T>(w);
        const SignalView<T> view{x.data(), w.length, 1};
        for (std::int64_t f = 0; f < n_frames; ++f)
            window_frame(view, f * w.hop - w.n_fft / 2, w.n_fft, win.data(), in.get() + f * in_stride);
    }
};

template <class T> void RawFftw(benchmark::State &state, const Workload *w) {
    Framed<T> fr(*w);
    typename Fftw<T>::plan p;
    {
        std::lock_guard<std::mutex> lock(planner_mutex());
        p = Fftw<T>::one(static_cast<int>(w->n_fft), fr.in.get(), fr.out.get());
    }
    fr.fill(*w);
    for (auto _ : state) {
        for (std::int64_t f = 0; f < fr.n_frames; ++f)
            Fftw<T>::exec(p, fr.in.get() + f * fr.in_stride, fr.out.get() + f * fr.out_stride);
        benchmark::ClobberMemory();
    }
    per_clip(state, 1);
    state.counters["frames"] = static_cast<double>(fr.n_frames);
    Fftw<T>::destroy(p);
}

template <class T> void RawFftwMany16(benchmark::State &state, const Workload *w) {
    constexpr std::int64_t block = 16;
    Framed<T> fr(*w);
    const std::int64_t tail = fr.n_frames % block;
    typename Fftw<T>::plan pb, pt = nullptr;
    {
        std::lock_guard<std::mutex> lock(planner_mutex());
        const int n = static_cast<int>(w->n_fft);
        pb = Fftw<T>::many(n, static_cast<int>(block), fr.in.get(), static_cast<int>(fr.in_stride), fr.out.get(),
                           static_cast<int>(fr.out_stride));
        if (tail)
            pt = Fftw<T>::many(n, static_cast<int>(tail), fr.in.get(), static_cast<int>(fr.in_stride),
                               fr.out.get(), static_cast<int>(fr.out_stride));
    }
    fr.fill(*w);
    for (auto _ : state) {
        std::int64_t f = 0;
        for (; f + block <= fr.n_frames; f += block)
            Fftw<T>::exec(pb, fr.in.get() + f * fr.in_stride, fr.out.get() + f * fr.out_stride);
        if (tail) Fftw<T>::exec(pt, fr.in.get() + f * fr.in_stride, fr.out.get() + f * fr.out_stride);
        benchmark::ClobberMemory();
    }
    per_clip(state, 1);
    Fftw<T>::destroy(pb);
    if (pt) Fftw<T>::destroy(pt);
}

// The FFTs alone with nothing from memory: the same number of frames, executed over 16 frames that
// stay in L1/L2 (at W2 a whole clip's pre-framed input and spectra, 14 MB, do not fit in cache).
template <class T> void RawFftwCached(benchmark::State &state, const Workload *w) {
    constexpr std::int64_t block = 16;
    Framed<T> fr(*w);
    typename Fftw<T>::plan p;
    {
        std::lock_guard<std::mutex> lock(planner_mutex());
        p = Fftw<T>::one(static_cast<int>(w->n_fft), fr.in.get(), fr.out.get());
    }
    fr.fill(*w);
    for (auto _ : state) {
        for (std::int64_t f = 0; f < fr.n_frames; ++f) {
            const std::int64_t i = f % block;
            Fftw<T>::exec(p, fr.in.get() + i * fr.in_stride, fr.out.get() + i * fr.out_stride);
        }
        benchmark::ClobberMemory();
    }
    per_clip(state, 1);
    Fftw<T>::destroy(p);
}

void register_all() {
    for (const Workload *w : kWorkloads) {
        const std::string n = w->name;
        auto reg = [](const std::string &name, auto fn) {
            return benchmark::RegisterBenchmark(name.c_str(), fn)->UseRealTime()->Unit(benchmark::kMicrosecond);
        };
        reg(n + "/engine_mel_power/f64", [w](benchmark::State &s) { Engine<double>(s, w, Scale::mel); });
        reg(n + "/engine_mel_power/f32", [w](benchmark::State &s) { Engine<float>(s, w, Scale::mel); });
        reg(n + "/engine_linear_power/f64", [w](benchmark::State &s) { Engine<double>(s, w, Scale::linear); });
        reg(n + "/engine_linear_power/f32", [w](benchmark::State &s) { Engine<float>(s, w, Scale::linear); });
        reg(n + "/raw_fftw_r2c_per_frame/f64", [w](benchmark::State &s) { RawFftw<double>(s, w); });
        reg(n + "/raw_fftw_r2c_per_frame/f32", [w](benchmark::State &s) { RawFftw<float>(s, w); });
        reg(n + "/raw_fftw_r2c_cached16/f64", [w](benchmark::State &s) { RawFftwCached<double>(s, w); });
        reg(n + "/raw_fftw_r2c_cached16/f32", [w](benchmark::State &s) { RawFftwCached<float>(s, w); });
        reg(n + "/raw_fftw_many16/f64", [w](benchmark::State &s) { RawFftwMany16<double>(s, w); });
        reg(n + "/raw_fftw_many16/f32", [w](benchmark::State &s) { RawFftwMany16<float>(s, w); });
        if (w == &kW3) {
            reg(n + "/compute_batch_mel_power/f64/threads", [w](benchmark::State &s) { Batch<double>(s, w); })
                ->Arg(1)->Arg(2);
            reg(n + "/compute_batch_mel_power/f32/threads", [w](benchmark::State &s) { Batch<float>(s, w); })
                ->Arg(1)->Arg(2);
        }
    }
}

}  // namespace

int main(int argc, char **argv) {
    // Defaults for a noisy machine, unless given on the command line.
    std::vector<std::string> defaults = {"--benchmark_repetitions=5", "--benchmark_enable_random_interleaving=true",
                                         "--benchmark_report_aggregates_only=true", "--benchmark_min_time=0.1"};
    std::vector<char *> args(argv, argv + argc);
    for (auto &d : defaults) {
        const std::string key = d.substr(0, d.find('='));
        bool given = false;
        for (int i = 1; i < argc; ++i)
            if (std::strncmp(argv[i], key.c_str(), key.size()) == 0) given = true;
        if (!given) args.push_back(d.data());
    }
    int n = static_cast<int>(args.size());
    benchmark::Initialize(&n, args.data());
    if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 1;
    register_all();
    benchmark::AddCustomContext("fftw", fftw_version);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
