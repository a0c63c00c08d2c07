// Aligned, reference-counted storage shared by results, batches and DLPack exports.
#pragma once
#include <complex>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace spectrograms {

/// Element types a Buffer can hold.
enum class DType : std::uint8_t { f32, f64, c64, c128 };

/// Bytes per element of a DType.
std::size_t dtype_size(DType dtype) noexcept;
/// True for the complex DTypes.
bool dtype_is_complex(DType dtype) noexcept;

template <class T> struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType value = DType::f32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::f64; };
template <> struct dtype_of<std::complex<float>> { static constexpr DType value = DType::c64; };
template <> struct dtype_of<std::complex<double>> { static constexpr DType value = DType::c128; };

/// Byte alignment of every Buffer's data (a cache line; what JAX needs to import without a copy).
inline constexpr std::size_t buffer_alignment = 64;

/// C-contiguous n-dimensional storage. Owned through std::shared_ptr: a numpy view, a DLPack
/// capsule and a result object each hold a reference, and the memory lives until the last goes.
class Buffer {
  public:
    /// Allocates storage for `shape`; zero-filled when `zeroed` is true.
    Buffer(DType dtype, std::vector<std::int64_t> shape, bool zeroed = false);
    ~Buffer();
    Buffer(const Buffer &) = delete;
    Buffer &operator=(const Buffer &) = delete;

    DType dtype() const noexcept { return dtype_; }
    const std::vector<std::int64_t> &shape() const noexcept { return shape_; }
    std::int64_t size() const noexcept { return size_; }
    std::size_t nbytes() const noexcept { return size_ * dtype_size(dtype_); }
    void *data() noexcept { return data_; }
    const void *data() const noexcept { return data_; }
    template <class T> T *as() noexcept { return static_cast<T *>(data_); }
    template <class T> const T *as() const noexcept { return static_cast<const T *>(data_); }

  private:
    DType dtype_;
    std::vector<std::int64_t> shape_;
    std::int64_t size_;
    void *data_;
};

using BufferPtr = std::shared_ptr<Buffer>;

/// A new Buffer (not zeroed unless asked).
BufferPtr make_buffer(DType dtype, std::vector<std::int64_t> shape, bool zeroed = false);
/// A new Buffer with the same dtype, shape and contents.
BufferPtr copy_buffer(const Buffer &source);

/// Memory aligned to buffer_alignment, freed with aligned_free; throws std::bad_alloc.
void *aligned_malloc(std::size_t bytes);
void aligned_free(void *ptr) noexcept;

/// Aligned scratch memory that grows to the largest size asked for and is then reused: kept
/// thread_local by its users, so work on a thread allocates nothing once warm.
class ScratchArray {
  public:
    ScratchArray() = default;
    ScratchArray(const ScratchArray &) = delete;
    ScratchArray &operator=(const ScratchArray &) = delete;
    ~ScratchArray() { aligned_free(ptr_); }
    /// At least `bytes` of 64-byte-aligned memory (contents unspecified).
    void *get(std::size_t bytes) {
        if (bytes > size_) {
            aligned_free(ptr_);
            ptr_ = nullptr;
            size_ = 0;
            ptr_ = aligned_malloc(bytes);
            size_ = bytes;
        }
        return ptr_;
    }

  private:
    void *ptr_ = nullptr;
    std::size_t size_ = 0;
};

/// A fixed-size, uninitialised, buffer_alignment-aligned scratch array (what FFTW's new-array
/// execute functions need), freed on scope exit.
template <class E> class AlignedArray {
  public:
    explicit AlignedArray(std::int64_t n)
        : data_(static_cast<E *>(aligned_malloc(sizeof(E) * static_cast<std::size_t>(n > 0 ? n : 1)))) {}
    ~AlignedArray() { aligned_free(data_); }
    AlignedArray(const AlignedArray &) = delete;
    AlignedArray &operator=(const AlignedArray &) = delete;
    E *data() noexcept { return data_; }
    E &operator[](std::int64_t i) noexcept { return data_[i]; }

  private:
    E *data_;
};

}  // namespace spectrograms
