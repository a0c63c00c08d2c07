"""``spectrograms export``: write a front-end layer as an ONNX file or a CoreML ML program.

Registered by :func:`spectrograms.cli.build_parser` through :func:`add_parser`. PyTorch (and
onnx/onnxscript or coremltools) are imported only when the command runs.
"""

from __future__ import annotations

import argparse
import pathlib
from typing import Any, TextIO

from .cli import EXIT_FAILED, EXIT_OK, PROG, UsageError, _finite_float, _positive_float, _positive_int, _window

__all__ = ["add_parser", "run_export"]

KINDS = ("spectrogram", "mel", "logmel", "mfcc")

_DESCRIPTION = """\
Write a spectrogram front end as a model file that computes, from raw audio, the same numbers as
this library: an ONNX file (run it with onnxruntime) or a CoreML ML program (.mlpackage).

The model has input 'audio' of shape (batch, length), float32 samples at --sample-rate (batch
and length are dynamic unless --static-batch/--static-length), and output 'features' of shape
(batch, n_bins, n_frames). With --dft input it takes a second input 'dft_basis', which is written
next to the model as OUT-without-suffix.dft_basis.npy.

Modes: --mode stft uses the ONNX STFT operator; --mode dft computes the STFT with 1-D
convolutions whose kernels are the windowed DFT basis, carried in the file (--dft store: fastest,
largest), given as an input (--dft input) or built in the graph (--dft on_the_fly)."""

_EPILOG = f"""\
exit status:
  0 written; 1 export failed (e.g. onnx or coremltools missing); 2 usage error.

examples:
  {PROG} export logmel.onnx                                # log-mel, 400/160, 80 mels, 16 kHz
  {PROG} export --kind mfcc --n-mels 40 --n-mfcc 13 mfcc.onnx
  {PROG} export --kind mel --n-fft 1024 --hop 512 --n-mels 64 --sample-rate 22050 --dft on_the_fly mel.onnx
  {PROG} export --format coreml logmel.mlpackage"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``export`` subcommand to the ``spectrograms`` command's subparsers."""
    ex = subparsers.add_parser(
        "export",
        help="write a spectrogram / log-mel / MFCC front end as an ONNX or CoreML model",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ex.add_argument("output", metavar="OUT", help="the file to write (.onnx, or .mlpackage for CoreML)")
    g = ex.add_argument_group("features")
    g.add_argument("--kind", choices=KINDS, default="logmel",
                   help="spectrogram (linear), mel, logmel (mel in dB) or mfcc (default: logmel)")
    g.add_argument("--scale", choices=("power", "magnitude", "db"), default=None,
                   help="values of --kind spectrogram or mel: power |X|^2, magnitude, or dB (default: power)")
    g.add_argument("--n-fft", type=_positive_int, default=400, metavar="N", help="FFT and frame length (default: 400)")
    g.add_argument("--hop", type=_positive_int, default=160, metavar="N", help="samples between frames (default: 160)")
    g.add_argument("--window", type=_window, default="hanning", metavar="NAME",
                   help="hanning (hann), hamming, blackman, rectangular, kaiser:BETA or gaussian:STD (default: hanning)")
    g.add_argument("--no-centre", "--no-center", dest="centre", action="store_false",
                   help="do not pad n_fft//2 zeros at each end")
    g.add_argument("--sample-rate", type=_positive_float, default=16000.0, metavar="HZ",
                   help="sample rate of the audio the model will get (default: 16000)")
    g.add_argument("--n-mels", type=_positive_int, default=80, metavar="N", help="mel bands (default: 80)")
    g.add_argument("--f-min", type=_finite_float, default=0.0, metavar="HZ", help="lowest mel frequency (default: 0)")
    g.add_argument("--f-max", type=_positive_float, default=None, metavar="HZ",
                   help="highest mel frequency, <= sample_rate/2 (default: the Nyquist frequency)")
    g.add_argument("--mel-norm", choices=("none", "slaney", "l1", "l2"), default="none",
                   help="mel filterbank normalisation (default: none)")
    g.add_argument("--htk", action="store_true", help="HTK mel scale instead of Slaney's")
    g.add_argument("--floor-db", type=_finite_float, default=-80.0, metavar="DB",
                   help="lowest dB value of --kind logmel and --scale db (default: -80)")
    g.add_argument("--n-mfcc", type=_positive_int, default=13, metavar="N",
                   help="coefficients of --kind mfcc, <= --n-mels (default: 13)")
    m = ex.add_argument_group("model")
    m.add_argument("--mode", choices=("stft", "dft"), default=None,
                   help="STFT via the ONNX STFT operator (stft) or via convolutions (dft, the default)")
    m.add_argument("--dft", choices=("store", "input", "on_the_fly"), default=None,
                   help="with --mode dft: where the DFT basis comes from (default: store)")
    m.add_argument("--format", choices=("onnx", "coreml"), default=None,
                   help="onnx or coreml (default: coreml for an OUT ending in .mlpackage, else onnx)")
    m.add_argument("--opset", type=_positive_int, default=None, metavar="N", help="ONNX opset (default: 18)")
    m.add_argument("--static-batch", action="store_true", help="fix the batch size to 1 instead of leaving it dynamic")
    m.add_argument("--static-length", type=_positive_int, default=None, metavar="SAMPLES",
                   help="fix the number of samples instead of leaving it dynamic")
    ex.set_defaults(func=run_export)
    return ex


def _check(args: argparse.Namespace) -> None:
    if args.kind in ("logmel", "mfcc") and args.scale is not None:
        raise UsageError(f"--scale applies to --kind spectrogram and mel; --kind {args.kind} has fixed values")
    if args.mode == "stft" and args.dft is not None:
        raise UsageError("--dft applies to --mode dft")
    suffix = pathlib.Path(args.output).suffix.lower()
    if args.format is None:
        args.format = "coreml" if suffix == ".mlpackage" else "onnx"
    if args.format == "coreml" and suffix != ".mlpackage":
        raise UsageError(f"a CoreML ML program is written as a .mlpackage; got OUT {args.output!r}")
    if args.format == "coreml" and args.opset is not None:
        raise UsageError("--opset applies to --format onnx")
    if args.mode is None:
        args.mode = "dft"
    if args.dft is None:
        args.dft = "store"


def _layer(args: argparse.Namespace) -> Any:
    import spectrograms as sg
    from ._layers import MFCC, LogMelSpectrogram, MelSpectrogram, Spectrogram

    try:
        params = sg.SpectrogramParams(sg.StftParams(args.n_fft, args.hop, args.window, args.centre), args.sample_rate)
        mel = sg.MelParams(args.n_mels, args.f_min, args.f_max, args.mel_norm, args.htk)
        db = sg.LogParams(args.floor_db)
        mode = dict(mode=args.mode, dft=args.dft)
        if args.kind == "spectrogram":
            return Spectrogram(params, db, quantity=args.scale or "power", **mode)
        if args.kind == "mel":
            mel.resolved_f_max(args.sample_rate)
            return MelSpectrogram(params, mel, db, quantity=args.scale or "power", **mode)
        if args.kind == "logmel":
            mel.resolved_f_max(args.sample_rate)
            return LogMelSpectrogram(params, mel, db, **mode)
        mel.resolved_f_max(args.sample_rate)
        return MFCC(params, mel, args.n_mfcc, **mode)
    except (ValueError, TypeError) as exc:
        raise UsageError(str(exc)) from None


def _size(path: pathlib.Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def run_export(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """Run ``spectrograms export``; returns the exit status (usage errors raise ``UsageError``)."""
    _check(args)
    try:
        import torch  # noqa: F401
    except ImportError:
        print(f"{PROG} export: PyTorch is needed to export: pip install spectrograms[{args.format}]", file=stderr)
        return EXIT_FAILED
    layer = _layer(args)
    from . import export as _export

    out = pathlib.Path(args.output)
    dynamic = dict(dynamic_batch=not args.static_batch, dynamic_length=args.static_length is None,
                   length=args.static_length)
    try:
        if args.format == "onnx":
            _export.export_onnx(layer, out, opset=args.opset, **dynamic)
        else:
            _export.export_coreml(layer, out, **dynamic)
    except ImportError as exc:
        print(f"{PROG} export: {exc}", file=stderr)
        return EXIT_FAILED
    except Exception as exc:  # an exporter's failure: report it, do not trace back
        print(f"{PROG} export: the {args.format} export failed: {type(exc).__name__}: {exc}", file=stderr)
        return EXIT_FAILED
    rows = {"spectrogram": "bins", "mel": "mel bands", "logmel": "mel bands", "mfcc": "coefficients"}[args.kind]
    what = args.kind if args.kind in ("logmel", "mfcc") else f"{args.kind} {args.scale or 'power'}"
    mode = args.mode if args.mode == "stft" else f"dft/{args.dft}"
    batch = "1" if args.static_batch else "batch"
    length = str(args.static_length) if args.static_length else "length"
    print(f"wrote {out} ({_size(out) / 1024:.0f} kB, {args.format}, mode {mode})", file=stdout)
    print(f"  {what}: n_fft {args.n_fft}, hop {args.hop}, {args.sample_rate:g} Hz, {layer.n_bins} {rows}", file=stdout)
    print(f"  input 'audio' ({batch}, {length}) float32 -> output 'features' ({batch}, {layer.n_bins}, n_frames)",
          file=stdout)
    if layer.needs_basis:
        import numpy as np

        basis_path = out.with_suffix(".dft_basis.npy")
        np.save(basis_path, layer.dft_basis().numpy())
        basis = layer.dft_basis()
        print(f"  second input 'dft_basis' {tuple(basis.shape)} {str(basis.dtype).replace('torch.', '')}: "
              f"wrote {basis_path}", file=stdout)
    return EXIT_OK
