#include "spectrograms/buffer.hpp"

#include <cstdlib>
#include <cstring>
#include <new>

#include "spectrograms/errors.hpp"

namespace spectrograms {

std::size_t dtype_size(DType dtype) noexcept {
    switch (dtype) {
        case DType::f32: return 4;
        case DType::f64: return 8;
        case DType::c64: return 8;
        case DType::c128: return 16;
    }
    return 0;
}

bool dtype_is_complex(DType dtype) noexcept { return dtype == DType::c64 || dtype == DType::c128; }

void *aligned_malloc(std::size_t bytes) {
    // aligned_alloc needs a size that is a multiple of the alignment; never ask for 0 bytes.
    const std::size_t rounded =
        (bytes + buffer_alignment - 1) / buffer_alignment * buffer_alignment;
    void *p = std::aligned_alloc(buffer_alignment, rounded ? rounded : buffer_alignment);
    if (!p) throw std::bad_alloc();
    return p;
}

void aligned_free(void *ptr) noexcept { std::free(ptr); }

Buffer::Buffer(DType dtype, std::vector<std::int64_t> shape, bool zeroed)
    : dtype_(dtype), shape_(std::move(shape)), size_(1), data_(nullptr) {
    for (auto d : shape_) {
        if (d < 0) throw internal_error("Buffer: negative dimension");
        size_ *= d;
    }
    data_ = aligned_malloc(nbytes());
    if (zeroed) std::memset(data_, 0, nbytes());
}

Buffer::~Buffer() { aligned_free(data_); }

BufferPtr make_buffer(DType dtype, std::vector<std::int64_t> shape, bool zeroed) {
    return std::make_shared<Buffer>(dtype, std::move(shape), zeroed);
}

BufferPtr copy_buffer(const Buffer &source) {
    auto out = make_buffer(source.dtype(), source.shape());
    std::memcpy(out->data(), source.data(), source.nbytes());
    return out;
}

}  // namespace spectrograms
