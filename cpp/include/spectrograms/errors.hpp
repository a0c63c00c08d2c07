// Engine exception types; the binding maps each to one Python exception class.
#pragma once
#include <stdexcept>
#include <string>

namespace spectrograms {

/// A value is out of range or inconsistent (maps to InvalidInputError, a ValueError).
struct invalid_input : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

/// Two sizes that must agree do not (maps to DimensionMismatchError, a ValueError).
struct dimension_mismatch : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

/// FFTW could not create a plan (maps to FFTBackendError).
struct fft_backend_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// A broken engine invariant (maps to InternalError).
struct internal_error : std::logic_error {
    using std::logic_error::logic_error;
};

}  // namespace spectrograms
