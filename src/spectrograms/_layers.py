"""Exportable front-end layers: ``Spectrogram``, ``MelSpectrogram``, ``LogMelSpectrogram``, ``MFCC``.

PyTorch ``nn.Module``s that compute, with torch operators only, the very numbers the engine
computes (same framing including the short-signal rule, centre zero padding, the engine's own
window and filterbank coefficients, the same dB floor), so a model trained on engine features can
be deployed on raw audio through ONNX or CoreML.

Two ways to compute the STFT, switchable at any time with :meth:`set_mode`:

``"stft"``
    ``torch.stft``: differentiable, runs wherever torch does (GPU included); exports to the
    ONNX ``STFT`` operator (opset >= 17).
``"dft"``
    1-D convolutions whose kernels are the windowed DFT basis (real and imaginary parts), the
    idea of convmelspec. Three ways to carry the basis:

    * ``dft="store"``: the windowed basis is a buffer stored in the model (fastest, largest file);
    * ``dft="input"``: the basis is the second argument of ``forward`` (small file; the caller
      provides :meth:`dft_basis` at run time);
    * ``dft="on_the_fly"``: the basis is built in the graph from ``arange``/``cos``/``sin``
      (small file, a little work per call).

Precision (:meth:`~_FrontEnd.set_precision`): by default a float32 layer computes its STFT and
``|X|^2`` in float64 and rounds the power to float32 before the filterbank and the dB, so its own
rounding is far below the engine's float32 rounding. In ``"dft"`` mode that float64 DFT is a
matrix product of the frames (``unfold``, an ONNX ``Gather``) with the windowed basis, since
onnxruntime has no float64 ``Conv``. ``precision="float32"`` keeps everything in float32, with
``conv1d`` in ``"dft"`` mode: faster on GPUs without fast float64, and what CoreML (which has no
float64) runs; the layer's float32 DFT then adds its own rounding (up to ~1e-2 dB on
linear-spectrogram cells 80-100 dB below their frame's peak, ~5e-4 dB on log-mel).

The buffers (window, filterbank) are taken from the engine (``plan._engine.window()``,
``plan._engine.filterbank()``), never recomputed in Python.

This module needs PyTorch; ``import spectrograms`` never imports it.
"""

from __future__ import annotations

import math
from typing import Any, Optional, Tuple, Union

try:
    import torch
    import torch.nn.functional as F
    from torch import nn
except ImportError as _exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "the exportable layers need PyTorch, which is not installed: pip install spectrograms[torch]"
    ) from _exc

import numpy as np

from . import _core
from ._errors import DimensionMismatchError, InvalidInputError
from .params import LogParams, MelParams, SpectrogramParams

__all__ = ["Spectrogram", "MelSpectrogram", "LogMelSpectrogram", "MFCC", "dft_basis", "MODES", "DFT_KINDS",
           "PRECISIONS"]

MODES = ("stft", "dft")
DFT_KINDS = ("store", "input", "on_the_fly")
PRECISIONS = ("float64", "float32")
"""Values of a layer's ``precision``: the dtype its STFT and ``|X|^2`` are computed in (see :meth:`set_precision`)."""
QUANTITIES = ("power", "magnitude", "db")

MFCC_LIFTER = 22
"""Cepstral lifter of the MFCC (API.md §5): ``c_k *= 1 + (L/2) sin(pi k / L)`` with L = 22."""

_FLOAT_MOD_MAX_N_FFT = 4096  # k*n < 2**24 and exact float32 remainders up to here (see _basis_in_graph)

MFCC_AMIN = 1e-8
"""The MFCC's dB floor: ``10 log10(max(mel_power, 1e-8))`` (i.e. -80 dB)."""


# --------------------------------------------------------------------------------------------------
# Matrices


def dft_basis(n_fft: int, dtype: Any = torch.float32, device: Any = None) -> torch.Tensor:
    """The (unwindowed) real DFT basis a layer in ``dft="input"`` mode expects as its second input.

    Shape ``(2 * (n_fft // 2 + 1), n_fft)``: rows ``k = 0 .. n_fft//2`` hold ``cos(2 pi k n / n_fft)``,
    the next ``n_fft//2 + 1`` rows hold ``-sin(2 pi k n / n_fft)``. Computed in float64 (with the
    product ``k n`` reduced modulo ``n_fft`` exactly) and rounded once to ``dtype``.
    """
    n_fft = _positive_int("n_fft", n_fft)
    return torch.from_numpy(_dft_basis64(n_fft)).to(dtype=dtype, device=device)


def _dft_basis64(n_fft: int) -> np.ndarray:
    k = np.arange(n_fft // 2 + 1, dtype=np.int64)[:, None]
    n = np.arange(n_fft, dtype=np.int64)[None, :]
    angle = (2.0 * np.pi / n_fft) * ((k * n) % n_fft)
    return np.concatenate([np.cos(angle), -np.sin(angle)], axis=0)


def _dct_matrix(n_mfcc: int, n_mels: int) -> np.ndarray:
    """The unnormalised DCT-II matrix of the MFCC, ``(n_mfcc, n_mels)`` float64.

    ``D[k, n] = cos(pi k (n + 1/2) / n_mels)`` (API.md §5), so ``c = D @ log_mel``.

    The matrix comes from the engine (the one its MFCC plans use, here without the lifter, which
    :func:`_lifter` applies), so layer and engine share their coefficients.
    """
    return np.asarray(_core.mfcc_dct_matrix(n_mfcc, n_mels, "none", 0.0))


def _lifter(n_mfcc: int, lifter: int = MFCC_LIFTER) -> np.ndarray:
    """``1 + (lifter/2) sin(pi k / lifter)`` for k = 0..n_mfcc-1 (c0 is kept: its weight is 1)."""
    k = np.arange(n_mfcc, dtype=np.float64)
    return 1.0 + (lifter / 2.0) * np.sin(np.pi * k / lifter)


# --------------------------------------------------------------------------------------------------
# Argument checks


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if value < 1:
        raise InvalidInputError(f"{name} must be >= 1, got {value}")
    return int(value)


def _torch_dtype(dtype: Any) -> torch.dtype:
    if dtype in (torch.float32, torch.float64):
        return dtype
    name = str(dtype).rsplit(".", 1)[-1] if dtype is not None else "float32"
    aliases = {"float32": torch.float32, "f32": torch.float32, "single": torch.float32,
               "float64": torch.float64, "f64": torch.float64, "double": torch.float64}
    if name in aliases:
        return aliases[name]
    raise TypeError(f"dtype must be torch.float32 or torch.float64 (or their names), got {dtype!r}")


def _check_mode(mode: Any, dft: Any) -> Tuple[str, str]:
    if not isinstance(mode, str) or mode.lower() not in MODES:
        raise ValueError(f"mode must be one of {', '.join(map(repr, MODES))}; got {mode!r}")
    dft_name = dft.lower().replace("-", "_") if isinstance(dft, str) else dft
    if dft_name == "onthefly":
        dft_name = "on_the_fly"
    if dft_name not in DFT_KINDS:
        raise ValueError(f"dft must be one of {', '.join(map(repr, DFT_KINDS))}; got {dft!r}")
    return mode.lower(), dft_name


def _check_precision(precision: Any) -> str:
    name = str(precision).rsplit(".", 1)[-1] if isinstance(precision, torch.dtype) else precision
    if name not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(map(repr, PRECISIONS))} (or the torch dtype); "
                         f"got {precision!r}")
    return name


def _check_quantity(quantity: Any, db: Any) -> str:
    if quantity is None:
        return "db" if db is not None else "power"
    if quantity not in QUANTITIES:
        raise ValueError(f"quantity must be one of {', '.join(map(repr, QUANTITIES))} or None; got {quantity!r}")
    return quantity


def _check_db(db: Any) -> Optional[LogParams]:
    if db is None or isinstance(db, LogParams):
        return db
    raise TypeError(f"db must be a LogParams or None, got {type(db).__name__}")


def _n_mfcc(mfcc_params: Any) -> int:
    if mfcc_params is None:
        return 13
    if isinstance(mfcc_params, (int, np.integer)) and not isinstance(mfcc_params, bool):
        return _positive_int("n_mfcc", mfcc_params)
    if hasattr(mfcc_params, "n_mfcc"):  # MfccParams (on its way from another branch)
        return _positive_int("n_mfcc", mfcc_params.n_mfcc)
    raise TypeError(f"mfcc_params must be an MfccParams, an int (n_mfcc) or None; got {type(mfcc_params).__name__}")


# --------------------------------------------------------------------------------------------------
# The layers


class _FrontEnd(nn.Module):
    """What every layer shares: framing, the two STFT modes, the power stage and the output stage.

    Attributes
    ----------
    precision : {"float64", "float32"}
        The dtype of the STFT and ``|X|^2`` of a float32 layer (a float64 layer computes
        everything in float64); see :meth:`set_precision`.
    allow_tf32 : bool
        False (default): on a CUDA device the float32 ``"dft"`` convolutions
        (``precision="float32"``) run in full float32 even where cuDNN would use TF32 (its
        default for convolutions, which puts log-mel values ~0.2 dB off the engine). Set True to
        trade that precision for speed.
    onnx_stft_float64 : bool
        True (default): with ``precision="float32"``, see :meth:`_stft_in_float64`.
    """

    _kind = "spectrogram"
    window: torch.Tensor
    window64: torch.Tensor
    dft_kernel: Optional[torch.Tensor]

    # ---------------------------------------------------------------- construction

    def __init__(self, plan: Any, *, quantity: str, floor_db: Optional[float], mode: str, dft: str,
                 dtype: Any, n_mfcc: Optional[int] = None, precision: Any = "float64") -> None:
        super().__init__()
        params: SpectrogramParams = plan._params
        stft = params.stft
        self.params = params
        self.mel_params: Optional[MelParams] = plan._filter_params
        self.quantity = quantity
        self.floor_db = floor_db
        self.n_fft = stft.n_fft
        self.hop_size = stft.hop_size
        self.centre = stft.centre
        self.sample_rate = params.sample_rate
        self.pad = self.n_fft // 2 if self.centre else 0
        self.n_fft_bins = self.n_fft // 2 + 1
        dtype = _torch_dtype(dtype)
        precision = _check_precision(precision)

        # The engine's coefficients (float64 copies kept to build the DFT kernels exactly).
        self._window64 = np.asarray(plan._engine.window(), dtype=np.float64).copy()
        if self._window64.shape != (self.n_fft,):
            raise DimensionMismatchError(f"engine window has shape {self._window64.shape}, expected ({self.n_fft},)")
        self.register_buffer("window", torch.from_numpy(self._window64).to(dtype), persistent=False)
        # The engine's float64 window, for float64 compute (kept float64 by _apply).
        self.register_buffer("window64", torch.from_numpy(self._window64.copy()), persistent=False)
        if plan._scale == "mel":
            fb = np.asarray(plan._engine.filterbank(), dtype=np.float64)
            if fb.ndim != 2 or fb.shape[1] != self.n_fft_bins:
                raise DimensionMismatchError(
                    f"engine filterbank has shape {fb.shape}, expected (n_mels, {self.n_fft_bins})")
            self.register_buffer("filterbank", torch.from_numpy(fb.copy()).to(dtype), persistent=False)
        else:
            self.register_buffer("filterbank", None, persistent=False)
        if n_mfcc is not None:
            n_mels = int(self.filterbank.shape[0])
            if n_mfcc > n_mels:
                raise InvalidInputError(f"n_mfcc ({n_mfcc}) must be <= n_mels ({n_mels})")
            dct = _dct_matrix(n_mfcc, n_mels) * _lifter(n_mfcc)[:, None]
            self.register_buffer("dct", torch.from_numpy(dct).to(dtype), persistent=False)
        else:
            self.register_buffer("dct", None, persistent=False)
        self.n_mfcc = n_mfcc
        self.register_buffer("dft_kernel", None, persistent=False)
        self.onnx_stft_float64 = True
        self.allow_tf32 = False
        self._precision = precision
        self.mode = "stft"
        self.dft = "store"
        self.set_mode(mode, dft)

    @staticmethod
    def _plan_for(params: Any, mel_params: Any, db: Optional[LogParams], scale: str, quantity: str) -> Any:
        """A float64 engine plan (only its window and filterbank are used)."""
        from .planner import PLAN_CLASSES

        if not isinstance(params, SpectrogramParams):
            raise TypeError(f"params must be a SpectrogramParams, got {type(params).__name__}")
        cls = PLAN_CLASSES[(scale, quantity)]
        if scale == "linear":
            return cls(params, db, "float64")
        if not isinstance(mel_params, MelParams):
            raise TypeError(f"mel_params must be a MelParams, got {type(mel_params).__name__}")
        return cls(params, mel_params, db, "float64")

    @staticmethod
    def _check_plan(plan: Any, scale: str, what: str) -> None:
        from .planner import _BasePlan

        if not isinstance(plan, _BasePlan) or getattr(plan, "_quantity", None) not in QUANTITIES:
            raise TypeError(f"{what}.from_plan needs a spectrogram plan (from SpectrogramPlanner), "
                            f"got {type(plan).__name__}")
        if plan._scale != scale:
            raise ValueError(f"{what}.from_plan needs a {scale}-scale plan, got a {plan._scale}-scale "
                             f"{type(plan).__name__}")

    # ---------------------------------------------------------------- modes

    def set_mode(self, mode: str = "stft", dft: Optional[str] = None) -> "_FrontEnd":
        """Switch how the STFT is computed; returns the layer.

        Parameters
        ----------
        mode : {"stft", "dft"}
            ``"stft"``: ``torch.stft`` (differentiable, GPU, ONNX ``STFT``); ``"dft"``: the frames
            times the windowed DFT basis (``unfold`` + ``matmul`` in float64 with the default
            precision, 1-D convolutions with ``precision="float32"``; see :meth:`set_precision`).
        dft : {"store", "input", "on_the_fly"}, optional
            How the basis is carried in ``"dft"`` mode (default: keep the current choice,
            initially ``"store"``).
        """
        mode, dft = _check_mode(mode, self.dft if dft is None else dft)
        self.mode, self.dft = mode, dft
        self._build_kernel()
        return self

    def _build_kernel(self) -> None:
        """(Re)build ``dft_kernel`` for the current mode, precision, dtype and device.

        The windowed basis formed in float64 (the engine's float64 window) and rounded once to
        the compute dtype.
        """
        if self.mode == "dft" and self.dft == "store":
            kernel = (_dft_basis64(self.n_fft) * self._window64[None, :])[:, None, :]
            self.dft_kernel = torch.from_numpy(kernel).to(dtype=self.compute_dtype, device=self.window.device)
        else:
            self.dft_kernel = None

    def _apply(self, fn: Any, *args: Any, **kwargs: Any) -> "_FrontEnd":
        # .float(), .double(), .to(...) convert every floating buffer; the float64 window and a
        # float64 kernel (precision="float64") must stay float64 on the layer's device.
        out = super()._apply(fn, *args, **kwargs)
        if self.window64.dtype != torch.float64 or self.window64.device != self.window.device:
            self.window64 = torch.from_numpy(self._window64.copy()).to(self.window.device)
        kernel = self.dft_kernel
        if kernel is not None and (kernel.dtype != self.compute_dtype or kernel.device != self.window.device):
            self._build_kernel()
        return out

    def _compute_window(self) -> torch.Tensor:
        """The window in the compute dtype: the engine's float64 window for float64 compute."""
        return self.window64 if self.compute_dtype == torch.float64 else self.window

    # ---------------------------------------------------------------- precision

    @property
    def precision(self) -> str:
        """``"float64"`` or ``"float32"``: see :meth:`set_precision`."""
        return self._precision

    @precision.setter
    def precision(self, value: Any) -> None:
        self.set_precision(value)

    def set_precision(self, precision: Any = "float64") -> "_FrontEnd":
        """Choose the dtype of the STFT and ``|X|^2`` of a float32 layer; returns the layer.

        Parameters
        ----------
        precision : {"float64", "float32"}
            ``"float64"`` (default): frames, DFT and power in float64, the power rounded to the
            layer's dtype before the filterbank and the dB. The layer's own rounding is then
            negligible next to the engine's float32 rounding, in every mode, in PyTorch and in
            onnxruntime. In ``"dft"`` mode the float64 DFT is ``unfold`` + ``matmul`` (ONNX
            ``Gather`` + ``MatMul``; onnxruntime has no float64 ``Conv``), and ``dft_kernel`` and
            :meth:`dft_basis` are float64.
            ``"float32"``: all in float32, ``conv1d`` in ``"dft"`` mode. Faster where float64 is
            slow (most GPUs), and what :func:`spectrograms.export.export_coreml` converts (CoreML
            has no float64). Its float32 DFT then adds its own rounding: power, magnitude and
            mel values stay within ~2e-6 of the largest, log-mel within ~5e-4 dB of the
            engine, but linear-spectrogram dB cells 80-100 dB below their frame's peak can be
            ~1e-2 dB off.

        A float64 layer (``dtype=torch.float64``) computes in float64 whatever this says.
        """
        self._precision = _check_precision(precision)
        self._build_kernel()
        return self

    @property
    def compute_dtype(self) -> torch.dtype:
        """The dtype of the STFT and ``|X|^2``: float64 for a float64 layer or ``precision="float64"``."""
        return torch.float64 if self._precision == "float64" else self.window.dtype

    @property
    def needs_basis(self) -> bool:
        """True in ``dft="input"`` mode: ``forward`` then takes the DFT basis as its second argument."""
        return self.mode == "dft" and self.dft == "input"

    def dft_basis(self) -> torch.Tensor:
        """The basis to pass to ``forward`` in ``dft="input"`` mode (see :func:`dft_basis`).

        In :attr:`compute_dtype`: float64 with ``precision="float64"`` (the default), so an
        exported file's ``dft_basis`` input is then float64.
        """
        return dft_basis(self.n_fft, dtype=self.compute_dtype, device=self.window.device)

    # ---------------------------------------------------------------- shapes

    @property
    def n_bins(self) -> int:
        """Rows of the output."""
        if self.dct is not None:
            return int(self.dct.shape[0])
        if self.filterbank is not None:
            return int(self.filterbank.shape[0])
        return self.n_fft_bins

    def n_frames(self, length: int) -> int:
        """Frames for a signal of ``length`` samples: ``(L + 2 pad - n_fft)//hop + 1``, at least 1."""
        span = int(length) + 2 * self.pad - self.n_fft
        return span // self.hop_size + 1 if span >= 0 else 1

    def output_shape(self, length: int) -> Tuple[int, int]:
        """``(n_bins, n_frames)`` for one signal of ``length`` samples (as ``plan.output_shape``)."""
        return (self.n_bins, self.n_frames(length))

    def engine_plan(self, dtype: Any = "float32") -> Any:
        """The engine plan whose ``compute`` this layer reproduces (for MFCC: its mel power stage)."""
        from .planner import PLAN_CLASSES

        scale = "linear" if self.mel_params is None else "mel"
        quantity = "power" if self.dct is not None else self.quantity
        db = LogParams(self.floor_db) if quantity == "db" else None
        cls = PLAN_CLASSES[(scale, quantity)]
        if scale == "linear":
            return cls(self.params, db, dtype)
        return cls(self.params, self.mel_params, db, dtype)

    # ---------------------------------------------------------------- forward

    def _check_input(self, x: Any) -> None:
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"expected a torch.Tensor waveform of shape (B, L) or (L,), got {type(x).__name__}")
        if not x.is_floating_point():
            hint = (" Integer PCM must be scaled explicitly, e.g. x.float() / 32768 for int16."
                    if not x.is_complex() and x.dtype != torch.bool else "")
            raise TypeError(f"expected a floating-point waveform (float32 or float64), got dtype {x.dtype}.{hint}")
        if x.dim() not in (1, 2):
            raise ValueError(f"expected a waveform of shape (B, L) or (L,), got a {x.dim()}-D tensor of shape "
                             f"{tuple(x.shape)}; mix channels down or fold them into the batch first")
        if x.device != self.window.device:
            raise ValueError(f"expected the waveform on {self.window.device} (where the layer is), got it on {x.device}")
        if x.shape[-1] == 0:
            raise ValueError(f"expected at least one sample, got a waveform of shape {tuple(x.shape)}")

    def _check_basis(self, basis: Optional[torch.Tensor]) -> torch.Tensor:
        expected = (2 * self.n_fft_bins, self.n_fft)
        if basis is None:
            raise ValueError(
                f"this layer is in dft='input' mode: pass the DFT basis of shape {expected} as the second "
                "argument of forward (layer.dft_basis() gives it)")
        if not isinstance(basis, torch.Tensor):
            raise TypeError(f"expected the DFT basis as a torch.Tensor of shape {expected}, got {type(basis).__name__}")
        if not basis.is_floating_point():
            raise TypeError(f"expected a floating-point DFT basis of shape {expected}, got dtype {basis.dtype}")
        if tuple(basis.shape) != expected:
            raise DimensionMismatchError(
                f"expected a DFT basis of shape {expected} (2 * (n_fft//2 + 1) rows: cos then -sin; n_fft "
                f"columns) for n_fft={self.n_fft}, got shape {tuple(basis.shape)}")
        return basis.to(self.compute_dtype)

    def _pad(self, x: torch.Tensor) -> torch.Tensor:
        """Centre zero padding; plus, where a signal can be shorter than one frame, zeros up to n_fft."""
        right = self.pad
        if 2 * self.pad + 1 < self.n_fft:  # only without centring can the padded signal be too short
            right = right + torch.sym_max(0, self.n_fft - 2 * self.pad - x.shape[-1])
        if self.pad == 0 and isinstance(right, int) and right == 0:
            return x
        return F.pad(x, (self.pad, right))

    def _power(self, x: torch.Tensor, basis: Optional[torch.Tensor]) -> torch.Tensor:
        """|X|^2 of the padded batch ``x`` (B, P): (B, n_fft//2+1, n_frames), in the layer's dtype."""
        wide = self.compute_dtype == torch.float64
        if self.mode == "stft":
            if wide:
                return self._stft_power(x.double(), self.window64).to(x.dtype)
            if self._stft_in_float64(x):
                return self._stft_power(x.double(), self.window.double()).to(x.dtype)
            return self._stft_power(x, self.window)
        if self.dft == "store":
            kernel = self.dft_kernel
        elif self.dft == "input":
            kernel = (basis * self._compute_window()).unsqueeze(1)
        else:
            kernel = self._basis_in_graph(x).unsqueeze(1)
        if wide:
            # float64: frames (B, T, n_fft) @ kernel^T (n_fft, 2 bins), i.e. ONNX Gather + MatMul
            # (onnxruntime has no float64 Conv); the same numbers as a float64 conv1d.
            frames = x.to(torch.float64).unfold(-1, self.n_fft, self.hop_size)
            out = torch.matmul(frames, kernel.squeeze(1).transpose(0, 1))
            re, im = out[..., :self.n_fft_bins], out[..., self.n_fft_bins:]
            return (re * re + im * im).transpose(1, 2).to(x.dtype)
        if x.is_cuda and not self.allow_tf32 and torch.backends.cudnn.allow_tf32:
            # cuDNN computes float32 convolutions in TF32 by default (10-bit mantissa): 0.2 dB off.
            torch.backends.cudnn.allow_tf32 = False
            try:
                out = F.conv1d(x.unsqueeze(1), kernel, stride=self.hop_size)
            finally:
                torch.backends.cudnn.allow_tf32 = True
        else:
            out = F.conv1d(x.unsqueeze(1), kernel, stride=self.hop_size)
        re, im = out[:, :self.n_fft_bins], out[:, self.n_fft_bins:]
        return re * re + im * im

    def _stft_power(self, x: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
        spec = torch.stft(x, self.n_fft, hop_length=self.hop_size, win_length=self.n_fft, window=window,
                          center=False, normalized=False, onesided=True, return_complex=True)
        return spec.real.square() + spec.imag.square()

    def _stft_in_float64(self, x: torch.Tensor) -> bool:
        """Whether the ONNX graph being exported computes the STFT in float64 with ``precision="float32"``.

        (With ``precision="float64"``, the default, the STFT is float64 in every case.)
        onnxruntime's float32 ``STFT`` kernel evaluates a plain DFT with single-precision twiddle
        factors when n_fft is not a power of two (relative error ~2e-5 at n_fft = 400, twenty
        times torch's or the engine's); in float64 it is exact to ~1e-14. So, unless
        ``onnx_stft_float64`` is set to False, an exported float32 layer with such an n_fft casts
        the padded signal to float64 around the ``STFT`` node and the power back to float32.
        Eager execution is never affected.
        """
        return (self.onnx_stft_float64 and x.dtype == torch.float32 and self.n_fft & (self.n_fft - 1) != 0
                and torch.onnx.is_in_onnx_export())

    def _basis_in_graph(self, x: torch.Tensor) -> torch.Tensor:
        """The windowed basis from arange/cos/sin, with ``k n`` reduced modulo n_fft exactly.

        The aranges start at ``0 * x.shape[-1]``: zero, but a value known only at run time to a
        traced graph, so that converters (CoreML's) cannot fold the basis into a stored constant,
        which would defeat the purpose of this mode. Up to n_fft = 4096 the reduction runs in
        floating point (every ``k n`` < 2^24 and its remainder are exact in float32); beyond, in int64.
        In float64 compute (``precision="float64"``) the whole basis is built in float64 (``k n`` is
        exact there for any practical n_fft).
        """
        device, dtype = self.window.device, self.compute_dtype
        idx_dtype = dtype if self.n_fft <= _FLOAT_MOD_MAX_N_FFT or dtype == torch.float64 else torch.int64
        start = x.shape[-1] * 0
        k = torch.arange(start, start + self.n_fft_bins, device=device).to(idx_dtype).unsqueeze(1)
        n = torch.arange(start, start + self.n_fft, device=device).to(idx_dtype).unsqueeze(0)
        # The step as a tensor of the compute dtype: the ONNX exporter turns a Python scalar operand
        # into a float32 constant, which would put a float64 basis ~3e-7 off.
        step = torch.tensor(2.0 * math.pi / self.n_fft, dtype=dtype, device=device)
        angle = torch.remainder(k * n, self.n_fft).to(dtype) * step
        return torch.cat([torch.cos(angle), -torch.sin(angle)], dim=0) * self._compute_window()

    def _output(self, power: torch.Tensor) -> torch.Tensor:
        if self.filterbank is not None:
            power = torch.matmul(self.filterbank, power)
        if self.dct is not None:
            log = 10.0 * torch.log10(torch.clamp(power, min=MFCC_AMIN))
            return torch.matmul(self.dct, log)
        if self.quantity == "power":
            return power
        if self.quantity == "magnitude":
            return torch.sqrt(power)
        assert self.floor_db is not None
        return 10.0 * torch.log10(torch.clamp(power, min=10.0 ** (self.floor_db / 10.0)))

    def forward(self, x: torch.Tensor, dft_basis: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Features of a waveform batch.

        Parameters
        ----------
        x : torch.Tensor
            ``(B, L)`` or ``(L,)`` float32/float64 samples (converted to the layer's dtype).
        dft_basis : torch.Tensor, optional
            Only in ``dft="input"`` mode, where it is required: :meth:`dft_basis`.

        Returns
        -------
        torch.Tensor
            ``(B, n_bins, n_frames)``, or ``(n_bins, n_frames)`` for 1-D input.
        """
        self._check_input(x)
        if self.needs_basis:
            basis = self._check_basis(dft_basis)
        elif dft_basis is not None:
            raise ValueError(f"a DFT basis is only taken in dft='input' mode; this layer is in mode={self.mode!r}"
                             + (f", dft={self.dft!r}" if self.mode == "dft" else ""))
        else:
            basis = None
        one = x.dim() == 1
        if one:
            x = x.unsqueeze(0)
        x = x.to(self.window.dtype)
        out = self._output(self._power(self._pad(x), basis))
        return out.squeeze(0) if one else out

    def extra_repr(self) -> str:
        parts = [f"n_fft={self.n_fft}", f"hop_size={self.hop_size}", f"sample_rate={self.sample_rate:g}"]
        if not self.centre:
            parts.append("centre=False")
        if self.mel_params is not None:
            parts.append(f"n_mels={self.mel_params.n_mels}")
        if self.n_mfcc is not None:
            parts.append(f"n_mfcc={self.n_mfcc}")
        else:
            parts.append(f"quantity={self.quantity!r}")
            if self.quantity == "db":
                parts.append(f"floor_db={self.floor_db:g}")
        parts.append(f"mode={self.mode!r}")
        if self.mode == "dft":
            parts.append(f"dft={self.dft!r}")
        parts.append(f"dtype={self.window.dtype}")
        if self.window.dtype != torch.float64:
            parts.append(f"precision={self._precision!r}")
        return ", ".join(parts)


class Spectrogram(_FrontEnd):
    """Linear-frequency power, magnitude or dB spectrogram, equal to the engine's linear plans.

    Parameters
    ----------
    params : SpectrogramParams
    db : LogParams, optional
        The dB floor; giving it makes the default quantity ``"db"``.
    quantity : {"power", "magnitude", "db"}, optional
        Default: ``"db"`` when ``db`` is given, else ``"power"``.
    mode, dft : str
        See :meth:`set_mode` (default ``"stft"``; ``dft`` is used in ``"dft"`` mode).
    dtype : torch.dtype
        Buffers and output dtype (default float32).
    precision : {"float64", "float32"}
        The dtype of the STFT and ``|X|^2`` of a float32 layer (default ``"float64"``: the power is
        computed in float64 and rounded to float32); see :meth:`set_precision`.
    """

    _kind = "spectrogram"

    def __init__(self, params: SpectrogramParams, db: Optional[LogParams] = None, *, quantity: Optional[str] = None,
                 mode: str = "stft", dft: str = "store", dtype: Any = torch.float32,
                 precision: Any = "float64") -> None:
        db = _check_db(db)
        quantity = _check_quantity(quantity, db)
        plan = self._plan_for(params, None, db, "linear", quantity)
        super().__init__(plan, quantity=quantity, floor_db=_floor(plan), mode=mode, dft=dft, dtype=dtype,
                         precision=precision)

    @classmethod
    def from_plan(cls, plan: Any, *, mode: str = "stft", dft: str = "store", dtype: Any = None,
                  precision: Any = "float64") -> "Spectrogram":
        """The layer equal to a linear ``plan`` (its quantity, floor, window; dtype: the plan's)."""
        cls._check_plan(plan, "linear", cls.__name__)
        self = cls.__new__(cls)
        _FrontEnd.__init__(self, plan, quantity=plan._quantity, floor_db=_floor(plan), mode=mode, dft=dft,
                           dtype=plan._dtype.name if dtype is None else dtype, precision=precision)
        return self


class MelSpectrogram(_FrontEnd):
    """Mel power, magnitude or dB spectrogram, equal to the engine's mel plans.

    Parameters
    ----------
    params : SpectrogramParams
    mel_params : MelParams
    db : LogParams, optional
        The dB floor; giving it makes the default quantity ``"db"``.
    quantity : {"power", "magnitude", "db"}, optional
        Default: ``"db"`` when ``db`` is given, else ``"power"``. Magnitude is
        ``sqrt(filterbank @ power)`` as in the engine.
    mode, dft, dtype, precision
        As for :class:`Spectrogram`.
    """

    _kind = "mel"

    def __init__(self, params: SpectrogramParams, mel_params: MelParams, db: Optional[LogParams] = None, *,
                 quantity: Optional[str] = None, mode: str = "stft", dft: str = "store",
                 dtype: Any = torch.float32, precision: Any = "float64") -> None:
        db = _check_db(db)
        quantity = _check_quantity(quantity, db)
        plan = self._plan_for(params, mel_params, db, "mel", quantity)
        super().__init__(plan, quantity=quantity, floor_db=_floor(plan), mode=mode, dft=dft, dtype=dtype,
                         precision=precision)

    @classmethod
    def from_plan(cls, plan: Any, *, mode: str = "stft", dft: str = "store", dtype: Any = None,
                  precision: Any = "float64") -> "MelSpectrogram":
        """The layer equal to a mel ``plan`` (its quantity, floor, window, filterbank; dtype: the plan's)."""
        cls._check_plan(plan, "mel", cls.__name__)
        quantity = cls._plan_quantity(plan)
        floor = None
        if quantity == "db":  # a dB plan's floor; LogMelSpectrogram of a power plan: the default -80 dB
            floor = _floor(plan) if plan._db_params is not None else LogParams().floor_db
        self = cls.__new__(cls)
        _FrontEnd.__init__(self, plan, quantity=quantity, floor_db=floor, mode=mode, dft=dft,
                           dtype=plan._dtype.name if dtype is None else dtype, precision=precision)
        return self

    @staticmethod
    def _plan_quantity(plan: Any) -> str:
        return plan._quantity


class LogMelSpectrogram(MelSpectrogram):
    """Log-mel spectrogram in dB, ``10 log10(max(mel_power, 10**(floor_db/10)))``: the engine's mel dB plan.

    Parameters
    ----------
    params : SpectrogramParams
    mel_params : MelParams
    db : LogParams, optional
        The floor (default ``LogParams()``, -80 dB).
    mode, dft, dtype, precision
        As for :class:`Spectrogram`.
    """

    _kind = "logmel"

    def __init__(self, params: SpectrogramParams, mel_params: MelParams, db: Optional[LogParams] = None, *,
                 mode: str = "stft", dft: str = "store", dtype: Any = torch.float32,
                 precision: Any = "float64") -> None:
        super().__init__(params, mel_params, LogParams() if db is None else db, quantity="db", mode=mode, dft=dft,
                         dtype=dtype, precision=precision)

    @staticmethod
    def _plan_quantity(plan: Any) -> str:
        return "db"  # a mel power or magnitude plan gives its filterbank; the floor is then -80 dB


class MFCC(_FrontEnd):
    """MFCCs as API.md §5 defines them.

    mel power → ``10 log10(max(x, 1e-8))`` → unnormalised DCT-II ``c_k = Σ_n x_n cos(πk(n+½)/N)`` →
    the first ``n_mfcc`` → lifter 22 (``c_k *= 1 + 11 sin(πk/22)``), c0 kept. The DCT and the
    lifter are one ``(n_mfcc, n_mels)`` buffer, ``dct``.

    Parameters
    ----------
    params : SpectrogramParams
    n_mels : int or MelParams
        An int gives the standard filterbank (norm none, 0 Hz to sr/2); a :class:`MelParams` is
        used as given.
    mfcc_params : MfccParams or int, optional
        ``n_mfcc`` (default 13), ``<= n_mels``.
    mode, dft, dtype, precision
        As for :class:`Spectrogram`.
    """

    _kind = "mfcc"

    def __init__(self, params: SpectrogramParams, n_mels: Union[int, MelParams] = 128, mfcc_params: Any = None, *,
                 mode: str = "stft", dft: str = "store", dtype: Any = torch.float32,
                 precision: Any = "float64") -> None:
        mel = n_mels if isinstance(n_mels, MelParams) else MelParams(_positive_int("n_mels", n_mels))
        plan = self._plan_for(params, mel, None, "mel", "power")
        super().__init__(plan, quantity="db", floor_db=-80.0, mode=mode, dft=dft, dtype=dtype,
                         n_mfcc=_n_mfcc(mfcc_params), precision=precision)

    @classmethod
    def from_plan(cls, plan: Any, mfcc_params: Any = None, *, mode: str = "stft", dft: str = "store",
                  dtype: Any = None, precision: Any = "float64") -> "MFCC":
        """MFCCs on the filterbank of a mel ``plan`` (any quantity; dtype: the plan's)."""
        cls._check_plan(plan, "mel", cls.__name__)
        self = cls.__new__(cls)
        _FrontEnd.__init__(self, plan, quantity="db", floor_db=-80.0, mode=mode, dft=dft,
                           dtype=plan._dtype.name if dtype is None else dtype, n_mfcc=_n_mfcc(mfcc_params),
                           precision=precision)
        return self


def _floor(plan: Any) -> Optional[float]:
    return plan._db_params.floor_db if plan._db_params is not None else None
