"""Export the front-end layers (or models built on them) to ONNX and CoreML.

``export_onnx(layer, "mel.onnx")`` writes one self-contained ``.onnx`` file with input
``audio`` of shape ``(batch, length)`` (both dynamic by default), output ``features`` of shape
``(batch, n_bins, n_frames)``, and, for a layer in ``dft="input"`` mode, a second input
``dft_basis`` (pass ``layer.dft_basis().numpy()``). ``export_coreml(layer, "mel.mlpackage")``
writes a CoreML ML program with the same names.

A float32 layer computes its STFT and ``|X|^2`` in float64 by default (``precision="float64"``,
see ``_FrontEnd.set_precision``), and so does the exported ONNX graph (``Gather`` + ``MatMul`` in
``"dft"`` mode, a float64 ``STFT`` node in ``"stft"`` mode); in ``dft="input"`` mode its
``dft_basis`` input is then float64. CoreML has no float64: ``export_coreml`` converts the layer's
``precision="float32"`` computation (recorded as ``spectrograms.precision`` in the metadata).

``layer`` may also be a whole model that contains exactly one front-end layer (for example
``nn.Sequential(LogMelSpectrogram(...), classifier)``): the example input and the metadata come
from that layer.

Needs ``torch``; ONNX export needs ``onnx`` and ``onnxscript`` (``pip install spectrograms[onnx]``,
which also brings ``onnxruntime`` to run the file); CoreML export needs ``coremltools``
(``pip install spectrograms[coreml]``).
"""

from __future__ import annotations

import json
import os
import pathlib
import warnings
from typing import Any, Dict, List, Optional, Tuple, Union

import torch
from torch import nn

from ._layers import _FrontEnd

__all__ = ["export_onnx", "export_coreml", "onnx_metadata", "front_end_of", "ONNX_OPSET"]

ONNX_OPSET = 18
"""The opset the exporter writes by default (PyTorch's dynamo exporter emits opset 18 or newer)."""

PathLike = Union[str, "os.PathLike[str]"]


def front_end_of(model: nn.Module) -> _FrontEnd:
    """The front-end layer of ``model``: the model itself, or its only front-end submodule."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"expected a torch.nn.Module (a spectrograms layer or a model containing one), "
                        f"got {type(model).__name__}")
    if isinstance(model, _FrontEnd):
        return model
    found = [m for m in model.modules() if isinstance(m, _FrontEnd)]
    if len(found) != 1:
        raise ValueError(
            f"expected a spectrograms front-end layer or a model containing exactly one, got a {type(model).__name__} "
            f"containing {len(found)}")
    return found[0]


def _example(front: _FrontEnd, model: nn.Module, batch_size: Optional[int], length: Optional[int],
             dynamic_batch: bool) -> Tuple[torch.Tensor, ...]:
    if front.needs_basis and model is not front:
        raise ValueError(
            "the front-end layer inside this model is in dft='input' mode, whose forward takes the DFT basis as a "
            "second argument; export the layer alone, or switch it to dft='store' or 'on_the_fly'")
    if batch_size is None:
        batch_size = 2 if dynamic_batch else 1  # torch.export specialises example sizes 0 and 1
    if length is None:
        length = max(int(round(front.sample_rate)), 2 * front.n_fft + 1)  # one second of audio
    for name, value in (("batch_size", batch_size), ("length", length)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if dynamic_batch and batch_size < 2:
        raise ValueError("with dynamic_batch=True the example batch_size must be >= 2 (torch.export "
                         f"specialises size-1 dimensions), got {batch_size}")
    x = torch.zeros(batch_size, length, dtype=front.window.dtype, device=front.window.device)
    x.normal_(generator=torch.Generator(device=x.device).manual_seed(0))
    return (x, front.dft_basis()) if front.needs_basis else (x,)


def onnx_metadata(front: _FrontEnd) -> Dict[str, str]:
    """The ``metadata_props`` written into exported files: how to feed the model and what it computes."""
    from . import __version__

    meta: Dict[str, Any] = {
        "kind": front._kind, "n_fft": front.n_fft, "hop_size": front.hop_size, "centre": front.centre,
        "sample_rate": front.sample_rate, "window": repr(front.params.stft.window).replace("WindowType.", ""),
        "n_bins": front.n_bins, "quantity": "mfcc" if front.n_mfcc is not None else front.quantity,
        "mode": front.mode, "dft": front.dft if front.mode == "dft" else "",
        "precision": str(front.compute_dtype).rsplit(".", 1)[-1],
        "input": "audio: (batch, length) float32 samples",
        "output": "features: (batch, n_bins, n_frames); n_frames = (length + 2*pad - n_fft)//hop_size + 1, at least 1",
    }
    if front.mel_params is not None:
        mp = front.mel_params
        meta.update(n_mels=mp.n_mels, f_min=mp.f_min, f_max=mp.resolved_f_max(front.sample_rate),
                    mel_norm=mp.norm.value, htk=mp.htk)
    if front.quantity == "db" and front.n_mfcc is None:
        meta["floor_db"] = front.floor_db
    if front.n_mfcc is not None:
        meta["n_mfcc"] = front.n_mfcc
    if front.needs_basis:
        basis_dtype = str(front.compute_dtype).rsplit(".", 1)[-1]
        meta["dft_basis"] = (f"second input: ({2 * front.n_fft_bins}, {front.n_fft}) {basis_dtype}; rows cos(2 pi k n/N) "
                             f"for k = 0..N/2, then -sin(2 pi k n/N); spectrograms._layers.dft_basis(n_fft, "
                             f"torch.{basis_dtype})")
    out = {f"spectrograms.{k}": (json.dumps(v) if isinstance(v, bool) else str(v)) for k, v in meta.items()}
    out["spectrograms.version"] = __version__
    return out


def _import(name: str, extra: str) -> Any:
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise ImportError(f"this export needs {name.split('.')[0]}, which is not installed: "
                          f"pip install spectrograms[{extra}]") from exc


class _quiet_loggers:
    """Raises the level of the exporter's loggers (notices about torchvision ops and the like) to ERROR."""

    def __init__(self, *names: str) -> None:
        import logging

        self.loggers = [logging.getLogger(n) for n in names]
        self.levels = [lg.level for lg in self.loggers]

    def __enter__(self) -> None:
        import logging

        for lg in self.loggers:
            lg.setLevel(logging.ERROR)

    def __exit__(self, *exc: Any) -> None:
        for lg, level in zip(self.loggers, self.levels):
            lg.setLevel(level)


class _Precision:
    """Sets a front end's precision for the duration of a conversion, then puts it back."""

    def __init__(self, front: _FrontEnd, precision: str) -> None:
        self.front, self.precision, self.saved = front, precision, front.precision

    def __enter__(self) -> None:
        self.front.set_precision(self.precision)

    def __exit__(self, *exc: Any) -> None:
        self.front.set_precision(self.saved)


class _Restore:
    """Puts a module back in training mode after export if it was in it."""

    def __init__(self, model: nn.Module) -> None:
        self.model, self.training = model, model.training

    def __enter__(self) -> None:
        self.model.eval()

    def __exit__(self, *exc: Any) -> None:
        self.model.train(self.training)


def export_onnx(layer: nn.Module, path: PathLike, *, dynamic_batch: bool = True, dynamic_length: bool = True,
                opset: Optional[int] = None, batch_size: Optional[int] = None, length: Optional[int] = None,
                check: bool = True) -> pathlib.Path:
    """Export a layer (or a model containing one) to a single ``.onnx`` file.

    Parameters
    ----------
    layer : torch.nn.Module
        A ``Spectrogram``/``MelSpectrogram``/``LogMelSpectrogram``/``MFCC`` in any mode, or a
        model containing exactly one of them (not in ``dft="input"`` mode). Exported in eval mode.
    path : str or os.PathLike
        The file to write (weights inside it, no external data file).
    dynamic_batch, dynamic_length : bool
        Leave the batch size / the number of samples free in the ONNX graph (default). A fixed
        dimension takes the size of the example: ``batch_size`` (default 1) and ``length``
        (default one second at the layer's sample rate).
    opset : int, optional
        ONNX opset (default :data:`ONNX_OPSET` = 18; PyTorch's exporter does not write older ones).
    batch_size, length : int, optional
        The example input's shape (defaults: 2 with a dynamic batch, else 1; one second).
    check : bool
        Run ``onnx.checker.check_model`` on the written file.

    Returns
    -------
    pathlib.Path
        ``path``. Inputs ``audio`` (and ``dft_basis`` in input mode), output ``features``; the
        layer's settings are in the model's ``metadata_props`` (keys ``spectrograms.*``).

    Notes
    -----
    The graph computes what the layer computes: with ``precision="float64"`` (the default) the
    STFT and ``|X|^2`` in float64 (``"stft"`` mode: a float64 ``STFT`` node; ``"dft"`` modes:
    ``Gather`` framing + float64 ``MatMul``, as onnxruntime has no float64 ``Conv``; in
    ``dft="input"`` mode the ``dft_basis`` input is float64), then float32. With
    ``precision="float32"``: ``Conv`` in ``"dft"`` mode, and the ONNX ``STFT`` operator in
    ``"stft"`` mode, run in float64 for an n_fft that is not a power of two (see
    ``_FrontEnd._stft_in_float64``). In ``dft="on_the_fly"`` mode constant folding is limited so
    that the DFT basis is built at run time, not stored.
    """
    onnx = _import("onnx", "onnx")
    optimizer = _import("onnxscript.optimizer", "onnx")
    front = front_end_of(layer)
    opset = ONNX_OPSET if opset is None else opset
    if isinstance(opset, bool) or not isinstance(opset, int) or opset < ONNX_OPSET:
        raise ValueError(f"opset must be an integer >= {ONNX_OPSET} (the lowest PyTorch's ONNX exporter writes), "
                         f"got {opset!r}")
    path = pathlib.Path(path)
    with _Restore(layer):
        args = _example(front, layer, batch_size, length, dynamic_batch)
        dims: Dict[int, Any] = {}
        if dynamic_batch:
            dims[0] = torch.export.Dim("batch", min=1)
        if dynamic_length:
            dims[1] = torch.export.Dim("length", min=1)
        dynamic_shapes = (dims or None,) + ((None,) if len(args) == 2 else ())
        input_names = ["audio", "dft_basis"][:len(args)]
        with warnings.catch_warnings(), _quiet_loggers("torch.onnx", "torch.export", "torch._export"):
            warnings.simplefilter("ignore")  # the exporter's FutureWarnings and torchvision notices
            program = torch.onnx.export(
                layer, args, None, dynamo=True, dynamic_shapes=dynamic_shapes if (dims or len(args) == 2) else None,
                input_names=input_names, output_names=["features"], opset_version=opset, optimize=False,
                verbose=False,
            )
        # The exporter's optimisation, with a cap on folded constants in on_the_fly mode (else the
        # optimizer would store the very basis this mode is meant to build at run time).
        limit: Dict[str, int] = {}
        if front.mode == "dft" and front.dft == "on_the_fly":
            limit["output_size_limit"] = front.n_fft_bins * front.n_fft // 2
        optimizer.optimize_ir(program.model, **limit)
        program.model.metadata_props.update(onnx_metadata(front))
        path.parent.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            program.save(str(path), external_data=False)
    if check:
        onnx.checker.check_model(str(path))
    return path


def export_coreml(layer: nn.Module, path: PathLike, *, dynamic_batch: bool = True, dynamic_length: bool = True,
                  batch_size: Optional[int] = None, length: Optional[int] = None, max_batch: int = 256,
                  max_seconds: float = 600.0, compute_precision: str = "float32",
                  minimum_deployment_target: Any = None) -> pathlib.Path:
    """Convert a layer (or a model containing one) to a CoreML ML program and save it (``.mlpackage``).

    Parameters
    ----------
    layer : torch.nn.Module
        As for :func:`export_onnx`; traced with ``torch.jit.trace``, converted by coremltools.
    path : str or os.PathLike
        Must end in ``.mlpackage``.
    dynamic_batch, dynamic_length : bool
        Flexible dimensions (``ct.RangeDim``) for the batch and the samples.
    batch_size, length : int, optional
        The example (and default) shape: 1 and one second.
    max_batch, max_seconds : int, float
        Upper bounds of the flexible dimensions (an ML program needs finite ones): 256 clips and
        ten minutes of audio by default.
    compute_precision : {"float32", "float16"}
        ``"float32"`` (default) keeps the numbers equal to the engine's; float16 would not
        (and breaks ``dft="on_the_fly"``, which needs exact integers up to n_fft^2/2).
    minimum_deployment_target : coremltools.target, optional
        Default: ``coremltools.target.iOS16`` (macOS 13).

    Returns
    -------
    pathlib.Path
        ``path``. Inputs ``audio`` (and ``dft_basis``), output ``features``; settings in
        ``user_defined_metadata``. Running the model needs macOS (CoreML); conversion and saving
        work elsewhere too.

    Notes
    -----
    CoreML has no float64, so the layer is converted with ``precision="float32"`` (float32
    ``conv1d``/STFT; the layer's own setting is restored afterwards, and the metadata key
    ``spectrograms.precision`` says ``float32``; the float64 path frames with ``unfold``, which
    coremltools does not convert). Its output then carries the float32 DFT's own rounding: ~5e-4
    dB on log-mel, up to ~1e-2 dB on linear-spectrogram dB cells 80-100 dB below their frame's
    peak.

    With ``centre=False`` the short-signal padding is fixed at trace time, so a flexible length
    must then stay >= n_fft.
    """
    ct = _import("coremltools", "coreml")
    import numpy as np

    front = front_end_of(layer)
    path = pathlib.Path(path)
    if path.suffix != ".mlpackage":
        raise ValueError(f"a CoreML ML program is saved as a .mlpackage folder; got path {str(path)!r}")
    precision = {"float32": ct.precision.FLOAT32, "float16": ct.precision.FLOAT16}.get(str(compute_precision))
    if precision is None:
        raise ValueError(f"compute_precision must be 'float32' or 'float16', got {compute_precision!r}")
    if front.window.dtype != torch.float32:
        raise TypeError(f"CoreML runs in float32: convert the layer with .float() first (it is {front.window.dtype})")
    with _Restore(layer), _Precision(front, "float32"):
        args = _example(front, layer, 1 if batch_size is None else batch_size,
                        length, dynamic_batch=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # TracerWarnings about shape arithmetic (intended)
            traced = torch.jit.trace(layer, args, check_trace=False)
        x = args[0]
        max_length = max(int(x.shape[1]), int(round(max_seconds * front.sample_rate)))
        shape: List[Any] = [
            ct.RangeDim(1, max(int(max_batch), int(x.shape[0])), default=int(x.shape[0]))
            if dynamic_batch else int(x.shape[0]),
            ct.RangeDim(1, max_length, default=int(x.shape[1])) if dynamic_length else int(x.shape[1]),
        ]
        inputs = [ct.TensorType(name="audio", shape=ct.Shape(shape), dtype=np.float32)]
        if len(args) == 2:
            inputs.append(ct.TensorType(name="dft_basis", shape=tuple(args[1].shape), dtype=np.float32))
        target = ct.target.iOS16 if minimum_deployment_target is None else minimum_deployment_target
        mlmodel = ct.convert(traced, inputs=inputs, outputs=[ct.TensorType(name="features")],
                             convert_to="mlprogram", compute_precision=precision,
                             minimum_deployment_target=target)
        metadata = onnx_metadata(front)
    mlmodel.user_defined_metadata.update(metadata)
    mlmodel.short_description = (f"spectrograms {front._kind} front end: audio (batch, length) -> "
                                 f"features (batch, {front.n_bins}, n_frames)")
    path.parent.mkdir(parents=True, exist_ok=True)
    mlmodel.save(str(path))
    return path
