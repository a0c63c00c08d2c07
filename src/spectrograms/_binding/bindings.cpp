// The one binding layer: convert arguments (GIL held) -> release the GIL -> call the engine ->
// wrap the result. No numerics here; validation of user input happens in the Python package.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <string>
#include <variant>
#include <vector>

#include "spectrograms/buffer.hpp"
#include "spectrograms/dlpack.hpp"
#include "spectrograms/errors.hpp"
#include "spectrograms/features.hpp"
#include "spectrograms/fft2d.hpp"
#include "spectrograms/fft.hpp"
#include "spectrograms/filterbank.hpp"
#include "spectrograms/mdct.hpp"
#include "spectrograms/plan.hpp"
#include "spectrograms/reconstruct.hpp"
#include "spectrograms/thread_pool.hpp"
#include "spectrograms/transforms.hpp"
#include "spectrograms/window.hpp"

namespace py = pybind11;
using namespace spectrograms;

namespace {

// ---- numpy <-> engine views --------------------------------------------------------------------

py::dtype numpy_dtype(DType d) {
    switch (d) {
        // dtype::of<T>() returns numpy's cached descriptor; building one from a string is slow
        case DType::f32: return py::dtype::of<float>();
        case DType::f64: return py::dtype::of<double>();
        case DType::c64: return py::dtype::of<std::complex<float>>();
        case DType::c128: return py::dtype::of<std::complex<double>>();
    }
    throw internal_error("unknown dtype");
}

// Same element type (pybind11's dtype::is compares object identity, and an unpickled array's
// dtype is a different object from numpy's canonical one).
template <class T> bool has_dtype(const py::array &a) {
    return a.dtype().num() == py::dtype::of<T>().num() && a.dtype().itemsize() == static_cast<py::ssize_t>(sizeof(T));
}

const char *dtype_name(DType d) {
    switch (d) {
        case DType::f32: return "float32";
        case DType::f64: return "float64";
        case DType::c64: return "complex64";
        case DType::c128: return "complex128";
    }
    return "?";
}

DType dtype_from_name(const std::string &name) {
    if (name == "float32") return DType::f32;
    if (name == "float64") return DType::f64;
    if (name == "complex64") return DType::c64;
    if (name == "complex128") return DType::c128;
    throw invalid_input("dtype must be float32, float64, complex64 or complex128; got '" + name + "'");
}

// A 1-D view of a numpy array of element type T, through its stride; no copy. The Python layer
// has already converted the input to this dtype, so a mismatch here is an internal error.
template <class T> SignalView<T> signal_view(const py::array &a, std::size_t index) {
    if (a.ndim() != 1)
        throw invalid_input("signal " + std::to_string(index) + " must be 1-D, got " +
                            std::to_string(a.ndim()) + " dimensions");
    if (!has_dtype<T>(a))
        throw internal_error("signal dtype does not match the plan's dtype");
    const auto stride = a.strides(0);
    if (stride % static_cast<py::ssize_t>(sizeof(T)) != 0)
        throw invalid_input("signal " + std::to_string(index) + " has a stride of " + std::to_string(stride) +
                            " bytes, not a multiple of its element size");
    return {static_cast<const T *>(a.data()), static_cast<std::int64_t>(a.shape(0)),
            static_cast<std::int64_t>(stride / static_cast<py::ssize_t>(sizeof(T)))};
}

// ---- Buffer as a Python object -------------------------------------------------------------------

// A Buffer, or a strided view into one (an item of a batch, cropped to its frames). The owner
// keeps the memory alive as long as any view, numpy array or DLPack capsule refers to it.
struct PyBuffer {
    BufferPtr owner;
    void *data;
    DType dtype;
    std::vector<std::int64_t> shape;
    std::vector<std::int64_t> strides;  // in elements

    explicit PyBuffer(BufferPtr b) : owner(b), data(b->data()), dtype(b->dtype()), shape(b->shape()) {
        strides = compact_strides(shape);
    }
    PyBuffer(BufferPtr b, void *d, DType t, std::vector<std::int64_t> s, std::vector<std::int64_t> st)
        : owner(std::move(b)), data(d), dtype(t), shape(std::move(s)), strides(std::move(st)) {}

    static std::vector<std::int64_t> compact_strides(const std::vector<std::int64_t> &shape) {
        std::vector<std::int64_t> st(shape.size());
        std::int64_t n = 1;
        for (std::size_t i = shape.size(); i-- > 0;) {
            st[i] = n;
            n *= shape[i];
        }
        return st;
    }
    std::int64_t size() const {
        std::int64_t n = 1;
        for (auto d : shape) n *= d;
        return n;
    }
    std::size_t nbytes() const { return static_cast<std::size_t>(size()) * dtype_size(dtype); }
    bool is_contiguous() const {
        auto c = compact_strides(shape);
        for (std::size_t i = 0; i < shape.size(); ++i)
            if (shape[i] > 1 && strides[i] != c[i]) return false;
        return true;
    }
    bool is_view() const { return data != owner->data() || shape != owner->shape(); }
    dlpack::TensorView tensor_view() const {
        return {owner, data, dtype, shape, is_contiguous() ? std::vector<std::int64_t>{} : strides};
    }
    // A new compact Buffer with this view's contents.
    BufferPtr compact_copy() const {
        auto out = make_buffer(dtype, shape);
        const std::size_t elem = dtype_size(dtype);
        if (is_contiguous()) {
            std::memcpy(out->data(), data, nbytes());
            return out;
        }
        char *dst = static_cast<char *>(out->data());
        std::vector<std::int64_t> index(shape.size(), 0);
        const std::int64_t n = size();
        for (std::int64_t i = 0; i < n; ++i) {
            std::int64_t offset = 0;
            for (std::size_t d = 0; d < shape.size(); ++d) offset += index[d] * strides[d];
            std::memcpy(dst + static_cast<std::size_t>(i) * elem,
                        static_cast<const char *>(data) + static_cast<std::size_t>(offset) * elem, elem);
            for (std::size_t d = shape.size(); d-- > 0;) {
                if (++index[d] < shape[d]) break;
                index[d] = 0;
            }
        }
        return out;
    }
};

py::array numpy_view(py::object self) {
    auto &b = self.cast<PyBuffer &>();
    std::vector<py::ssize_t> shape(b.shape.begin(), b.shape.end()), strides;
    const auto elem = static_cast<py::ssize_t>(dtype_size(b.dtype));
    for (auto st : b.strides) strides.push_back(static_cast<py::ssize_t>(st) * elem);
    return py::array(numpy_dtype(b.dtype), shape, strides, b.data, self);
}

// ---- DLPack capsules -------------------------------------------------------------------------------

void legacy_capsule_destructor(PyObject *capsule) {
    // Renamed to "used_dltensor" by a consumer that took ownership: nothing to do.
    if (PyCapsule_IsValid(capsule, "dltensor")) {
        auto *m = static_cast<dlpack::DLManagedTensor *>(PyCapsule_GetPointer(capsule, "dltensor"));
        if (m && m->deleter) m->deleter(m);
    }
}

void versioned_capsule_destructor(PyObject *capsule) {
    if (PyCapsule_IsValid(capsule, "dltensor_versioned")) {
        auto *m = static_cast<dlpack::DLManagedTensorVersioned *>(
            PyCapsule_GetPointer(capsule, "dltensor_versioned"));
        if (m && m->deleter) m->deleter(m);
    }
}

py::object dlpack_capsule(const dlpack::TensorView &view, bool versioned, bool copied) {
    PyObject *capsule = nullptr;
    if (versioned) {
        auto *m = dlpack::export_versioned(view, copied ? dlpack::flag_is_copied : 0);
        capsule = PyCapsule_New(m, "dltensor_versioned", versioned_capsule_destructor);
        if (!capsule) m->deleter(m);
    } else {
        auto *m = dlpack::export_legacy(view);
        capsule = PyCapsule_New(m, "dltensor", legacy_capsule_destructor);
        if (!capsule) m->deleter(m);
    }
    if (!capsule) throw py::error_already_set();
    return py::reinterpret_steal<py::object>(capsule);
}

// ---- plans -----------------------------------------------------------------------------------------

using PlanVariant = std::variant<std::shared_ptr<SpectrogramPlan<float>>, std::shared_ptr<SpectrogramPlan<double>>>;

struct PyPlan {
    PlanVariant plan;
    DType input_dtype;
};

Scale scale_from_name(const std::string &s) {
    if (s == "linear") return Scale::linear;
    if (s == "mel") return Scale::mel;
    if (s == "erb") return Scale::erb;
    if (s == "loghz") return Scale::loghz;
    if (s == "chroma") return Scale::chroma;
    if (s == "cqt") return Scale::cqt;
    throw invalid_input("scale must be 'linear', 'mel', 'erb', 'loghz', 'chroma' or 'cqt'; got '" + s + "'");
}

Quantity quantity_from_name(const std::string &s) {
    if (s == "complex") return Quantity::complex;
    if (s == "power") return Quantity::power;
    if (s == "magnitude") return Quantity::magnitude;
    if (s == "db") return Quantity::db;
    throw invalid_input("quantity must be 'complex', 'power', 'magnitude' or 'db'; got '" + s + "'");
}

template <class T>
std::vector<SignalView<T>> signal_views(const std::vector<py::array> &signals) {
    std::vector<SignalView<T>> views;
    views.reserve(signals.size());
    for (std::size_t i = 0; i < signals.size(); ++i) views.push_back(signal_view<T>(signals[i], i));
    return views;
}

PyBuffer plan_compute_batch(const PyPlan &p, const std::vector<py::array> &signals, int n_threads, bool pad,
                            bool batch) {
    return std::visit(
        [&](const auto &plan) {
            using T = typename std::decay_t<decltype(*plan)>::complex_type::value_type;
            auto views = signal_views<T>(signals);
            BufferPtr out;
            {
                py::gil_scoped_release release;
                out = batch ? plan->compute_batch(views, n_threads, pad) : plan->compute(views.at(0), n_threads);
            }
            return PyBuffer(out);
        },
        p.plan);
}

template <class T> py::array to_numpy(const std::vector<T> &v) {
    py::array_t<T> a(static_cast<py::ssize_t>(v.size()));
    std::memcpy(a.mutable_data(), v.data(), sizeof(T) * v.size());
    return std::move(a);
}

using MfccVariant = std::variant<std::shared_ptr<MfccPlan<float>>, std::shared_ptr<MfccPlan<double>>>;

struct PyMfccPlan {
    MfccVariant plan;
};

PyBuffer mfcc_compute(const PyMfccPlan &p, const std::vector<py::array> &signals, int n_threads, bool pad,
                      bool batch) {
    return std::visit(
        [&](const auto &plan) {
            using T = typename std::decay_t<decltype(*plan)>::value_type;
            auto views = signal_views<T>(signals);
            BufferPtr out;
            {
                py::gil_scoped_release release;
                out = batch ? plan->compute_batch(views, n_threads, pad) : plan->compute(views.at(0), n_threads);
            }
            return PyBuffer(out);
        },
        p.plan);
}

// f(view) with the GIL released, wrapped as a PyBuffer.
template <class View, class F> PyBuffer released(const View &view, F &f) {
    BufferPtr out;
    {
        py::gil_scoped_release release;
        out = f(view);
    }
    return PyBuffer(out);
}

// f(view) for a 1-D real array (float32/float64) viewed without a copy, GIL released.
template <class F> PyBuffer with_real(const py::array &x, F f) {
    if (has_dtype<float>(x)) return released(signal_view<float>(x, 0), f);
    if (has_dtype<double>(x)) return released(signal_view<double>(x, 0), f);
    throw internal_error("the Python layer must pass float32 or float64 here");
}

// Likewise for a 1-D complex array (complex64/complex128).
template <class F> PyBuffer with_complex(const py::array &x, F f) {
    if (has_dtype<std::complex<float>>(x)) return released(signal_view<std::complex<float>>(x, 0), f);
    if (has_dtype<std::complex<double>>(x)) return released(signal_view<std::complex<double>>(x, 0), f);
    throw internal_error("the Python layer must pass complex64 or complex128 here");
}

// A 2-D view of a numpy array of element type E, through its strides; no copy.
template <class E> MatrixView<E> matrix_view(const py::array &a, const char *what) {
    if (a.ndim() != 2) throw invalid_input(std::string(what) + " must be 2-D");
    if (!has_dtype<E>(a)) throw internal_error("matrix dtype does not match");
    const auto elem = static_cast<py::ssize_t>(sizeof(E));
    if (a.strides(0) % elem || a.strides(1) % elem)
        throw invalid_input(std::string(what) + "'s strides are not multiples of its element size");
    return {static_cast<const E *>(a.data()), static_cast<std::int64_t>(a.shape(0)),
            static_cast<std::int64_t>(a.shape(1)), static_cast<std::int64_t>(a.strides(0) / elem),
            static_cast<std::int64_t>(a.strides(1) / elem)};
}

// f(view) for a 2-D real (float32/float64) array, GIL released.
template <class F> PyBuffer with_real_matrix(const py::array &x, F f) {
    if (has_dtype<float>(x)) return released(matrix_view<float>(x, "the array"), f);
    if (has_dtype<double>(x)) return released(matrix_view<double>(x, "the array"), f);
    throw internal_error("the Python layer must pass float32 or float64 here");
}

py::object py_error(const char *name) {
    return py::module_::import("spectrograms._errors").attr(name);
}

}  // namespace

// threadpoolctl finds our extension among the loaded libraries by this symbol (see _threadpoolctl.py).
extern "C" __attribute__((visibility("default"))) int spectrograms_threadpool_marker() { return 1; }

PYBIND11_MODULE(_core, m) {
    m.doc() = "spectrograms engine binding (private; use the spectrograms package)";

    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const dimension_mismatch &e) {
            PyErr_SetString(py_error("DimensionMismatchError").ptr(), e.what());
        } catch (const invalid_input &e) {
            PyErr_SetString(py_error("InvalidInputError").ptr(), e.what());
        } catch (const fft_backend_error &e) {
            PyErr_SetString(py_error("FFTBackendError").ptr(), e.what());
        } catch (const internal_error &e) {
            PyErr_SetString(py_error("InternalError").ptr(), e.what());
        }
    });

    py::class_<PyBuffer>(m, "Buffer", "Aligned, reference-counted engine memory.")
        .def_property_readonly("shape", [](const PyBuffer &b) {
            py::tuple t(b.shape.size());
            for (std::size_t i = 0; i < b.shape.size(); ++i) t[i] = b.shape[i];
            return t;
        })
        .def_property_readonly("dtype", [](const PyBuffer &b) { return std::string(dtype_name(b.dtype)); })
        .def_property_readonly("nbytes", &PyBuffer::nbytes)
        .def_property_readonly("data_ptr", [](const PyBuffer &b) { return reinterpret_cast<std::uintptr_t>(b.data); })
        .def("numpy", &numpy_view, "A writable numpy view that keeps this buffer alive.")
        .def_property_readonly("strides", [](const PyBuffer &b) {
            py::tuple t(b.strides.size());
            for (std::size_t i = 0; i < b.strides.size(); ++i) t[i] = b.strides[i];
            return t;
        }, "Strides in elements.")
        .def_property_readonly("is_contiguous", &PyBuffer::is_contiguous)
        .def("copy", [](const PyBuffer &b) { return PyBuffer(b.compact_copy()); }, "A compact copy.")
        .def("item", [](const PyBuffer &b, std::int64_t i, std::int64_t last_axis_length) {
            if (b.shape.empty() || i < 0 || i >= b.shape[0])
                throw std::out_of_range("batch index " + std::to_string(i) + " out of range for " +
                                        std::to_string(b.shape.empty() ? 0 : b.shape[0]) + " items");
            std::vector<std::int64_t> shape(b.shape.begin() + 1, b.shape.end());
            std::vector<std::int64_t> strides(b.strides.begin() + 1, b.strides.end());
            if (last_axis_length >= 0 && !shape.empty()) shape.back() = std::min(shape.back(), last_axis_length);
            char *d = static_cast<char *>(b.data) + static_cast<std::size_t>(i * b.strides[0]) * dtype_size(b.dtype);
            return PyBuffer(b.owner, d, b.dtype, shape, strides);
        }, py::arg("index"), py::arg("last_axis_length") = -1,
           "View of item `index` along the first axis, its last axis cut to `last_axis_length`.")
        .def_property_readonly("is_view", &PyBuffer::is_view)
        .def("dlpack", [](const PyBuffer &b, bool versioned, bool copy) {
            if (!copy) return dlpack_capsule(b.tensor_view(), versioned, false);
            auto out = b.compact_copy();
            return dlpack_capsule({out, out->data(), b.dtype, b.shape, {}}, versioned, true);
        }, py::arg("versioned"), py::arg("copy"),
           "A 'dltensor' (legacy) or 'dltensor_versioned' capsule; copy=True exports new memory.")
        .def_static("from_array", [](py::array a) {
            // C-contiguous copy of any numpy array of a supported dtype into a new aligned Buffer.
            const DType d = dtype_from_name(py::str(a.dtype()).cast<std::string>());
            std::vector<std::int64_t> shape(a.shape(), a.shape() + a.ndim());
            auto out = make_buffer(d, shape);
            auto contiguous = py::array::ensure(a, py::array::c_style);
            std::memcpy(out->data(), contiguous.data(), out->nbytes());
            return PyBuffer(out);
        });

    py::class_<PyPlan>(m, "Plan", "An engine plan (private; see spectrograms.SpectrogramPlanner).")
        .def(py::init([](const std::string &dtype, std::int64_t n_fft, std::int64_t hop_size, bool centre,
                         std::vector<double> window, double sample_rate, const std::string &scale,
                         const std::string &quantity, double floor_db, std::int64_t n_mels, double f_min,
                         double f_max, const std::string &mel_norm, bool htk, std::int64_t n_bands,
                         double tuning, const std::string &chroma_norm, std::int64_t bins_per_octave) {
                 PlanConfig c;
                 c.stft = {n_fft, hop_size, centre, std::move(window)};
                 c.sample_rate = sample_rate;
                 c.scale = scale_from_name(scale);
                 c.quantity = quantity_from_name(quantity);
                 c.floor_db = floor_db;
                 c.mel = {n_mels, f_min, f_max, mel_norm_from_string(mel_norm), htk};
                 c.erb = c.loghz = {n_bands, f_min, f_max};
                 c.chroma = {tuning, f_min, f_max, chroma_norm_from_string(chroma_norm)};
                 c.cqt = {bins_per_octave, n_bands, f_min};
                 PyPlan p;
                 py::gil_scoped_release release;  // FFTW planning can take a while
                 if (dtype == "float32") {
                     p.plan = std::make_shared<SpectrogramPlan<float>>(std::move(c));
                     p.input_dtype = DType::f32;
                 } else if (dtype == "float64") {
                     p.plan = std::make_shared<SpectrogramPlan<double>>(std::move(c));
                     p.input_dtype = DType::f64;
                 } else {
                     throw invalid_input("dtype must be 'float32' or 'float64', got '" + dtype + "'");
                 }
                 return p;
             }),
             py::arg("dtype"), py::arg("n_fft"), py::arg("hop_size"), py::arg("centre"), py::arg("window"),
             py::arg("sample_rate"), py::arg("scale"), py::arg("quantity"), py::arg("floor_db") = -80.0,
             py::arg("n_mels") = 0, py::arg("f_min") = 0.0, py::arg("f_max") = 0.0, py::arg("mel_norm") = "none",
             py::arg("htk") = false, py::arg("n_bands") = 0, py::arg("tuning") = 440.0,
             py::arg("chroma_norm") = "l2", py::arg("bins_per_octave") = 12)
        .def_property_readonly("n_bins", [](const PyPlan &p) { return std::visit([](auto &q) { return q->n_bins(); }, p.plan); })
        .def_property_readonly("input_dtype", [](const PyPlan &p) { return std::string(dtype_name(p.input_dtype)); })
        .def_property_readonly("compute_dtype", [](const PyPlan &p) {
            return std::string(dtype_name(std::visit([](auto &q) { return q->compute_dtype(); }, p.plan)));
        })
        .def_property_readonly("column_path", [](const PyPlan &p) {
            return std::visit([](auto &q) { return q->column_path(); }, p.plan);
        })
        .def_property_readonly("frequency_window", [](const PyPlan &p) {
            return std::visit([](auto &q) { return q->frequency_window(); }, p.plan);
        })
        .def_property_readonly("output_dtype", [](const PyPlan &p) {
            return std::string(dtype_name(std::visit([](auto &q) { return q->output_dtype(); }, p.plan)));
        })
        .def("n_frames", [](const PyPlan &p, std::int64_t n) { return std::visit([&](auto &q) { return q->n_frames(n); }, p.plan); })
        .def("frequencies", [](const PyPlan &p) { return to_numpy(std::visit([](auto &q) { return q->frequencies(); }, p.plan)); })
        .def("window", [](const PyPlan &p) {
            return std::visit([](auto &q) { return to_numpy(q->window()); }, p.plan);
        })
        .def("filterbank", [](const PyPlan &p) {
            return std::visit([](auto &q) {
                const auto &fb = q->filterbank();
                py::array_t<double> a({fb.n_bands, fb.n_fft_bins});
                auto dense = fb.dense();
                std::memcpy(a.mutable_data(), dense.data(), sizeof(double) * dense.size());
                return a;
            }, p.plan);
        }, "The filterbank as a dense (n_bands, n_fft/2+1) float64 array (empty on the linear scale).")
        .def("compute", [](const PyPlan &p, py::array signal, int n_threads) {
            return plan_compute_batch(p, {std::move(signal)}, n_threads, true, false);
        }, py::arg("signal"), py::arg("n_threads") = 1)
        .def("compute_batch", [](const PyPlan &p, std::vector<py::array> signals, int n_threads, bool pad) {
            return plan_compute_batch(p, signals, n_threads, pad, true);
        }, py::arg("signals"), py::arg("n_threads") = 1, py::arg("pad") = true)
        .def("compute_frame", [](const PyPlan &p, py::array signal, std::int64_t index) {
            return std::visit([&](const auto &plan) {
                using T = typename std::decay_t<decltype(*plan)>::complex_type::value_type;
                auto view = signal_view<T>(signal, 0);
                BufferPtr out;
                {
                    py::gil_scoped_release release;
                    out = plan->compute_frame(view, index);
                }
                return PyBuffer(out);
            }, p.plan);
        });

    py::class_<PyMfccPlan>(m, "MfccPlan", "An engine MFCC plan (private; see spectrograms.MfccPlan).")
        .def(py::init([](const std::string &dtype, std::int64_t n_fft, std::int64_t hop_size, bool centre,
                         std::vector<double> window, double sample_rate, std::int64_t n_mels, double f_min,
                         double f_max, const std::string &mel_norm, bool htk, double floor_db, std::int64_t n_mfcc,
                         const std::string &dct_norm, double lifter, double top_db) {
                 PlanConfig c;
                 c.stft = {n_fft, hop_size, centre, std::move(window)};
                 c.sample_rate = sample_rate;
                 c.scale = Scale::mel;
                 c.mel = {n_mels, f_min, f_max, mel_norm_from_string(mel_norm), htk};
                 MfccConfig m;
                 m.floor_db = floor_db;
                 m.n_mfcc = n_mfcc;
                 m.dct_norm = dct_norm_from_string(dct_norm);
                 m.lifter = lifter;
                 m.top_db = top_db;
                 PyMfccPlan p;
                 py::gil_scoped_release release;
                 if (dtype == "float32") p.plan = std::make_shared<MfccPlan<float>>(std::move(c), m);
                 else if (dtype == "float64") p.plan = std::make_shared<MfccPlan<double>>(std::move(c), m);
                 else throw invalid_input("dtype must be 'float32' or 'float64', got '" + dtype + "'");
                 return p;
             }),
             py::arg("dtype"), py::arg("n_fft"), py::arg("hop_size"), py::arg("centre"), py::arg("window"),
             py::arg("sample_rate"), py::arg("n_mels"), py::arg("f_min"), py::arg("f_max"), py::arg("mel_norm"),
             py::arg("htk"), py::arg("floor_db"), py::arg("n_mfcc"), py::arg("dct_norm"), py::arg("lifter"),
             py::arg("top_db"))
        .def_property_readonly("n_bins", [](const PyMfccPlan &p) {
            return std::visit([](auto &q) { return q->n_mfcc(); }, p.plan);
        })
        .def("n_frames", [](const PyMfccPlan &p, std::int64_t n) {
            return std::visit([&](auto &q) { return q->mel_plan().n_frames(n); }, p.plan);
        })
        .def("frequencies", [](const PyMfccPlan &p) {
            return to_numpy(std::visit([](auto &q) { return q->mel_plan().frequencies(); }, p.plan));
        }, "Centres of the mel bands the coefficients come from.")
        .def("compute", [](const PyMfccPlan &p, py::array signal, int n_threads) {
            return mfcc_compute(p, {std::move(signal)}, n_threads, true, false);
        }, py::arg("signal"), py::arg("n_threads") = 1)
        .def("compute_batch", [](const PyMfccPlan &p, std::vector<py::array> signals, int n_threads, bool pad) {
            return mfcc_compute(p, signals, n_threads, pad, true);
        }, py::arg("signals"), py::arg("n_threads") = 1, py::arg("pad") = true);

    m.def("istft", [](py::array spectra, std::int64_t n_fft, std::int64_t hop_size, std::vector<double> window,
                      bool centre, std::int64_t length) {
        if (spectra.ndim() != 2) throw invalid_input("istft needs a 2-D (n_bins, n_frames) complex array");
        const auto rows = spectra.shape(0), cols = spectra.shape(1);
        auto run = [&](auto tag) {
            using T = decltype(tag);
            const auto elem = static_cast<py::ssize_t>(sizeof(std::complex<T>));
            if (spectra.strides(0) % elem || spectra.strides(1) % elem)
                throw invalid_input("the STFT matrix's strides are not multiples of its element size");
            const auto *data = static_cast<const std::complex<T> *>(spectra.data());
            BufferPtr out;
            {
                py::gil_scoped_release release;
                out = istft<T>(data, rows, cols, spectra.strides(0) / elem, spectra.strides(1) / elem, n_fft,
                               hop_size, window, centre, length);
            }
            return PyBuffer(out);
        };
        if (has_dtype<std::complex<float>>(spectra)) return run(float{});
        if (has_dtype<std::complex<double>>(spectra)) return run(double{});
        throw internal_error("istft: the Python layer must pass complex64 or complex128");
    }, py::arg("spectra"), py::arg("n_fft"), py::arg("hop_size"), py::arg("window"), py::arg("centre"),
       py::arg("length") = -1);

    m.def("istft_batch", [](py::array spectra, std::int64_t n_fft, std::int64_t hop_size, std::vector<double> window,
                            bool centre, std::int64_t length, int n_threads) {
        if (spectra.ndim() != 3) throw invalid_input("istft_batch needs a 3-D (B, n_bins, n_frames) complex array");
        auto run = [&](auto tag) {
            using T = decltype(tag);
            const auto elem = static_cast<py::ssize_t>(sizeof(std::complex<T>));
            for (int d = 0; d < 3; ++d)
                if (spectra.strides(d) % elem) throw invalid_input("the STFT batch's strides are not multiples of its element size");
            SpectraView<T> view{static_cast<const std::complex<T> *>(spectra.data()), spectra.shape(0), spectra.shape(1),
                                spectra.shape(2), spectra.strides(0) / elem, spectra.strides(1) / elem,
                                spectra.strides(2) / elem};
            BufferPtr out;
            {
                py::gil_scoped_release release;
                out = istft_batch<T>(view, n_fft, hop_size, window, centre, length, n_threads);
            }
            return PyBuffer(out);
        };
        if (has_dtype<std::complex<float>>(spectra)) return run(float{});
        if (has_dtype<std::complex<double>>(spectra)) return run(double{});
        throw internal_error("istft_batch: the Python layer must pass complex64 or complex128");
    }, py::arg("spectra"), py::arg("n_fft"), py::arg("hop_size"), py::arg("window"), py::arg("centre"),
       py::arg("length") = -1, py::arg("n_threads") = 1);

    m.def("griffin_lim", [](const PyPlan &p, py::array magnitude, int n_iter, double momentum, py::array phase,
                            std::int64_t length) {
        if (magnitude.ndim() != 2) throw invalid_input("griffin_lim needs a 2-D (n_bins, n_frames) magnitude");
        return std::visit([&](const auto &plan) {
            using T = typename std::decay_t<decltype(*plan)>::complex_type::value_type;
            if (!has_dtype<T>(magnitude)) throw internal_error("griffin_lim: magnitude dtype does not match the plan");
            const auto elem = static_cast<py::ssize_t>(sizeof(T));
            std::vector<std::complex<T>> initial;
            if (phase.size() > 0) {
                if (!has_dtype<std::complex<T>>(phase) || !(phase.flags() & py::array::c_style))
                    throw internal_error("griffin_lim: initial phases must be C-contiguous complex of the plan's precision");
                const auto *ph = static_cast<const std::complex<T> *>(phase.data());
                initial.assign(ph, ph + phase.size());
            }
            BufferPtr out;
            {
                py::gil_scoped_release release;
                out = griffin_lim<T>(static_cast<const T *>(magnitude.data()), magnitude.shape(0), magnitude.shape(1),
                                     magnitude.strides(0) / elem, magnitude.strides(1) / elem, *plan, n_iter, momentum,
                                     initial, length);
            }
            return PyBuffer(out);
        }, p.plan);
    }, py::arg("plan"), py::arg("magnitude"), py::arg("n_iter"), py::arg("momentum"), py::arg("phase"),
       py::arg("length") = -1);

    m.def("fft", [](py::array x, std::int64_t n) {
        if (x.dtype().kind() == 'c') return with_complex(x, [&](const auto &v) { return fft(v, n); });
        return with_real(x, [&](const auto &v) { return fft(v, n); });
    }, py::arg("x"), py::arg("n"));
    m.def("rfft", [](py::array x, std::int64_t n) {
        return with_real(x, [&](const auto &v) { return rfft(v, n); });
    }, py::arg("x"), py::arg("n"));
    m.def("irfft", [](py::array spectrum, std::int64_t n) {
        return with_complex(spectrum, [&](const auto &v) { return irfft(v, n); });
    }, py::arg("spectrum"), py::arg("n"));
    m.def("spectrum", [](py::array x, std::int64_t n, std::vector<double> window, bool magnitude) {
        return with_real(x, [&](const auto &v) { return spectrum(v, n, window, magnitude); });
    }, py::arg("x"), py::arg("n"), py::arg("window"), py::arg("magnitude"));
    m.def("fft_frequencies", [](std::int64_t n, double d, bool real) { return to_numpy(fft_frequencies(n, d, real)); },
          py::arg("n"), py::arg("d"), py::arg("real"));
    m.def("fft_shift", [](py::array a, bool inverse) {
        // a is C-contiguous, 1-D or 2-D, of one of the Buffer dtypes (the Python layer sees to it)
        const DType d = dtype_from_name(py::str(a.dtype()).cast<std::string>());
        std::vector<std::int64_t> shape(a.shape(), a.shape() + a.ndim());
        if (shape.empty() || shape.size() > 2) throw invalid_input("fftshift takes a 1-D or 2-D array");
        const std::int64_t rows = shape.size() == 2 ? shape[0] : 1, cols = shape.back();
        auto out = make_buffer(d, shape);
        {
            py::gil_scoped_release release;
            fft_shift(a.data(), out->data(), rows, cols, dtype_size(d), inverse);
        }
        return PyBuffer(out);
    }, py::arg("a"), py::arg("inverse"));

    m.def("fft2d", [](py::array x, int n_threads) {
        return with_real_matrix(x, [&](const auto &v) { return fft2d(v, n_threads); });
    }, py::arg("x"), py::arg("n_threads") = 1);
    m.def("spectrum2d", [](py::array x, bool magnitude, int n_threads) {
        return with_real_matrix(x, [&](const auto &v) { return spectrum2d(v, magnitude, n_threads); });
    }, py::arg("x"), py::arg("magnitude"), py::arg("n_threads") = 1);
    m.def("ifft2d", [](py::array spectrum, std::int64_t out_cols, int n_threads) {
        auto run = [&](auto tag) {
            using T = decltype(tag);
            auto view = matrix_view<std::complex<T>>(spectrum, "the spectrum");
            BufferPtr out;
            {
                py::gil_scoped_release release;
                out = ifft2d<T>(view, out_cols, n_threads);
            }
            return PyBuffer(out);
        };
        if (has_dtype<std::complex<float>>(spectrum)) return run(float{});
        if (has_dtype<std::complex<double>>(spectrum)) return run(double{});
        throw internal_error("the Python layer must pass complex64 or complex128 here");
    }, py::arg("spectrum"), py::arg("out_cols"), py::arg("n_threads") = 1);
    m.def("gaussian_kernel_2d", [](std::int64_t size, double sigma) {
        py::array_t<double> a({size, size});
        auto k = gaussian_kernel_2d(size, sigma);
        std::memcpy(a.mutable_data(), k.data(), sizeof(double) * k.size());
        return a;
    }, py::arg("size"), py::arg("sigma"));
    m.def("convolve_fft", [](py::array image, py::array kernel, int n_threads) {
        return with_real_matrix(image, [&](const auto &v) {
            using T = typename std::decay_t<decltype(v)>::value_type;
            return convolve_fft<T>(v, matrix_view<T>(kernel, "the kernel"), n_threads);
        });
    }, py::arg("image"), py::arg("kernel"), py::arg("n_threads") = 1);
    m.def("frequency_filter", [](py::array image, const std::string &pass, double low, double high, int n_threads) {
        const FrequencyPass p = pass == "low" ? FrequencyPass::low : pass == "high" ? FrequencyPass::high
                                                                                    : FrequencyPass::band;
        return with_real_matrix(image, [&](const auto &v) { return frequency_filter(v, p, low, high, n_threads); });
    }, py::arg("image"), py::arg("pass_"), py::arg("low"), py::arg("high"), py::arg("n_threads") = 1);
    m.def("sharpen_fft", [](py::array image, double amount, int n_threads) {
        return with_real_matrix(image, [&](const auto &v) { return sharpen_fft(v, amount, n_threads); });
    }, py::arg("image"), py::arg("amount"), py::arg("n_threads") = 1);

    m.def("mdct", [](py::array x, std::vector<double> window, std::int64_t hop) {
        return with_real(x, [&](const auto &v) { return mdct(v, window, hop); });
    }, py::arg("x"), py::arg("window"), py::arg("hop"));
    m.def("imdct", [](py::array coefficients, std::vector<double> window, std::int64_t hop, std::int64_t length) {
        return with_real_matrix(coefficients, [&](const auto &c) {
            return imdct(c.data, c.rows, c.cols, c.row_stride, c.col_stride, window, hop, length);
        });
    }, py::arg("coefficients"), py::arg("window"), py::arg("hop"), py::arg("length") = -1);
    m.def("mdct_sine_window", [](std::int64_t n) { return to_numpy(mdct_sine_window(n)); });
    m.def("kbd_window", [](std::int64_t n, double alpha) { return to_numpy(kbd_window(n, alpha)); });

    m.def("mfcc_dct_matrix", [](std::int64_t n_mfcc, std::int64_t n_mels, const std::string &dct_norm, double lifter) {
        MfccConfig c;
        c.n_mfcc = n_mfcc;
        c.dct_norm = dct_norm_from_string(dct_norm);
        c.lifter = lifter;
        auto m = mfcc_dct_matrix(c, n_mels);
        py::array_t<double> a({n_mfcc, n_mels});
        std::memcpy(a.mutable_data(), m.data(), sizeof(double) * m.size());
        return a;
    }, py::arg("n_mfcc"), py::arg("n_mels"), py::arg("dct_norm") = "none", py::arg("lifter") = 0.0,
       "The engine's MFCC matrix (n_mfcc, n_mels): DCT-II with its normalisation and the lifter folded in.");

    m.def("make_window", [](const std::string &kind, std::int64_t n, double param) {
        return to_numpy(make_window(window_kind_from_string(kind), n, param));
    }, py::arg("kind"), py::arg("n"), py::arg("param") = 0.0);
    m.def("normalize_window", [](std::vector<double> w, const std::string &how) {
        return to_numpy(normalize_window(std::move(w), how));
    });
    m.def("mel_frequencies_of", [](double sr, std::int64_t n_fft, std::int64_t n_mels, double f_min, double f_max,
                                   const std::string &norm, bool htk) {
        return to_numpy(mel_filterbank(sr, n_fft, n_mels, f_min, f_max, mel_norm_from_string(norm), htk).centres);
    });
    m.def("hz_to_mel", &hz_to_mel, py::arg("hz"), py::arg("htk") = false);
    m.def("mel_to_hz", &mel_to_hz, py::arg("mel"), py::arg("htk") = false);

    m.def("fft_plan_cache_info", [] {
        auto i = fft_plan_cache_info();
        py::dict d;
        d["plans"] = i.plans;
        d["created"] = i.created;
        d["hits"] = i.hits;
        d["planner"] = planner_effort();
        return d;
    });
    m.def("clear_fft_plan_cache", [] {
        py::gil_scoped_release release;
        clear_fft_plan_cache();
    });
    m.def("set_planner_effort", &set_planner_effort);
    m.def("planner_effort", &planner_effort);
    m.def("export_wisdom", [] { return py::bytes(export_wisdom()); });
    m.def("import_wisdom", [](py::bytes w) { return import_wisdom(std::string(w)); });
    m.def("pool_worker_count", &pool_worker_count);
    m.def("live_dlpack_exports", &dlpack::live_exports);
}
