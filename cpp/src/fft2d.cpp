#include "spectrograms/fft2d.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "spectrograms/errors.hpp"
#include "spectrograms/fft.hpp"
#include "spectrograms/thread_pool.hpp"

namespace spectrograms {

namespace {

// Columns transformed together: one gather reads a run of them from each row.
constexpr std::int64_t column_group = 8;

// f(begin, end) over about 4 contiguous chunks of [0, n) per thread.
template <class F> void for_chunks(std::int64_t n, int n_threads, F f) {
    const std::int64_t tasks = n_threads <= 1 ? 1 : std::min<std::int64_t>(n, 4 * static_cast<std::int64_t>(n_threads));
    parallel_for(tasks, n_threads, [&](std::int64_t t) { f(n * t / tasks, n * (t + 1) / tasks); });
}

void check_shape(std::int64_t rows, std::int64_t cols, const char *what) {
    if (rows < 1 || cols < 1)
        throw invalid_input(std::string(what) + " must have at least one row and one column, got (" +
                            std::to_string(rows) + ", " + std::to_string(cols) + ")");
}

// In place: each of the `width` columns of the row-major (rows, width) matrix m is replaced by
// its 1-D DFT of length rows (forward or backward, unnormalised).
template <class T>
void transform_columns(std::complex<T> *m, std::int64_t rows, std::int64_t width, FftKind kind, int n_threads) {
    auto plan = get_fft_plan<T>(kind, rows);
    const std::int64_t n_groups = (width + column_group - 1) / column_group;
    // Each column's slot starts on a 64-byte boundary, as FFTW's plans expect.
    constexpr std::int64_t per_line = static_cast<std::int64_t>(buffer_alignment / sizeof(std::complex<T>));
    const std::int64_t slot = (rows + per_line - 1) / per_line * per_line;
    for_chunks(n_groups, n_threads, [&](std::int64_t g0, std::int64_t g1) {
        AlignedArray<std::complex<T>> in(slot * column_group), out(slot * column_group);
        for (std::int64_t g = g0; g < g1; ++g) {
            const std::int64_t c0 = g * column_group, n = std::min(column_group, width - c0);
            for (std::int64_t r = 0; r < rows; ++r)
                for (std::int64_t j = 0; j < n; ++j) in[j * slot + r] = m[r * width + c0 + j];
            for (std::int64_t j = 0; j < n; ++j) plan->c2c(in.data() + j * slot, out.data() + j * slot);
            for (std::int64_t r = 0; r < rows; ++r)
                for (std::int64_t j = 0; j < n; ++j) m[r * width + c0 + j] = out[j * slot + r];
        }
    });
}

// rfft2 into a new (rows, cols/2+1) complex buffer.
template <class T> BufferPtr rfft2(const MatrixView<T> &x, int n_threads) {
    check_shape(x.rows, x.cols, "the array");
    const std::int64_t h = x.cols / 2 + 1;
    auto out = make_buffer(dtype_of<std::complex<T>>::value, {x.rows, h});
    auto *o = out->template as<std::complex<T>>();
    auto plan = get_fft_plan<T>(FftKind::r2c, x.cols);
    for_chunks(x.rows, n_threads, [&](std::int64_t r0, std::int64_t r1) {
        AlignedArray<T> in(x.cols);
        AlignedArray<std::complex<T>> z(h);
        for (std::int64_t r = r0; r < r1; ++r) {
            for (std::int64_t c = 0; c < x.cols; ++c) in[c] = x(r, c);
            plan->r2c(in.data(), z.data());
            std::memcpy(o + r * h, z.data(), sizeof(std::complex<T>) * static_cast<std::size_t>(h));
        }
    });
    transform_columns(o, x.rows, h, FftKind::c2c_forward, n_threads);
    return out;
}

// irfft2 of the row-major (rows, out_cols/2+1) half spectrum w, which it overwrites.
template <class T>
BufferPtr irfft2_in_place(std::complex<T> *w, std::int64_t rows, std::int64_t out_cols, int n_threads) {
    const std::int64_t h = out_cols / 2 + 1;
    transform_columns(w, rows, h, FftKind::c2c_backward, n_threads);
    auto out = make_buffer(dtype_of<T>::value, {rows, out_cols});
    T *o = out->template as<T>();
    auto plan = get_fft_plan<T>(FftKind::c2r, out_cols);
    const T scale = T(1) / (static_cast<T>(rows) * static_cast<T>(out_cols));
    for_chunks(rows, n_threads, [&](std::int64_t r0, std::int64_t r1) {
        AlignedArray<std::complex<T>> z(h);
        AlignedArray<T> y(out_cols);
        for (std::int64_t r = r0; r < r1; ++r) {
            std::memcpy(z.data(), w + r * h, sizeof(std::complex<T>) * static_cast<std::size_t>(h));
            plan->c2r(z.data(), y.data());
            for (std::int64_t c = 0; c < out_cols; ++c) o[r * out_cols + c] = y[c] * scale;
        }
    });
    return out;
}

double checked_fraction(double f, const char *name) {
    if (!(std::isfinite(f) && f >= 0.0 && f <= 1.0))
        throw invalid_input(std::string(name) + " must be between 0 and 1, got " + std::to_string(f));
    return f;
}

}  // namespace

template <class T> BufferPtr fft2d(const MatrixView<T> &x, int n_threads) { return rfft2(x, n_threads); }

template <class T>
BufferPtr ifft2d(const MatrixView<std::complex<T>> &s, std::int64_t out_cols, int n_threads) {
    check_shape(s.rows, s.cols, "the spectrum");
    if (out_cols < 1) throw invalid_input("output_ncols must be >= 1, got " + std::to_string(out_cols));
    const std::int64_t h = out_cols / 2 + 1, used = std::min(h, s.cols);
    auto work = make_buffer(dtype_of<std::complex<T>>::value, {s.rows, h}, true);
    auto *w = work->template as<std::complex<T>>();
    for (std::int64_t r = 0; r < s.rows; ++r)
        for (std::int64_t c = 0; c < used; ++c) w[r * h + c] = s(r, c);
    return irfft2_in_place(w, s.rows, out_cols, n_threads);
}

template <class T> BufferPtr spectrum2d(const MatrixView<T> &x, bool magnitude, int n_threads) {
    auto z = rfft2(x, n_threads);
    const std::int64_t n = z->size();
    auto out = make_buffer(dtype_of<T>::value, z->shape());
    const auto *zi = z->template as<std::complex<T>>();
    T *o = out->template as<T>();
    for (std::int64_t i = 0; i < n; ++i) o[i] = std::norm(zi[i]);
    if (magnitude)
        for (std::int64_t i = 0; i < n; ++i) o[i] = std::sqrt(o[i]);
    return out;
}

std::vector<double> gaussian_kernel_2d(std::int64_t size, double sigma) {
    if (size < 1 || size % 2 == 0) throw invalid_input("size must be odd and >= 1, got " + std::to_string(size));
    if (!(std::isfinite(sigma) && sigma > 0))
        throw invalid_input("sigma must be finite and > 0, got " + std::to_string(sigma));
    const double centre = static_cast<double>(size / 2);
    std::vector<double> k(static_cast<std::size_t>(size * size));
    double sum = 0.0;
    for (std::int64_t i = 0; i < size; ++i)
        for (std::int64_t j = 0; j < size; ++j) {
            const double x = static_cast<double>(i) - centre, y = static_cast<double>(j) - centre;
            sum += k[static_cast<std::size_t>(i * size + j)] = std::exp(-(x * x + y * y) / (2.0 * sigma * sigma));
        }
    for (double &v : k) v /= sum;
    return k;
}

template <class T>
BufferPtr convolve_fft(const MatrixView<T> &image, const MatrixView<T> &kernel, int n_threads) {
    check_shape(image.rows, image.cols, "the image");
    check_shape(kernel.rows, kernel.cols, "the kernel");
    if (kernel.rows > image.rows || kernel.cols > image.cols)
        throw dimension_mismatch("the kernel (" + std::to_string(kernel.rows) + ", " + std::to_string(kernel.cols) +
                                 ") must not be larger than the image (" + std::to_string(image.rows) + ", " +
                                 std::to_string(image.cols) + ")");
    // The kernel, wrapped so that its centre sits at (0, 0).
    std::vector<T> padded(static_cast<std::size_t>(image.rows * image.cols), T(0));
    for (std::int64_t i = 0; i < kernel.rows; ++i)
        for (std::int64_t j = 0; j < kernel.cols; ++j) {
            const std::int64_t r = (i - kernel.rows / 2 + image.rows) % image.rows;
            const std::int64_t c = (j - kernel.cols / 2 + image.cols) % image.cols;
            padded[static_cast<std::size_t>(r * image.cols + c)] = kernel(i, j);
        }
    auto f = rfft2(image, n_threads);
    auto k = rfft2(MatrixView<T>{padded.data(), image.rows, image.cols, image.cols, 1}, n_threads);
    auto *fz = f->template as<std::complex<T>>();
    const auto *kz = k->template as<std::complex<T>>();
    for (std::int64_t i = 0; i < f->size(); ++i) fz[i] *= kz[i];
    return irfft2_in_place(fz, image.rows, image.cols, n_threads);
}

template <class T>
BufferPtr frequency_filter(const MatrixView<T> &image, FrequencyPass pass, double low_cutoff, double high_cutoff,
                           int n_threads) {
    checked_fraction(low_cutoff, pass == FrequencyPass::band ? "low_cutoff" : "cutoff_fraction");
    checked_fraction(high_cutoff, pass == FrequencyPass::band ? "high_cutoff" : "cutoff_fraction");
    if (pass == FrequencyPass::band && !(low_cutoff < high_cutoff))
        throw invalid_input("high_cutoff (" + std::to_string(high_cutoff) + ") must be greater than low_cutoff (" +
                            std::to_string(low_cutoff) + ")");
    auto f = rfft2(image, n_threads);
    auto *z = f->template as<std::complex<T>>();
    const std::int64_t rows = image.rows, h = f->shape()[1];
    const double unit = static_cast<double>(std::min(rows / 2, image.cols / 2));
    const double r_low = low_cutoff * unit, r_high = high_cutoff * unit;
    for (std::int64_t r = 0; r < rows; ++r) {
        const double fr = static_cast<double>(std::min(r, rows - r));
        for (std::int64_t c = 0; c < h; ++c) {  // c <= cols / 2, so min(c, cols - c) = c
            const double d2 = fr * fr + static_cast<double>(c) * static_cast<double>(c);
            bool keep = false;
            switch (pass) {
                case FrequencyPass::low: keep = d2 <= r_high * r_high; break;
                case FrequencyPass::high: keep = d2 > r_low * r_low; break;
                case FrequencyPass::band: keep = d2 > r_low * r_low && d2 <= r_high * r_high; break;
            }
            if (!keep) z[r * h + c] = std::complex<T>(0, 0);
        }
    }
    return irfft2_in_place(z, rows, image.cols, n_threads);
}

template <class T> BufferPtr sharpen_fft(const MatrixView<T> &image, double amount, int n_threads) {
    if (!(std::isfinite(amount) && amount >= 0))
        throw invalid_input("amount must be finite and >= 0, got " + std::to_string(amount));
    auto out = frequency_filter(image, FrequencyPass::high, 0.2, 1.0, n_threads);
    T *o = out->template as<T>();
    const T a = static_cast<T>(amount);
    for (std::int64_t r = 0; r < image.rows; ++r)
        for (std::int64_t c = 0; c < image.cols; ++c) o[r * image.cols + c] = image(r, c) + a * o[r * image.cols + c];
    return out;
}

#define SPECTROGRAMS_INSTANTIATE(T)                                                                             \
    template BufferPtr fft2d<T>(const MatrixView<T> &, int);                                                 \
    template BufferPtr ifft2d<T>(const MatrixView<std::complex<T>> &, std::int64_t, int);                    \
    template BufferPtr spectrum2d<T>(const MatrixView<T> &, bool, int);                                      \
    template BufferPtr convolve_fft<T>(const MatrixView<T> &, const MatrixView<T> &, int);                   \
    template BufferPtr frequency_filter<T>(const MatrixView<T> &, FrequencyPass, double, double, int);       \
    template BufferPtr sharpen_fft<T>(const MatrixView<T> &, double, int);
SPECTROGRAMS_INSTANTIATE(float)
SPECTROGRAMS_INSTANTIATE(double)
#undef SPECTROGRAMS_INSTANTIATE

}  // namespace spectrograms
