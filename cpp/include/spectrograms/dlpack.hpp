// The DLPack ABI (v1.1, https://dmlc.github.io/dlpack/latest/c_api.html), written out here,
// and the export of a Buffer as a legacy or versioned managed tensor.
#pragma once
#include <cstdint>

#include "buffer.hpp"

namespace spectrograms::dlpack {

inline constexpr std::uint32_t major_version = 1;
inline constexpr std::uint32_t minor_version = 1;

enum DLDeviceType : std::int32_t {
    kDLCPU = 1, kDLCUDA = 2, kDLCUDAHost = 3, kDLOpenCL = 4, kDLVulkan = 7, kDLMetal = 8,
    kDLVPI = 9, kDLROCM = 10, kDLROCMHost = 11, kDLExtDev = 12, kDLCUDAManaged = 13,
    kDLOneAPI = 14, kDLWebGPU = 15, kDLHexagon = 16, kDLMAIA = 17,
};
enum DLDataTypeCode : std::uint8_t {
    kDLInt = 0, kDLUInt = 1, kDLFloat = 2, kDLOpaqueHandle = 3, kDLBfloat = 4, kDLComplex = 5,
    kDLBool = 6,
};

struct DLPackVersion { std::uint32_t major; std::uint32_t minor; };
struct DLDevice { std::int32_t device_type; std::int32_t device_id; };
struct DLDataType { std::uint8_t code; std::uint8_t bits; std::uint16_t lanes; };
struct DLTensor {
    void *data;
    DLDevice device;
    std::int32_t ndim;
    DLDataType dtype;
    std::int64_t *shape;
    std::int64_t *strides;
    std::uint64_t byte_offset;
};
struct DLManagedTensor {
    DLTensor dl_tensor;
    void *manager_ctx;
    void (*deleter)(DLManagedTensor *self);
};

inline constexpr std::uint64_t flag_read_only = 1ULL << 0;
inline constexpr std::uint64_t flag_is_copied = 1ULL << 1;
inline constexpr std::uint64_t flag_is_subbyte_type_padded = 1ULL << 2;

struct DLManagedTensorVersioned {
    DLPackVersion version;
    void *manager_ctx;
    void (*deleter)(DLManagedTensorVersioned *self);
    std::uint64_t flags;
    DLTensor dl_tensor;
};

/// What an export describes: C-contiguous data of `dtype` and `shape` at `data`, inside memory
/// kept alive by `owner` (the whole buffer, or the buffer a view points into).
struct TensorView {
    BufferPtr owner;
    void *data;
    DType dtype;
    std::vector<std::int64_t> shape;
    std::vector<std::int64_t> strides;  ///< in elements; empty for C-contiguous
};

/// A legacy managed tensor sharing the view's memory (a reference to the owner is held until the
/// deleter runs). The deleter needs no Python and may run on any thread.
DLManagedTensor *export_legacy(const TensorView &view);
/// A versioned managed tensor; `flags` is a combination of flag_read_only and flag_is_copied.
DLManagedTensorVersioned *export_versioned(const TensorView &view, std::uint64_t flags);

/// Live exported tensors (for leak tests).
std::int64_t live_exports() noexcept;

}  // namespace spectrograms::dlpack
