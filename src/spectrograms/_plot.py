"""Drawing spectrograms with matplotlib (the ``plot`` extra); used by :meth:`Spectrogram.plot`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, List, Optional, Tuple

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import matplotlib.axes

    from .results import Spectrogram

__all__ = ["plot_spectrogram", "to_display_db"]

_POWER_FLOOR = 1e-10  # -100 dB
_MAGNITUDE_FLOOR = 1e-5  # -100 dB


def _import_matplotlib() -> Any:
    try:
        import matplotlib
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"plotting needs matplotlib: pip install spectrograms[plot] (or pip install matplotlib); "
            f"the import failed with: {exc}"
        ) from exc
    return matplotlib


def to_display_db(spec: "Spectrogram") -> np.ndarray:
    """The values of ``spec`` in dB for display (a new float array; the spectrogram is unchanged).

    Power ``10 log10(max(P, 1e-10))``, magnitude ``20 log10(max(M, 1e-5))``, dB as it is. NaN and
    inf are masked.
    """
    data = np.asarray(spec.data)
    if spec.quantity == "power":
        db = 10.0 * np.log10(np.maximum(data, _POWER_FLOOR))
    elif spec.quantity == "magnitude":
        db = 20.0 * np.log10(np.maximum(data, _MAGNITUDE_FLOOR))
    else:
        db = np.array(data, copy=True)
    return np.ma.masked_invalid(db)


def _hz_to_mel(htk: bool) -> Tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    """(hz -> mel, mel -> hz) for the Slaney (default) or HTK mel scale, vectorised."""
    if htk:
        def fwd(f: Any) -> Any:
            return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=float) / 700.0)

        def inv(m: Any) -> Any:
            return 700.0 * (10.0 ** (np.asarray(m, dtype=float) / 2595.0) - 1.0)
        return fwd, inv

    f_sp = 200.0 / 3
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0

    def fwd_slaney(f: Any) -> Any:
        f = np.asarray(f, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_part = min_log_mel + np.log(np.maximum(f, min_log_hz) / min_log_hz) / logstep
        return np.where(f >= min_log_hz, log_part, f / f_sp)

    def inv_slaney(m: Any) -> Any:
        m = np.asarray(m, dtype=float)
        return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), f_sp * m)

    return fwd_slaney, inv_slaney


def _edges(centres: np.ndarray, fallback_width: float) -> np.ndarray:
    """Cell edges around sorted centres: midpoints, with the end cells as wide as their neighbours."""
    c = np.asarray(centres, dtype=float)
    if c.size == 1:
        return np.array([c[0] - fallback_width / 2, c[0] + fallback_width / 2])
    mid = (c[:-1] + c[1:]) / 2
    return np.concatenate([[c[0] - (mid[0] - c[0])], mid, [c[-1] + (c[-1] - mid[-1])]])


_NICE_HZ = [0, 100, 200, 250, 500, 1000, 2000, 3000, 4000, 5000, 6000, 8000, 10000, 12000, 16000,
            20000, 24000, 32000, 48000, 64000, 96000]


def _mel_ticks(f_lo: float, f_hi: float, fwd: Callable[[Any], Any], max_ticks: int = 9) -> List[float]:
    """Round Hz values inside [f_lo, f_hi], roughly evenly spread on the mel axis."""
    candidates = [f for f in _NICE_HZ if f_lo <= f <= f_hi]
    if len(candidates) <= 2:
        return candidates
    mels = fwd(np.array(candidates, dtype=float))
    span = (fwd(f_hi) - fwd(f_lo)) / max_ticks
    chosen: List[float] = []
    last = -np.inf
    for f, m in zip(candidates, mels):
        if m - last >= span * 0.8:
            chosen.append(f)
            last = m
    return chosen


def _format_hz(value: float, _pos: Any = None) -> str:
    if abs(value) >= 1000:
        k = value / 1000
        return f"{k:g}k"
    return f"{value:g}"


def plot_spectrogram(spec: "Spectrogram", ax: "Optional[matplotlib.axes.Axes]" = None, cmap: str = "magma",
                     colorbar: bool = True, title: Optional[str] = None, **kwargs: Any) -> "matplotlib.axes.Axes":
    """Draw a spectrogram: time in seconds, frequency in Hz, values in dB, with a colour bar.

    Linear spectrograms use a linear frequency axis (0 to Nyquist). Mel spectrograms use a mel-scaled
    frequency axis (the Slaney or HTK formula the spectrogram was made with) labelled in Hz, so the
    bands are drawn with equal heights at their true centre frequencies. Power and magnitude values
    are converted to dB for display only (``10 log10(max(P, 1e-10))``, ``20 log10(max(M, 1e-5))``).

    Parameters
    ----------
    spec : Spectrogram
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new ``pyplot`` figure is made when omitted.
    cmap : str
        Colour map name.
    colorbar : bool
        Add a colour bar labelled "dB".
    title : str, optional
        Axes title; by default a description such as ``"Mel spectrogram (dB), 128 bands"``.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.pcolormesh` (``vmin``, ``vmax``, ``rasterized``, ...).

    Returns
    -------
    matplotlib.axes.Axes
    """
    _import_matplotlib()
    from matplotlib.ticker import FixedLocator, FuncFormatter

    if ax is None:
        import matplotlib.pyplot as plt

        _fig, ax = plt.subplots(figsize=(10, 4), layout="constrained")
    values = to_display_db(spec)
    params = spec.params
    sr = params.sample_rate
    dt = params.stft.hop_size / sr
    times = np.asarray(spec.times, dtype=float)
    t_edges = _edges(times, dt) if times.size > 1 else np.array([times[0] - dt / 2, times[0] + dt / 2])
    freqs = np.asarray(spec.frequencies, dtype=float)

    kwargs.setdefault("shading", "flat")
    kwargs.setdefault("rasterized", True)
    if spec.scale == "mel":
        fp = spec.filter_params
        htk = bool(getattr(fp, "htk", False))
        fwd, inv = _hz_to_mel(htk)
        mel_centres = fwd(freqs)
        if freqs.size == 1:
            lo, hi = fp.f_min, fp.resolved_f_max(sr)
            mel_edges = np.array([fwd(lo), fwd(hi)])
        else:
            mel_edges = _edges(mel_centres, 1.0)
        f_edges = np.maximum(inv(mel_edges), 0.0)
        mesh = ax.pcolormesh(t_edges, f_edges, values, cmap=cmap, **kwargs)
        ax.set_yscale("function", functions=(lambda f: fwd(np.maximum(f, 0.0)), inv))
        ax.set_ylim(f_edges[0], f_edges[-1])
        ticks = _mel_ticks(float(f_edges[0]), float(f_edges[-1]), fwd)
        ax.yaxis.set_major_locator(FixedLocator(ticks))
        ax.yaxis.set_minor_locator(FixedLocator([]))
        ax.yaxis.set_major_formatter(FuncFormatter(_format_hz))
        ylabel = "Frequency (Hz, mel scale)"
        default_title = f"Mel spectrogram ({_quantity_label(spec)}), {spec.n_bins} bands"
    else:
        df = sr / params.stft.n_fft
        f_edges = _edges(freqs, df)
        mesh = ax.pcolormesh(t_edges, f_edges, values, cmap=cmap, **kwargs)
        ax.set_ylim(max(0.0, f_edges[0]), min(sr / 2, f_edges[-1]))
        ax.yaxis.set_major_formatter(FuncFormatter(_format_hz))
        ylabel = "Frequency (Hz)"
        default_title = f"Linear spectrogram ({_quantity_label(spec)}), n_fft {params.stft.n_fft}"
    ax.set_xlim(max(0.0, t_edges[0]) if times[0] >= 0 else t_edges[0], t_edges[-1])
    ax.set_xlabel("Time (s)")
    ax.set_ylabel(ylabel)
    ax.set_title(default_title if title is None else title)
    if colorbar:
        cbar = ax.figure.colorbar(mesh, ax=ax, pad=0.02)
        cbar.set_label("dB")
    return ax


def _quantity_label(spec: "Spectrogram") -> str:
    return {"power": "power, shown in dB", "magnitude": "magnitude, shown in dB", "db": "dB"}[spec.quantity]
