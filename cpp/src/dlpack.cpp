#include "spectrograms/dlpack.hpp"

#include <atomic>

#include "spectrograms/errors.hpp"

namespace spectrograms::dlpack {

namespace {

std::atomic<std::int64_t> g_live{0};

// Everything one export owns: the tensor struct, its shape and a reference to the buffer.
template <class Managed> struct Export {
    Managed managed{};
    BufferPtr buffer;
    std::vector<std::int64_t> shape;
    std::vector<std::int64_t> strides;
};

DLDataType dl_dtype(DType dtype) {
    switch (dtype) {
        case DType::f32: return {kDLFloat, 32, 1};
        case DType::f64: return {kDLFloat, 64, 1};
        case DType::c64: return {kDLComplex, 64, 1};
        case DType::c128: return {kDLComplex, 128, 1};
    }
    throw internal_error("dlpack: unknown dtype");
}

template <class Managed> void fill(Export<Managed> *e, const TensorView &view) {
    e->buffer = view.owner;
    e->shape = view.shape;
    e->strides = view.strides;
    DLTensor &t = e->managed.dl_tensor;
    t.data = view.data;
    t.device = {kDLCPU, 0};
    t.ndim = static_cast<std::int32_t>(e->shape.size());
    t.dtype = dl_dtype(view.dtype);
    t.shape = e->shape.empty() ? nullptr : e->shape.data();
    t.strides = e->strides.empty() ? nullptr : e->strides.data();  // NULL: C-contiguous
    t.byte_offset = 0;
    e->managed.manager_ctx = e;
    ++g_live;
}

template <class Managed> void delete_export(Managed *self) {
    if (!self) return;
    delete static_cast<Export<Managed> *>(self->manager_ctx);
    --g_live;
}

}  // namespace

DLManagedTensor *export_legacy(const TensorView &view) {
    auto *e = new Export<DLManagedTensor>();
    fill(e, view);
    e->managed.deleter = &delete_export<DLManagedTensor>;
    return &e->managed;
}

DLManagedTensorVersioned *export_versioned(const TensorView &view, std::uint64_t flags) {
    auto *e = new Export<DLManagedTensorVersioned>();
    fill(e, view);
    e->managed.version = {major_version, minor_version};
    e->managed.flags = flags;
    e->managed.deleter = &delete_export<DLManagedTensorVersioned>;
    return &e->managed;
}

std::int64_t live_exports() noexcept { return g_live.load(); }

}  // namespace spectrograms::dlpack
