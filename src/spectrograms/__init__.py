"""spectrograms: fast audio spectrograms and features for machine learning, on a C++/FFTW engine.

Results share memory with numpy, PyTorch and JAX through DLPack without copies. See the
``spectrograms.torch`` and ``spectrograms.jax`` modules (imported explicitly) for converters.
"""

from __future__ import annotations

import os as _os

# Development builds (`make dev`) keep the extension outside the source tree.
if _os.environ.get("SPECTROGRAMS_DEV_BUILD"):
    __path__.append(_os.path.abspath(_os.environ["SPECTROGRAMS_DEV_BUILD"]))  # noqa: F821

from . import _core as _core  # noqa: E402  (explicit re-export for type checkers)
from ._errors import (
    AudioReadError,
    DimensionMismatchError,
    FFTBackendError,
    InternalError,
    InvalidInputError,
    SpectrogramError,
)
from ._threads import get_num_threads, num_threads, set_num_threads
from .compute import (
    COMPUTE_FUNCTIONS as _COMPUTE_FUNCTIONS,
    clear_fft_plan_cache,
    compute_istft,
    compute_istft_batch,
    griffin_lim,
    compute_stft,
    compute_stft_batch,
    fft_plan_cache_info,
)
from .features import (
    ChromaPlan,
    MfccPlan,
    compute_chromagram,
    compute_chromagram_batch,
    compute_mfcc,
    compute_mfcc_batch,
)
from .fft import (
    compute_fft,
    compute_irfft,
    compute_magnitude_spectrum,
    compute_power_spectrum,
    compute_rfft,
    fftfreq,
    fftshift,
    fftshift_1d,
    ifftshift,
    ifftshift_1d,
    rfftfreq,
)
from .image import (
    Fft2dPlanner,
    bandpass_filter,
    convolve_fft,
    detect_edges_fft,
    fft2d,
    gaussian_kernel_2d,
    highpass_filter,
    ifft2d,
    lowpass_filter,
    magnitude_spectrum_2d,
    power_spectrum_2d,
    sharpen_fft,
)
from .mdct import imdct, mdct
from .params import (
    ChromaParams,
    CqtParams,
    ErbParams,
    LogHzParams,
    LogParams,
    MdctParams,
    MelNorm,
    MelParams,
    MfccParams,
    SpectrogramParams,
    StftParams,
    WindowType,
)
from .planner import PLAN_CLASSES as _PLAN_CLASSES
from .planner import SpectrogramPlanner, StftPlan
from .results import (
    DLPACK_FLAG_BITMASK_IS_COPIED,
    DLPACK_FLAG_BITMASK_READ_ONLY,
    KDLCPU,
    KDLCUDA,
    KDLCUDAHOST,
    KDLMETAL,
    KDLOPENCL,
    KDLROCM,
    KDLVPI,
    KDLVULKAN,
    Chromagram,
    Fft2dResult,
    Mfcc,
    Spectrogram,
    SpectrogramBatch,
    StftResult,
)

__version__ = "0.1.0"

# The plan classes and compute functions are generated from one table (see planner.py).
globals().update({cls.__name__: cls for cls in _PLAN_CLASSES.values()})
globals().update(_COMPUTE_FUNCTIONS)

from .audio import load, save  # noqa: E402  (soundfile and soxr are imported on first use)
from ._threadpoolctl import register as _register_threadpoolctl  # noqa: E402

_register_threadpoolctl()

make_hanning = WindowType.make_hanning
make_hamming = WindowType.make_hamming
make_blackman = WindowType.make_blackman
make_rectangular = WindowType.make_rectangular
make_kaiser = WindowType.make_kaiser
make_gaussian = WindowType.make_gaussian

__all__ = [
    "__version__",
    # parameters
    "WindowType", "StftParams", "SpectrogramParams", "LogParams", "MelParams", "MelNorm",
    "ErbParams", "LogHzParams", "ChromaParams", "MfccParams", "CqtParams", "MdctParams",
    # planning
    "SpectrogramPlanner", "StftPlan", *sorted(cls.__name__ for cls in _PLAN_CLASSES.values()),
    "MfccPlan", "ChromaPlan", "Fft2dPlanner",
    # results
    "Spectrogram", "StftResult", "SpectrogramBatch", "Mfcc", "Chromagram", "Fft2dResult",
    # errors
    "SpectrogramError", "InvalidInputError", "AudioReadError", "DimensionMismatchError", "FFTBackendError", "InternalError",
    # functions
    *sorted(_COMPUTE_FUNCTIONS), "compute_stft", "compute_stft_batch", "compute_istft", "compute_istft_batch", "griffin_lim",
    "compute_mfcc", "compute_mfcc_batch", "compute_chromagram", "compute_chromagram_batch",
    "compute_fft", "compute_rfft", "compute_irfft", "compute_power_spectrum", "compute_magnitude_spectrum",
    "fftfreq", "rfftfreq", "fftshift", "ifftshift", "fftshift_1d", "ifftshift_1d",
    "fft2d", "ifft2d", "power_spectrum_2d", "magnitude_spectrum_2d",
    "gaussian_kernel_2d", "convolve_fft", "lowpass_filter", "highpass_filter", "bandpass_filter",
    "detect_edges_fft", "sharpen_fft", "mdct", "imdct",
    "clear_fft_plan_cache", "fft_plan_cache_info",
    "get_num_threads", "set_num_threads", "num_threads", "load", "save",
    "make_hanning", "make_hamming", "make_blackman", "make_rectangular", "make_kaiser", "make_gaussian",
    # DLPack constants
    "KDLCPU", "KDLCUDA", "KDLCUDAHOST", "KDLOPENCL", "KDLVULKAN", "KDLMETAL", "KDLVPI", "KDLROCM",
    "DLPACK_FLAG_BITMASK_READ_ONLY", "DLPACK_FLAG_BITMASK_IS_COPIED",
]
