// Engine unit tests: each numeric check is against an independent naive reference written here.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <complex>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

#include "spectrograms/buffer.hpp"
#include "spectrograms/dlpack.hpp"
#include "spectrograms/errors.hpp"
#include "spectrograms/fft.hpp"
#include "spectrograms/filterbank.hpp"
#include "spectrograms/framing.hpp"
#include "spectrograms/plan.hpp"
#include "spectrograms/thread_pool.hpp"
#include "spectrograms/vmath.hpp"
#include "spectrograms/window.hpp"

using namespace spectrograms;
using Catch::Matchers::Contains;

namespace {

constexpr double pi = 3.14159265358979323846;

std::vector<double> noise(std::size_t n, unsigned seed = 1) {
    std::mt19937 g(seed);
    std::normal_distribution<double> d;
    std::vector<double> x(n);
    for (auto &v : x) v = d(g);
    return x;
}

PlanConfig config(std::int64_t n_fft, std::int64_t hop, bool centre, Scale scale, Quantity q) {
    PlanConfig c;
    c.stft = {n_fft, hop, centre, make_window(WindowKind::hanning, n_fft)};
    c.sample_rate = 16000;
    c.scale = scale;
    c.quantity = q;
    c.mel = {40, 0.0, 8000.0, MelNorm::slaney, false};
    return c;
}

// X[k, t] by the definition: zero-padded frame times window, direct DFT.
std::complex<double> naive_stft(const std::vector<double> &x, const std::vector<double> &w, std::int64_t hop,
                                bool centre, std::int64_t k, std::int64_t t) {
    const auto n = static_cast<std::int64_t>(w.size());
    const std::int64_t start = t * hop - (centre ? n / 2 : 0);
    std::complex<double> acc = 0;
    for (std::int64_t j = 0; j < n; ++j) {
        const std::int64_t i = start + j;
        const double v = (i >= 0 && i < static_cast<std::int64_t>(x.size())) ? x[i] : 0.0;
        acc += v * w[j] * std::polar(1.0, -2.0 * pi * static_cast<double>(k * j) / static_cast<double>(n));
    }
    return acc;
}

}  // namespace

TEST_CASE("symmetric windows match their closed forms", "[window]") {
    const std::int64_t n = 9;
    auto hann = make_window(WindowKind::hanning, n);
    auto hamming = make_window(WindowKind::hamming, n);
    for (std::int64_t k = 0; k < n; ++k) {
        CHECK(hann[k] == Approx(0.5 - 0.5 * std::cos(2 * pi * k / 8.0)).margin(1e-15));
        CHECK(hamming[k] == Approx(0.54 - 0.46 * std::cos(2 * pi * k / 8.0)).margin(1e-15));
    }
    CHECK(hann.front() == 0.0);
    CHECK(hann[4] == Approx(1.0));
    CHECK(make_window(WindowKind::hanning, 1) == std::vector<double>{1.0});
    // Kaiser with beta 0 is rectangular; the peak is always 1.
    for (double v : make_window(WindowKind::kaiser, 8, 0.0)) CHECK(v == Approx(1.0));
    CHECK(make_window(WindowKind::kaiser, 9, 14.0)[4] == Approx(1.0));
    CHECK_THROWS_AS(make_window(WindowKind::hanning, 0), invalid_input);
    CHECK_THROWS_WITH(window_kind_from_string("hann"), Contains("got 'hann'"));
}

TEST_CASE("the n_frames rule", "[framing]") {
    CHECK(n_frames_for(16000, 512, 256, true) == 63);   // (16000 + 512 - 512)/256 + 1
    CHECK(n_frames_for(512, 512, 256, false) == 1);
    CHECK(n_frames_for(100, 512, 256, false) == 1);      // shorter than a frame: one zero-padded frame
    CHECK(n_frames_for(1, 512, 128, true) == 1);
    CHECK(n_frames_for(1000, 400, 160, false) == 4);    // (1000 - 400)/160 + 1
}

TEST_CASE("STFT equals the naive DFT for every framing case", "[stft]") {
    for (bool centre : {true, false}) {
        for (std::int64_t len : {1L, 37L, 400L, 1009L}) {
            const std::int64_t n_fft = 64, hop = 16;
            auto x = noise(static_cast<std::size_t>(len), static_cast<unsigned>(len));
            SpectrogramPlan<double> plan(config(n_fft, hop, centre, Scale::linear, Quantity::complex));
            auto out = plan.compute({x.data(), len, 1});
            const auto frames = plan.n_frames(len);
            REQUIRE(out->shape() == std::vector<std::int64_t>{33, frames});
            const auto *X = out->as<std::complex<double>>();
            const auto &w = plan.config().stft.window;
            double worst = 0, scale = 1e-300;
            for (std::int64_t k = 0; k < 33; ++k)
                for (std::int64_t t = 0; t < frames; ++t) {
                    auto ref = naive_stft(x, w, hop, centre, k, t);
                    worst = std::max(worst, std::abs(X[k * frames + t] - ref));
                    scale = std::max(scale, std::abs(ref));
                }
            INFO("centre=" << centre << " len=" << len);
            CHECK(worst / scale < 1e-12);
        }
    }
}

TEST_CASE("a strided signal gives the same result as a contiguous one", "[stft]") {
    auto x = noise(2000);
    std::vector<double> every_other(1000);
    for (std::size_t i = 0; i < 1000; ++i) every_other[i] = x[2 * i];
    SpectrogramPlan<double> plan(config(128, 32, true, Scale::linear, Quantity::power));
    auto a = plan.compute({x.data(), 1000, 2});
    auto b = plan.compute({every_other.data(), 1000, 1});
    REQUIRE(a->nbytes() == b->nbytes());
    CHECK(std::memcmp(a->data(), b->data(), a->nbytes()) == 0);
}

TEST_CASE("slaney mel filterbank: triangles with unit area in Hz", "[mel]") {
    auto fb = mel_filterbank(16000, 512, 40, 0, 8000, MelNorm::none, false);
    REQUIRE(fb.n_bands == 40);
    REQUIRE(fb.centres.size() == 40);
    for (std::int64_t b = 0; b < fb.n_bands; ++b) {
        for (std::int64_t j = 0; j < fb.count[b]; ++j) {
            CHECK(fb.weights[fb.offset[b] + j] > 0.0);
            CHECK(fb.weights[fb.offset[b] + j] <= 1.0 + 1e-12);
        }
    }
    // mel scale: 1000 Hz is 15 mel (Slaney), and the two formulas invert each other.
    CHECK(hz_to_mel(1000.0, false) == Approx(15.0));
    for (double f : {0.0, 300.0, 1000.0, 5123.0}) {
        CHECK(mel_to_hz(hz_to_mel(f, false), false) == Approx(f).margin(1e-9));
        CHECK(mel_to_hz(hz_to_mel(f, true), true) == Approx(f).margin(1e-9));
    }
    CHECK_THROWS_AS(mel_norm_from_string("area"), invalid_input);
    CHECK(mel_norm_from_string("SLANEY") == MelNorm::slaney);
}

TEST_CASE("mel power equals the dense filterbank times the power spectrum", "[mel]") {
    auto x = noise(3000);
    auto lin = SpectrogramPlan<double>(config(256, 64, true, Scale::linear, Quantity::power));
    auto mel = SpectrogramPlan<double>(config(256, 64, true, Scale::mel, Quantity::power));
    auto P = lin.compute({x.data(), 3000, 1});
    auto M = mel.compute({x.data(), 3000, 1});
    const auto dense = mel.filterbank().dense();
    const std::int64_t frames = P->shape()[1], bins = 129;
    double worst = 0, peak = 0;
    for (std::int64_t b = 0; b < 40; ++b)
        for (std::int64_t t = 0; t < frames; ++t) {
            double ref = 0;
            for (std::int64_t k = 0; k < bins; ++k) ref += dense[b * bins + k] * P->as<double>()[k * frames + t];
            worst = std::max(worst, std::abs(ref - M->as<double>()[b * frames + t]));
            peak = std::max(peak, std::abs(ref));
        }
    CHECK(worst / peak < 1e-13);
}

TEST_CASE("dB and magnitude follow from power", "[quantity]") {
    auto x = noise(2048);
    auto power = SpectrogramPlan<double>(config(256, 128, true, Scale::linear, Quantity::power)).compute({x.data(), 2048, 1});
    auto c = config(256, 128, true, Scale::linear, Quantity::db);
    c.floor_db = -30;
    auto db = SpectrogramPlan<double>(c).compute({x.data(), 2048, 1});
    auto mag = SpectrogramPlan<double>(config(256, 128, true, Scale::linear, Quantity::magnitude)).compute({x.data(), 2048, 1});
    for (std::int64_t i = 0; i < power->size(); ++i) {
        const double p = power->as<double>()[i];
        CHECK(db->as<double>()[i] == Approx(10 * std::log10(std::max(p, 1e-3))).margin(1e-12));
        CHECK(mag->as<double>()[i] == Approx(std::sqrt(p)).margin(1e-12));
    }
}

TEST_CASE("batch items equal single computations bit for bit, for any thread count", "[batch]") {
    std::vector<std::vector<double>> signals{noise(5000, 1), noise(100, 2), noise(12345, 3), noise(512, 4)};
    std::vector<SignalView<double>> views;
    for (auto &s : signals) views.push_back({s.data(), static_cast<std::int64_t>(s.size()), 1});
    SpectrogramPlan<double> plan(config(512, 128, true, Scale::mel, Quantity::db));
    for (int threads : {1, 2, 3, 8}) {
        auto batch = plan.compute_batch(views, threads);
        const auto max_frames = batch->shape()[2];
        for (std::size_t b = 0; b < views.size(); ++b) {
            auto single = plan.compute(views[b]);
            const auto frames = single->shape()[1];
            for (std::int64_t k = 0; k < plan.n_bins(); ++k) {
                const double *row = batch->as<double>() + (b * plan.n_bins() + k) * max_frames;
                INFO("threads=" << threads << " item=" << b << " row=" << k);
                REQUIRE(std::memcmp(row, single->as<double>() + k * frames, sizeof(double) * frames) == 0);
                for (std::int64_t t = frames; t < max_frames; ++t) REQUIRE(row[t] == 0.0);
            }
        }
    }
    CHECK_THROWS_AS(plan.compute_batch({}, 1), invalid_input);
    CHECK_THROWS_WITH(plan.compute_batch(views, 1, false), Contains("item 1 has"));
}

TEST_CASE("float32 agrees with float64", "[precision]") {
    auto x = noise(4000);
    std::vector<float> xf(x.begin(), x.end());
    auto d = SpectrogramPlan<double>(config(400, 160, true, Scale::mel, Quantity::power)).compute({x.data(), 4000, 1});
    auto f = SpectrogramPlan<float>(config(400, 160, true, Scale::mel, Quantity::power)).compute({xf.data(), 4000, 1});
    double peak = 0, worst = 0;
    for (std::int64_t i = 0; i < d->size(); ++i) {
        peak = std::max(peak, d->as<double>()[i]);
        worst = std::max(worst, std::abs(d->as<double>()[i] - f->as<float>()[i]));
    }
    CHECK(worst / peak < 1e-5);
}

TEST_CASE("istft inverts the stft", "[istft]") {
    auto x = noise(3001);
    SpectrogramPlan<double> plan(config(256, 64, true, Scale::linear, Quantity::complex));
    auto X = plan.compute({x.data(), 3001, 1});
    const auto frames = X->shape()[1];
    auto y = istft<double>(X->as<std::complex<double>>(), 129, frames, frames, 1, 256, 64,
                           plan.config().stft.window, true, 3001);
    REQUIRE(y->size() == 3001);
    double worst = 0;
    for (std::int64_t i = 0; i < 3001; ++i) worst = std::max(worst, std::abs(y->as<double>()[i] - x[i]));
    CHECK(worst < 1e-12);
    CHECK_THROWS_AS(istft<double>(X->as<std::complex<double>>(), 100, frames, frames, 1, 256, 64,
                                  plan.config().stft.window, true, -1),
                    dimension_mismatch);
}

TEST_CASE("invalid configurations are rejected with what was expected and what came in", "[errors]") {
    auto c = config(512, 0, true, Scale::linear, Quantity::power);
    CHECK_THROWS_WITH(SpectrogramPlan<double>(c), Contains("hop_size must be >= 1, got 0"));
    c = config(512, 600, true, Scale::linear, Quantity::power);
    CHECK_THROWS_WITH(SpectrogramPlan<double>(c), Contains("got 600"));
    c = config(512, 128, true, Scale::mel, Quantity::power);
    c.mel.f_max = 9000;
    CHECK_THROWS_WITH(SpectrogramPlan<double>(c), Contains("Nyquist"));
    c = config(512, 128, true, Scale::linear, Quantity::power);
    c.stft.window.resize(100);
    CHECK_THROWS_AS(SpectrogramPlan<double>(c), dimension_mismatch);
    c = config(512, 128, true, Scale::linear, Quantity::power);
    c.sample_rate = std::nan("");
    CHECK_THROWS_AS(SpectrogramPlan<double>(c), invalid_input);
    SpectrogramPlan<double> ok(config(512, 128, true, Scale::linear, Quantity::power));
    auto x = noise(1000);
    CHECK_THROWS_AS(ok.compute_frame({x.data(), 1000, 1}, 100), std::out_of_range);
}

TEST_CASE("parallel_for runs every task once and rethrows the first error", "[pool]") {
    std::vector<std::atomic<int>> hits(1000);
    parallel_for(1000, 4, [&](std::int64_t i) { ++hits[static_cast<std::size_t>(i)]; });
    for (auto &h : hits) CHECK(h.load() == 1);
    CHECK_THROWS_WITH(parallel_for(100, 3, [](std::int64_t i) {
                          if (i == 42) throw invalid_input("task 42 failed");
                      }),
                      "task 42 failed");
    // The pool still works after a failure, and two concurrent jobs both finish.
    std::atomic<std::int64_t> sum{0};
    std::thread other([&] { parallel_for(500, 2, [&](std::int64_t i) { sum += i; }); });
    parallel_for(500, 2, [&](std::int64_t i) { sum += i; });
    other.join();
    CHECK(sum.load() == 2 * (499 * 500 / 2));
}

TEST_CASE("DLPack exports keep the buffer alive until their deleter runs", "[dlpack]") {
    const auto live_before = dlpack::live_exports();
    auto buffer = make_buffer(DType::f32, {3, 5});
    std::weak_ptr<Buffer> weak = buffer;
    auto *legacy = dlpack::export_legacy({buffer, buffer->data(), DType::f32, {3, 5}, {}});
    auto *versioned = dlpack::export_versioned({buffer, buffer->data(), DType::f32, {3, 5}, {}},
                                               dlpack::flag_is_copied);
    CHECK(legacy->dl_tensor.ndim == 2);
    CHECK(legacy->dl_tensor.shape[1] == 5);
    CHECK(legacy->dl_tensor.strides == nullptr);
    CHECK(legacy->dl_tensor.dtype.code == dlpack::kDLFloat);
    CHECK(legacy->dl_tensor.dtype.bits == 32);
    CHECK(versioned->version.major == 1);
    CHECK(versioned->flags == dlpack::flag_is_copied);
    CHECK(reinterpret_cast<std::uintptr_t>(legacy->dl_tensor.data) % 64 == 0);
    CHECK(dlpack::live_exports() == live_before + 2);
    buffer.reset();
    CHECK_FALSE(weak.expired());
    legacy->deleter(legacy);
    CHECK_FALSE(weak.expired());
    versioned->deleter(versioned);
    CHECK(weak.expired());
    CHECK(dlpack::live_exports() == live_before);
}

TEST_CASE("cached FFT plans are shared and survive a cache clear", "[fft]") {
    auto a = get_fft_plan<double>(FftKind::r2c, 96);
    auto b = get_fft_plan<double>(FftKind::r2c, 96);
    CHECK(a.get() == b.get());
    clear_fft_plan_cache();
    auto c = get_fft_plan<double>(FftKind::r2c, 96);
    CHECK(c.get() != a.get());
    CHECK(fft_plan_cache_info().plans >= 1);
}

// A real FFT of even length runs as a complex FFT of half the length plus a split step.
template <class T> void check_real_fft(std::int64_t n, double tol) {
    const auto x = noise(static_cast<std::size_t>(n), static_cast<unsigned>(n));
    auto plan = get_fft_plan<T>(FftKind::r2c, n);
    AlignedArray<T> in(n);
    AlignedArray<std::complex<T>> out(n / 2 + 1);
    for (std::int64_t i = 0; i < n; ++i) in[i] = static_cast<T>(x[static_cast<std::size_t>(i)]);
    plan->r2c(in.data(), out.data());
    double peak = 0, err = 0;
    for (std::int64_t k = 0; k <= n / 2; ++k) {
        std::complex<double> ref = 0;  // the definition, on the same (rounded) input
        for (std::int64_t j = 0; j < n; ++j)
            ref += static_cast<double>(in[j]) *
                   std::polar(1.0, -2.0 * pi * static_cast<double>((k * j) % n) / static_cast<double>(n));
        peak = std::max(peak, std::abs(ref));
        err = std::max(err, std::abs(std::complex<double>(out[k]) - ref));
    }
    INFO("n = " << n << ", max error / max |X| = " << err / peak);
    CHECK(err <= tol * peak);
    CHECK(out[0].imag() == T(0));
    if (n % 2 == 0) CHECK(out[n / 2].imag() == T(0));  // the Nyquist bin
}

TEST_CASE("real FFTs of every length equal the naive DFT", "[fft]") {
    for (std::int64_t n : {1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 18, 30, 62, 64, 100, 126, 400, 510, 512, 1000,
                           1024, 2018, 2048}) {
        check_real_fft<double>(n, 1e-13);
        check_real_fft<float>(n, 2e-6);
    }
}

template <class T> void check_split_bits(std::int64_t m) {
    const auto f = detail::split_factors<T>(m);
    const auto z = noise(2 * static_cast<std::size_t>(m + 1), static_cast<unsigned>(m) + 7);
    std::vector<T> a(z.begin(), z.end()), b(z.begin(), z.end());
    detail::split_real_spectrum(a.data(), f.data(), m, true);
    detail::split_real_spectrum(b.data(), f.data(), m, false);
    INFO("m = " << m);
    CHECK(std::memcmp(a.data(), b.data(), sizeof(T) * a.size()) == 0);
}

TEST_CASE("the real FFT's split step: vector code gives the scalar code's bits", "[fft]") {
    for (std::int64_t m = 1; m <= 70; ++m) {
        check_split_bits<double>(m);
        check_split_bits<float>(m);
    }
    for (std::int64_t m : {200, 255, 256, 512, 1009, 1024}) {
        check_split_bits<double>(m);
        check_split_bits<float>(m);
    }
}

// Full blocks of frames skip the split step and have the filterbank tile split the bins it uses
// (split_tile16_avx2, bins and mirror bins together where both are wanted); a single frame
// (compute_frame) runs the split step. The two must give the same bits for every n_fft (tiny
// ones, where the vector loops do not start, and odd ones, which never split), filterbank range
// (bins near 0, near Nyquist, only low ones as chroma uses) and quantity.
template <class T> std::int64_t check_blocks_equal_frames(PlanConfig c) {
    std::unique_ptr<SpectrogramPlan<T>> made;
    try {
        made = std::make_unique<SpectrogramPlan<T>>(c);
    } catch (const invalid_input &) {
        return 0;  // e.g. no FFT bin in the chroma range at a tiny n_fft
    }
    const SpectrogramPlan<T> &plan = *made;
    const std::int64_t n = (2 * frames_per_block + 3) * c.stft.hop_size + c.stft.n_fft, frames = plan.n_frames(n);
    REQUIRE(frames > 2 * frames_per_block);  // two full blocks and a partial one
    const auto xd = noise(static_cast<std::size_t>(n), static_cast<unsigned>(c.stft.n_fft) + 11);
    const std::vector<T> x(xd.begin(), xd.end());
    const SignalView<T> view{x.data(), n, 1};
    auto all = plan.compute(view);
    const std::int64_t bins = plan.n_bins();
    for (std::int64_t t = 0; t < frames; ++t) {
        auto col = plan.compute_frame(view, t);
        for (std::int64_t b = 0; b < bins; ++b) {
            const T a = all->template as<T>()[b * frames + t], e = col->template as<T>()[b];
            INFO("n_fft " << c.stft.n_fft << " scale " << int(c.scale) << " quantity " << int(c.quantity) << " frame "
                          << t << " bin " << b);
            REQUIRE(std::memcmp(&a, &e, sizeof(T)) == 0);
        }
    }
    return 1;
}

TEST_CASE("full blocks (the tile splits the spectra) equal single frames bit for bit", "[plan]") {
    std::int64_t ran = 0;
    for (std::int64_t n_fft : {2, 4, 6, 8, 10, 14, 16, 18, 30, 31, 64, 100, 256, 400, 1024}) {
        for (Quantity q : {Quantity::power, Quantity::magnitude, Quantity::db}) {
            PlanConfig c = config(n_fft, std::max<std::int64_t>(1, n_fft / 4), true, Scale::mel, q);
            // whole band (0 Hz to Nyquist: every bin pairs with its mirror), a low range, a high range
            for (auto [lo, hi] : {std::pair{0.0, 8000.0}, std::pair{0.0, 2500.0}, std::pair{3000.0, 8000.0},
                                  std::pair{1000.0, 7000.0}}) {
                c.mel = {std::min<std::int64_t>(12, std::max<std::int64_t>(1, n_fft / 4)), lo, hi, MelNorm::slaney,
                         false};
                ran += check_blocks_equal_frames<double>(c) + check_blocks_equal_frames<float>(c);
            }
            c.scale = Scale::erb;
            c.erb = {8, 50.0, 7900.0};
            ran += check_blocks_equal_frames<double>(c) + check_blocks_equal_frames<float>(c);
        }
        PlanConfig c = config(n_fft, std::max<std::int64_t>(1, n_fft / 4), true, Scale::chroma, Quantity::magnitude);
        ran += check_blocks_equal_frames<double>(c) + check_blocks_equal_frames<float>(c);
    }
    CHECK(ran > 250);
}

// A filterbank plan's cells from the linear power plan's (the split step, then std::norm), summed
// over each band in order from 0 as band_sums does: equal bit for bit. In float64 the filterbank
// plans take the column path (each frame's tile column split from its spectrum right after the
// FFT), which this checks against the split step; in float32 the block tile.
template <class T> std::int64_t check_bands_over_linear(PlanConfig c) {
    std::unique_ptr<SpectrogramPlan<T>> made;
    try {
        made = std::make_unique<SpectrogramPlan<T>>(c);
    } catch (const invalid_input &) {
        return 0;
    }
    const SpectrogramPlan<T> &plan = *made;
    PlanConfig lc = c;
    lc.scale = Scale::linear;
    lc.quantity = Quantity::power;
    const SpectrogramPlan<T> linear(lc);
    const std::int64_t n = (2 * frames_per_block + 3) * c.stft.hop_size + c.stft.n_fft, frames = plan.n_frames(n);
    const auto xd = noise(static_cast<std::size_t>(n), static_cast<unsigned>(c.stft.n_fft) + 5);
    const std::vector<T> x(xd.begin(), xd.end());
    const SignalView<T> view{x.data(), n, 1};
    auto got = plan.compute(view);
    auto power = linear.compute(view);
    const T *p = power->template as<T>();
    const auto &fb = plan.filterbank();
    const bool chroma = c.scale == Scale::chroma;
    std::vector<T> want(static_cast<std::size_t>(fb.n_bands * frames));
    for (std::int64_t b = 0; b < fb.n_bands; ++b)
        for (std::int64_t t = 0; t < frames; ++t) {
            T acc = 0;
            for (std::int64_t j = 0; j < fb.count[b]; ++j) {
                const T cell = p[(fb.start[b] + j) * frames + t];
                const volatile T product = static_cast<T>(fb.weights[fb.offset[b] + j]) * (chroma ? std::sqrt(cell) : cell);
                acc += product;
            }
            want[b * frames + t] = acc;
        }
    if (chroma && c.chroma.norm == ChromaNorm::l2)
        for (std::int64_t t = 0; t < frames; ++t) {
            T size = 0;
            for (std::int64_t b = 0; b < fb.n_bands; ++b) {
                const T v = std::abs(want[b * frames + t]);
                size += v * v;
            }
            size = std::sqrt(size);
            if (size > 0)
                for (std::int64_t b = 0; b < fb.n_bands; ++b) want[b * frames + t] /= size;
        }
    for (std::int64_t i = 0; i < fb.n_bands * frames; ++i) {
        const T a = got->template as<T>()[i], e = want[static_cast<std::size_t>(i)];
        INFO("n_fft " << c.stft.n_fft << " scale " << int(c.scale) << " band " << i / frames << " frame " << i % frames);
        REQUIRE(std::memcmp(&a, &e, sizeof(T)) == 0);
    }
    return 1;
}

TEST_CASE("filterbank plans equal band sums over the linear power plan, bit for bit", "[plan]") {
    std::int64_t ran = 0;
    for (std::int64_t n_fft : {2, 4, 6, 8, 10, 14, 16, 18, 30, 31, 64, 100, 256, 400, 1024, 2048, 4096}) {
        PlanConfig c = config(n_fft, std::max<std::int64_t>(1, n_fft / 4), true, Scale::mel, Quantity::power);
        for (auto [lo, hi] : {std::pair{0.0, 8000.0}, std::pair{0.0, 2500.0}, std::pair{3000.0, 8000.0},
                              std::pair{1000.0, 7000.0}}) {
            c.mel = {std::min<std::int64_t>(12, std::max<std::int64_t>(1, n_fft / 4)), lo, hi, MelNorm::slaney, false};
            ran += check_bands_over_linear<double>(c) + check_bands_over_linear<float>(c);
        }
        c.scale = Scale::erb;
        c.erb = {8, 50.0, 7900.0};
        ran += check_bands_over_linear<double>(c) + check_bands_over_linear<float>(c);
        PlanConfig h = config(n_fft, std::max<std::int64_t>(1, n_fft / 4), true, Scale::chroma, Quantity::magnitude);
        // at 22.05 kHz the chroma bins (up to 4186 Hz) lie below a quarter of the rate: no mirror
        // pairs, so 2048 points and more take the column path
        for (double sr : {16000.0, 22050.0})
            for (ChromaNorm norm : {ChromaNorm::none, ChromaNorm::l2}) {
                h.sample_rate = sr;
                h.chroma.norm = norm;
                ran += check_bands_over_linear<double>(h) + check_bands_over_linear<float>(h);
            }
    }
    CHECK(ran > 150);
}

TEST_CASE("float32 linear dB plans compute in float64 and round each cell once", "[plan]") {
    auto c = config(400, 160, true, Scale::linear, Quantity::db);
    const SpectrogramPlan<float> f32(c);
    CHECK(f32.compute_dtype() == DType::f64);
    CHECK(f32.output_dtype() == DType::f32);
    CHECK(SpectrogramPlan<float>(config(400, 160, true, Scale::linear, Quantity::power)).compute_dtype() == DType::f32);
    CHECK(SpectrogramPlan<float>(config(400, 160, true, Scale::mel, Quantity::db)).compute_dtype() == DType::f32);
    // the float64 plan with the float32 window's coefficients, on the samples upcast
    c.stft.window.assign(f32.window().begin(), f32.window().end());
    const SpectrogramPlan<double> f64(c);
    const auto xd = noise(5000, 9);
    std::vector<float> x(xd.begin(), xd.end());
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = 3.0f * std::sin(0.233f * static_cast<float>(i)) + 1e-3f * x[i];
    const std::vector<double> up(x.begin(), x.end());
    auto got = f32.compute({x.data(), 5000, 1}, 2);
    auto want = f64.compute({up.data(), 5000, 1});
    REQUIRE(got->size() == want->size());
    const std::int64_t frames = got->shape()[1];
    for (std::int64_t i = 0; i < got->size(); ++i)
        REQUIRE(got->as<float>()[i] == static_cast<float>(want->as<double>()[i]));
    for (std::int64_t t : {std::int64_t(0), frames / 2, frames - 1}) {
        auto col = f32.compute_frame({x.data(), 5000, 1}, t);
        for (std::int64_t k = 0; k < f32.n_bins(); ++k) REQUIRE(col->as<float>()[k] == got->as<float>()[k * frames + t]);
    }
    auto batch = f32.compute_batch({{x.data(), 5000, 1}, {x.data(), 1200, 1}}, 2);
    for (std::int64_t k = 0; k < f32.n_bins(); ++k)
        for (std::int64_t t = 0; t < frames; ++t) REQUIRE(batch->as<float>()[k * frames + t] == got->as<float>()[k * frames + t]);
}

TEST_CASE("scaled_log_floor: within 4 ulp of ln, floors, and an element's bits do not depend on its position",
          "[vmath]") {
    std::mt19937_64 rng(5);
    std::uniform_real_distribution<double> expo(-30.0, 30.0);
    std::vector<double> x(37);
    for (auto &v : x) v = std::exp(expo(rng));
    x[3] = 1e-40;  // below the floor
    const double floor = 1e-20, scale = 10.0 / std::log(10.0);
    for (std::size_t n = 1; n <= x.size(); ++n) {
        std::vector<double> y(x.begin(), x.begin() + static_cast<std::ptrdiff_t>(n));
        spectrograms::scaled_log_floor(y.data(), static_cast<std::int64_t>(n), floor, scale);
        std::vector<float> yf(x.begin(), x.begin() + static_cast<std::ptrdiff_t>(n));
        spectrograms::scaled_log_floor(yf.data(), static_cast<std::int64_t>(n), float(floor), float(scale));
        for (std::size_t i = 0; i < n; ++i) {
            const double want = scale * std::log(std::max(x[i], floor));
            REQUIRE(std::abs(y[i] - want) <= 4 * std::numeric_limits<double>::epsilon() * std::abs(want) + 1e-300);
            REQUIRE(std::abs(yf[i] - want) <= 4 * std::numeric_limits<float>::epsilon() * std::abs(want) + 1e-30);
        }
        std::vector<double> full(x);  // the same elements inside a longer call
        spectrograms::scaled_log_floor(full.data(), static_cast<std::int64_t>(full.size()), floor, scale);
        for (std::size_t i = 0; i < n; ++i) REQUIRE(y[i] == full[i]);
    }
}

TEST_CASE("max_rows equals std::max over the cells, NaN cells passed over", "[vmath]") {
    auto check = [](auto zero, std::int64_t n_rows, std::int64_t n_cols, bool with_nan) {
        using T = decltype(zero);
        const std::int64_t xs = n_cols + 2;
        std::vector<T> x(static_cast<std::size_t>(n_rows * xs));
        for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<T>(std::sin(1.7 * double(i)) * (1 + i % 5));
        // the largest cell in a vector lane, then in the column tail
        if (n_cols >= 40) x[static_cast<std::size_t>((n_rows - 1) * xs + 37)] = T(100);
        else x[static_cast<std::size_t>(n_cols - 1)] = T(100);
        if (with_nan && n_cols >= 7) x[2] = std::numeric_limits<T>::quiet_NaN();  // not the 100 cell
        x[static_cast<std::size_t>(n_rows * xs - 1)] = T(1000);  // past the last row's columns: not read
        T want = T(-5);
        for (std::int64_t k = 0; k < n_rows; ++k)
            for (std::int64_t t = 0; t < n_cols; ++t) want = std::max(want, x[static_cast<std::size_t>(k * xs + t)]);
        REQUIRE(want == T(100));
        REQUIRE(spectrograms::max_rows(x.data(), n_rows, xs, n_cols, T(-5)) == want);
        REQUIRE(spectrograms::max_rows(x.data(), n_rows, xs, n_cols, T(500)) == T(500));
    };
    for (std::int64_t n_rows : {1, 3})
        for (std::int64_t n_cols : {1, 7, 16, 33, 64, 70})
            for (bool with_nan : {false, true}) {
                check(0.0, n_rows, n_cols, with_nan);
                check(0.0f, n_rows, n_cols, with_nan);
            }
}

TEST_CASE("dense_rows equals a naive matrix product", "[vmath]") {
    // Shapes that reach the blocked vector code (3-row blocks and a leftover row, whole 16- or
    // 32-column chunks) and the column tail, in both dtypes; the products of a cell are added in
    // order from 0 on every path, so the naive sum in that order is equal bit for bit.
    auto check = [](auto zero, std::int64_t n_out, std::int64_t n_in, std::int64_t n_cols) {
        using T = decltype(zero);
        const std::int64_t xs = n_cols + 3, os = n_cols + 5;
        std::vector<T> d(n_out * n_in), x(n_in * xs), out(n_out * os, T(-1));
        for (std::size_t i = 0; i < d.size(); ++i) d[i] = static_cast<T>(std::sin(0.3 * double(i)));
        for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<T>(std::cos(0.7 * double(i)));
        spectrograms::dense_rows(d.data(), n_out, n_in, x.data(), xs, n_cols, out.data(), os);
        for (std::int64_t k = 0; k < n_out; ++k) {
            for (std::int64_t t = 0; t < n_cols; ++t) {
                T want = 0;
                for (std::int64_t m = 0; m < n_in; ++m) want += d[k * n_in + m] * x[m * xs + t];
                REQUIRE(out[k * os + t] == want);
            }
            REQUIRE(out[k * os + n_cols] == T(-1));  // nothing written past the row
        }
    };
    for (std::int64_t n_out : {1, 3, 5, 13})
        for (std::int64_t n_cols : {1, 15, 16, 19, 32, 47, 70}) {
            check(0.0, n_out, 7, n_cols);
            check(0.0f, n_out, 9, n_cols);
        }
}
