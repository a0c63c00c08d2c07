"""Exportable layers: ONNX file size and onnxruntime time per 1 s clip of each mode, vs the engine.

For n_fft 400 / hop 160 / 80 mels and n_fft 1024 / hop 512 / 64 mels (16 kHz, one 1 s clip,
log-mel in dB), single-threaded, medians of interleaved rounds (see _harness.py):

* onnxruntime (CPU provider, 1 intra-op thread) on ``LogMelSpectrogram`` exported by
  ``spectrograms.export.export_onnx`` in each mode, with the layer's default
  ``precision="float64"`` (STFT and power in float64): ``stft`` (a float64 ONNX STFT node),
  ``dft`` with ``store`` / ``input`` / ``on_the_fly`` (Gather framing + float64 MatMul); plus,
  with ``precision="float32"``, ``dft/store`` (a float32 Conv) and ``stft`` with a float32 STFT
  node (less precise for an n_fft that is not a power of two: not checked); plus the file size;
* this engine, ``plan.compute`` of a float32 ``mel_db`` plan on the same clip;
* the PyTorch layer's forward on the CPU (``torch.set_num_threads(1)``, ``no_grad``) in ``stft``
  and ``dft``/``store`` modes, in both precisions, against a torchaudio-style baseline written
  here: ``torch.stft(center=True, pad_mode="constant")`` → ``|X|^2`` → dense mel matmul → dB.

Every contender's output (but the float32 STFT node's) is first checked against the engine's
(within 1e-3 dB on cells above -60 dB).

Run: PYTHONPATH=src SPECTROGRAMS_DEV_BUILD=build/devext .venv/bin/python bench/layers.py [--quick]
"""

from __future__ import annotations

import os
import sys
import tempfile
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402

import _harness as H  # noqa: E402
import spectrograms as sg  # noqa: E402

CONFIGS = [  # (label, n_fft, hop, n_mels)
    ("400/160, 80 mels", 400, 160, 80),
    ("1024/512, 64 mels", 1024, 512, 64),
]
SR = 16000
MODES = [("stft", "store"), ("dft", "store"), ("dft", "input"), ("dft", "on_the_fly")]


def mode_name(mode: str, dft: str) -> str:
    return "stft" if mode == "stft" else f"dft/{dft}"


def check(name: str, out: np.ndarray, ref: np.ndarray) -> None:
    cells = ref > -60.0
    err = float(np.max(np.abs(out - ref)[cells]))
    if out.shape != ref.shape or err > 1e-3:
        raise AssertionError(f"{name}: output differs from the engine ({out.shape} vs {ref.shape}, {err:.2e} dB)")


def main() -> None:
    args = H.arg_parser(__doc__.splitlines()[0]).parse_args()
    rounds = args.rounds or (8 if args.quick else 30)
    block = 0.01 if args.quick else 0.02

    import onnxruntime as ort
    import torch

    from spectrograms._layers import LogMelSpectrogram
    from spectrograms.export import export_onnx

    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    rows = []
    payload = {"machine": H.machine_info(), "results": {}}
    tmp = Path(tempfile.mkdtemp(prefix="bench-layers-"))
    rng = np.random.default_rng(0)
    clip = (0.5 * rng.standard_normal(SR) + 0.3 * np.sin(2 * np.pi * 440 * np.arange(SR) / SR)).astype(np.float32)
    for label, n_fft, hop, n_mels in CONFIGS:
        params = sg.SpectrogramParams(sg.StftParams(n_fft, hop, sg.WindowType.hanning, True), SR)
        mel = sg.MelParams(n_mels)
        plan = sg.SpectrogramPlanner().mel_db_plan(params, mel, dtype="float32")
        ref = plan.compute(clip).data
        contenders = [H.Contender("engine plan.compute (float32)", lambda plan=plan: plan.compute(clip))]
        sizes = {}
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        x2 = clip[None]
        for mode, dft in MODES:
            layer = LogMelSpectrogram(params, mel, mode=mode, dft=dft)
            path = export_onnx(layer, tmp / f"{n_fft}-{mode}-{dft}.onnx")
            sizes[mode_name(mode, dft)] = path.stat().st_size
            sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
            feeds = {"audio": x2}
            if layer.needs_basis:
                feeds["dft_basis"] = layer.dft_basis().numpy()
            check(f"onnxruntime {mode}/{dft}", sess.run(None, feeds)[0][0], ref)
            contenders.append(H.Contender(f"onnxruntime {mode_name(mode, dft)}",
                                          lambda sess=sess, feeds=feeds: sess.run(None, feeds)))
            if mode == "stft" and n_fft & (n_fft - 1):
                # the float64 STFT node (exact) vs onnxruntime's float32 one (~2e-5 relative
                # error here, so not checked): what the precision costs
                layer.set_precision("float32").onnx_stft_float64 = False
                path = export_onnx(layer, tmp / f"{n_fft}-stft-f32.onnx")
                sizes["stft, float32 node"] = path.stat().st_size
                sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
                contenders.append(H.Contender("onnxruntime stft, float32 node",
                                              lambda sess=sess: sess.run(None, {"audio": x2})))
            if mode == "dft" and dft == "store":
                # precision="float32": a float32 Conv instead of the float64 MatMul
                layer.set_precision("float32")
                path = export_onnx(layer, tmp / f"{n_fft}-dft-store-f32.onnx")
                sizes["dft/store, float32"] = path.stat().st_size
                sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
                check("onnxruntime dft/store, float32", sess.run(None, {"audio": x2})[0][0], ref)
                contenders.append(H.Contender("onnxruntime dft/store, float32",
                                              lambda sess=sess: sess.run(None, {"audio": x2})))

        xt = torch.from_numpy(x2)
        for mode, dft in (("stft", "store"), ("dft", "store")):
            for precision in ("float64", "float32"):
                layer = LogMelSpectrogram(params, mel, mode=mode, dft=dft, precision=precision).eval()
                with torch.no_grad():
                    check(f"torch layer {mode} {precision}", layer(xt)[0].numpy(), ref)

                def fwd(layer=layer):
                    with torch.no_grad():
                        layer(xt)

                suffix = "" if precision == "float64" else ", float32"
                contenders.append(H.Contender(f"PyTorch layer, {mode_name(mode, dft)}{suffix}", fwd))

        window = torch.from_numpy(np.hanning(n_fft).astype(np.float32))
        fb = torch.from_numpy(plan._engine.filterbank().astype(np.float32))

        def torchaudio_style(window=window, fb=fb, n_fft=n_fft, hop=hop):
            with torch.no_grad():
                spec = torch.stft(xt, n_fft, hop_length=hop, window=window, center=True, pad_mode="constant",
                                  return_complex=True)
                power = spec.real.square() + spec.imag.square()
                return 10.0 * torch.log10(torch.clamp(torch.matmul(fb, power), min=1e-8))

        check("torchaudio-style", torchaudio_style()[0].numpy(), ref)
        contenders.append(H.Contender("PyTorch torch.stft + dense mel (torchaudio-style)", torchaudio_style))

        print(f"timing {label} ({len(contenders)} contenders, {rounds} rounds)...", file=sys.stderr)
        timed = H.interleaved(contenders, rounds=rounds, block_time=block, verbose=True)
        engine = timed["engine plan.compute (float32)"].median
        baseline = timed["PyTorch torch.stft + dense mel (torchaudio-style)"].median
        for name, c in timed.items():
            size = ""
            if name.startswith("onnxruntime"):
                kb = sizes[name.split(" ", 1)[1]] / 1024
                size = f"{kb:.0f} kB" if kb < 1024 else f"{kb / 1024:.1f} MB"
            vs_torch = H.fmt_ratio(c.median / baseline) if name.startswith("PyTorch") else ""
            rows.append([label, name, size, H.fmt_time(c.median), H.fmt_ratio(c.median / engine), vs_torch])
        payload["results"][label] = dict(H.results_payload(timed), sizes=sizes)

    md = [
        "## Exportable layers: ONNX size and time per 1 s clip (16 kHz, log-mel dB, 1 thread)",
        "",
        H.machine_md(payload["machine"]),
        "",
        H.md_table(["config", "contender", "ONNX file", "time / clip", "× engine", "× torchaudio-style"],
                   rows, align="llrrrr"),
        "",
        f"Medians of {rounds} interleaved rounds. '× engine': time over plan.compute's time on the same "
        "clip (lower is faster). '× torchaudio-style': the PyTorch layer's forward over the baseline's.",
    ]
    H.save("layers", "\n".join(md), args, payload)


if __name__ == "__main__":
    main()
