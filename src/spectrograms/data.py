"""Data loading for variable-length audio: a dataset, collation, a stratified sampler, a DataLoader factory.

``spectrograms.data`` turns a folder of audio files and a metadata table into PyTorch batches,
with features computed by the engine for the whole batch at once::

    import spectrograms as sg
    from spectrograms.data import AudioDataset, create_dataloader

    train = AudioDataset("meta.csv", split="train", target="genre", resample_rate=16000,
                         max_length_sec=5.0)
    params = sg.SpectrogramParams(sg.StftParams(512, 160, sg.WindowType.hanning), 16000)
    plan = sg.SpectrogramPlanner().mel_db_plan(params, sg.MelParams(80, 0.0, 8000.0), dtype="float32")
    loader = create_dataloader(train, batch_size=16, features=plan)
    for batch in loader:
        batch["features"]        # (B, 80, max_frames) float32
        batch["feature_mask"]    # (B, max_frames) bool
        batch["labels"]          # (B,) int64

It needs PyTorch (``pip install spectrograms[torch]``) and, for reading files, the ``audio`` extra
(soundfile and soxr). Metadata tables (CSV, Parquet, DataFrames) need pandas, and Parquet needs
pyarrow: ``pip install spectrograms[data]``; :meth:`AudioDataset.from_folder` and tables given as
a dict of columns need neither.

Everything here pickles, so it works with DataLoader workers started by ``fork``, ``spawn`` or
``forkserver`` (a ``transform`` must then be picklable too: a module-level function or class, not
a lambda).
"""

from __future__ import annotations

try:
    import torch
    from torch.utils.data import BatchSampler, DataLoader, Dataset, Sampler
except ImportError as _exc:  # pragma: no cover - exercised only without torch
    raise ImportError(
        "spectrograms.data needs PyTorch, which is not installed: pip install spectrograms[torch]"
    ) from _exc

import functools
import logging
import math
import numbers
import os
from typing import (
    Any,
    Callable,
    Dict,
    Hashable,
    Iterable,
    Iterator,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Union,
)

import numpy as np

from ._errors import AudioReadError
from ._input import resolve_dtype
from ._threads import _available_cores, _check
from .audio import RESAMPLE_QUALITIES, load

__all__ = [
    "AudioDataset",
    "collate_variable_length",
    "collate_fixed_length",
    "FeatureCollate",
    "StratifiedBatchSampler",
    "create_dataloader",
    "default_num_workers",
    "AUDIO_EXTENSIONS",
]

_log = logging.getLogger(__name__)

_DATA_HINT = "pip install spectrograms[data]"

#: File extensions :meth:`AudioDataset.from_folder` collects by default (case-insensitive).
AUDIO_EXTENSIONS: Tuple[str, ...] = (".wav", ".flac", ".ogg", ".mp3", ".aif", ".aiff", ".opus")

#: Keys of an item that are not metadata columns.
_RESERVED = ("waveform", "label", "sample_id", "sample_rate")

PathLike = Union[str, "os.PathLike[str]"]
TableLike = Union[PathLike, Mapping[str, Sequence[Any]], Any]  # a path, a dict of columns or a DataFrame


# ================================================================================ helpers


def _import_pandas() -> Any:
    try:
        import pandas
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"reading metadata tables needs pandas: {_DATA_HINT} (or pip install pandas pyarrow); "
            f"the import failed with: {exc}"
        ) from exc
    return pandas


def _is_missing(value: Any) -> bool:
    """None, NaN, pandas.NA or NaT."""
    if value is None:
        return True
    if isinstance(value, float) and value != value:
        return True
    return type(value).__name__ in ("NAType", "NaTType")


def _sort_key(value: Any) -> Tuple[str, Any]:
    return (type(value).__name__, value)


def _sorted_values(values: Iterable[Any]) -> List[Any]:
    """Distinct values, sorted (by type name, then value; by ``repr`` when they do not compare)."""
    distinct = list(dict.fromkeys(values))
    try:
        return sorted(distinct, key=_sort_key)
    except TypeError:
        return sorted(distinct, key=repr)


def _plain(value: Any) -> Any:
    """numpy scalars as Python scalars (cheaper to pickle, friendlier in lists)."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def _as_list(values: Any) -> List[Any]:
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().tolist()
    if isinstance(values, np.ndarray):
        return values.tolist()
    return [_plain(v) for v in values]


def _load_table(table: Any) -> Tuple[Dict[str, List[Any]], List[Any], Dict[str, str], Optional[str], str]:
    """Columns (as lists), row labels, column kinds ("class"/"numeric"/""), default root, a name."""
    if isinstance(table, Mapping):
        columns = {str(k): _as_list(v) for k, v in table.items()}
        lengths = {len(v) for v in columns.values()}
        if len(lengths) > 1:
            raise ValueError(
                "the columns of the table must have the same length; got "
                + ", ".join(f"{k}: {len(v)}" for k, v in columns.items())
            )
        n = lengths.pop() if lengths else 0
        return columns, list(range(n)), {}, None, "the table"
    if isinstance(table, (str, bytes, os.PathLike)):
        path = os.path.abspath(os.path.expanduser(os.fsdecode(table)))
        if not os.path.isfile(path):
            raise FileNotFoundError(f"metadata table '{path}' does not exist (or is not a file)")
        pd = _import_pandas()
        ext = os.path.splitext(path)[1].lower()
        if ext in (".csv", ".tsv", ".txt"):
            df = pd.read_csv(path, sep="\t" if ext == ".tsv" else ",")
        elif ext in (".parquet", ".pq", ".parq"):
            try:
                df = pd.read_parquet(path)
            except ImportError as exc:
                raise ImportError(f"reading Parquet tables needs pyarrow: {_DATA_HINT} ({exc})") from exc
        else:
            raise ValueError(
                f"cannot tell the format of metadata table '{path}' from its extension {ext!r}: "
                "use .csv, .tsv or .parquet, or pass a pandas DataFrame"
            )
        columns, kinds = _frame_columns(df)
        return columns, [_plain(v) for v in df.index.tolist()], kinds, os.path.dirname(path), f"'{path}'"
    if hasattr(table, "columns") and hasattr(table, "index") and hasattr(table, "dtypes"):
        columns, kinds = _frame_columns(table)
        return columns, [_plain(v) for v in table.index.tolist()], kinds, None, "the DataFrame"
    raise TypeError(
        "table must be a CSV or Parquet file path, a pandas DataFrame or a dict of columns, "
        f"got {type(table).__name__}"
    )


def _frame_columns(df: Any) -> Tuple[Dict[str, List[Any]], Dict[str, str]]:
    pd = _import_pandas()
    columns: Dict[str, List[Any]] = {}
    kinds: Dict[str, str] = {}
    for name in df.columns:
        if not isinstance(name, str):
            raise ValueError(f"column names must be strings, got {name!r}; rename the column")
        if name in columns:
            raise ValueError(f"the table has two columns named {name!r}")
        series = df[name]
        columns[name] = [_plain(v) for v in series.tolist()]
        dtype = series.dtype
        if pd.api.types.is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
            kinds[name] = "class"
        elif pd.api.types.is_numeric_dtype(dtype):
            kinds[name] = "numeric"
        else:
            kinds[name] = ""  # decided from the values
    return columns, kinds


def _infer_kind(values: Sequence[Any]) -> str:
    present = [v for v in values if not _is_missing(v)]
    if present and all(isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) for v in present):
        return "numeric"
    return "class"


def _choices(values: Iterable[Any], limit: int = 12) -> str:
    values = list(values)
    shown = ", ".join(repr(v) for v in values[:limit])
    return shown + (f", ... ({len(values)} in all)" if len(values) > limit else "")


# ================================================================================ the dataset


class AudioDataset(Dataset):
    """Audio files listed in a metadata table (or found in class folders), read on demand.

    Each row of the table names one file (``path_column``) and carries labels and any other
    metadata. Items are read with :func:`spectrograms.load` (soundfile; resampling with soxr), so a
    file that cannot be read raises :class:`spectrograms.AudioReadError` naming the file and the row.

    Parameters
    ----------
    table : str, pathlib.Path, pandas.DataFrame or dict of sequences
        A CSV (``.csv``; ``.tsv`` is tab-separated) or Parquet (``.parquet``) file, a DataFrame, or
        a dict mapping column names to equally long sequences. Files and DataFrames need pandas
        (and Parquet pyarrow): ``pip install spectrograms[data]``.
    root : str or pathlib.Path, optional
        Directory that relative paths are resolved against. Default: the table file's directory
        when ``table`` is a file, else the current directory. Absolute paths are used as they are.
    path_column : str
        Column holding the audio file paths (default ``"path"``).
    target : str or list of str, optional
        The label column, or a list (or tuple) of columns for multi-task learning; a list, even of
        one column, gives dict labels (see the notes). None: items carry no label
        (``item["label"]`` is None).
    split : str, list of str, or any value of the split column, optional
        Keep only rows whose ``split_column`` equals ``split`` (or one of the values of a list,
        tuple or set): ``split="train"``, or ``split=[1, 2, 3], split_column="fold"`` for numbered
        folds. None keeps every row.
    split_column : str
        Column holding the split names (default ``"split"``).
    id_column : str, optional
        Column holding a stable sample id. Default: the row's index label in the table (its
        position in a CSV or Parquet file, before any ``split`` filtering).
    resample_rate : float, optional
        Resample every file to this rate in Hz (soxr). None keeps each file's rate; a batch then
        needs files of one rate.
    max_length_sec : float, optional
        Keep at most this many seconds from the start of each file (only that part is read).
    normalize_audio : bool
        Scale each waveform so that its peak is 1 (``x / max|x|``; silence stays silence). Default
        False: the samples are read as they are (already in [-1, 1]), which keeps level information.
    mono : bool
        True (default): average the channels, giving waveforms of shape ``(L,)``. False: keep them,
        giving ``(C, L)`` (``(1, L)`` for a mono file).
    transform : callable, optional
        Called with the waveform tensor (after truncation and normalisation); its return value
        replaces the waveform. It must be picklable for workers started with ``spawn``.
    normalize_targets : bool
        Min-max normalise numeric targets to [0, 1]: ``(y - min) / (max - min)``, with the min and
        max taken over every row of the table (all splits) unless ``target_range`` gives them. A
        constant column maps to 0.
    target_types : {"auto", "class", "numeric"} or dict, optional
        How targets are encoded. "auto" (default): strings, booleans and categoricals are classes,
        numbers are numeric. Use "class" for integer class ids stored as numbers. A dict maps
        target names to a type (missing names are "auto").
    classes : sequence or dict of sequences, optional
        The classes, in id order, instead of the sorted distinct values of the column (a dict
        keyed by target for multi-task). Pass ``train.classes`` to a validation dataset built from
        another table so that both use the same ids.
    target_range : (float, float) or dict, optional
        ``(min, max)`` for ``normalize_targets`` instead of the table's (a dict keyed by target for
        multi-task); e.g. ``train.target_range``. Values outside it map outside [0, 1].
    skip_errors : bool
        False (default): an unreadable file raises :class:`~spectrograms.AudioReadError`. True: it is
        logged once (``logging.warning`` on the ``spectrograms.data`` logger), remembered, and the
        next readable item is returned in its place (so that item appears twice in the epoch).
        :attr:`skipped` counts the unreadable items found. In DataLoader worker processes every
        worker has its own copy of the dataset, hence its own count: the main process's
        ``dataset.skipped`` stays 0 unless items are read there (``num_workers=0``).
    resample_quality : {"QQ", "LQ", "MQ", "HQ", "VHQ"}
        soxr quality recipe when resampling (default ``"HQ"``, as :func:`spectrograms.load`).

    Attributes
    ----------
    targets : list of str
        The target columns (empty without ``target``).
    classes : list or dict
        Single target: the class names in id order (sorted distinct values of the column over the
        whole table; empty for a numeric target). Multi-task: a dict ``{target: list}`` for the
        class targets.
    class_to_id, id_to_class : dict
        Mappings between class names and ids (dicts of dicts for multi-task).
    target_range : tuple or dict or None
        ``(min, max)`` used by ``normalize_targets`` (a dict for multi-task; None when unused).
    labels : numpy.ndarray or dict
        The encoded label of every item (int64 class ids or float32 values); a dict for multi-task.
    paths : list of str
        The resolved file path of every item.
    sample_ids : list
        The sample id of every item.

    Notes
    -----
    ``dataset[i]`` returns a dict:

    - ``"waveform"``: float32 tensor, ``(L,)`` when ``mono`` else ``(C, L)``;
    - ``"label"``: a 0-d tensor, int64 for a class target (the class id) and float32 for a numeric
      one; for several targets a dict ``{target: 0-d tensor}`` (a dict rather than a stacked tensor
      because class and numeric targets have different dtypes); None without a target;
    - ``"sample_id"``: the id (see ``id_column``);
    - ``"sample_rate"``: the waveform's rate in Hz;
    - every other column of the row under its own name, with its raw value (the target columns
      included, so ``item["genre"]`` is ``"jazz"`` while ``item["label"]`` is its id). A column whose
      name is one of the four keys above is left out of the item.

    Classes come from every row of the table, not only the selected split, so datasets made from
    one table for different splits share class ids; rows of the selected split must have a value
    in every target column.

    Examples
    --------
    >>> from spectrograms.data import AudioDataset
    >>> ds = AudioDataset("meta.csv", split="train", target="label")  # doctest: +SKIP
    >>> ds[0]["waveform"].shape  # doctest: +SKIP
    torch.Size([22050])
    """

    def __init__(
        self,
        table: TableLike,
        root: Optional[PathLike] = None,
        *,
        path_column: str = "path",
        target: Union[str, Sequence[str], None] = None,
        split: Union[Hashable, Sequence[Hashable], None] = None,
        split_column: str = "split",
        id_column: Optional[str] = None,
        resample_rate: Optional[float] = None,
        max_length_sec: Optional[float] = None,
        normalize_audio: bool = False,
        mono: bool = True,
        transform: Optional[Callable[[torch.Tensor], Any]] = None,
        normalize_targets: bool = False,
        target_types: Union[str, Mapping[str, str], None] = None,
        classes: Union[Sequence[Any], Mapping[str, Sequence[Any]], None] = None,
        target_range: Union[Tuple[float, float], Mapping[str, Tuple[float, float]], None] = None,
        skip_errors: bool = False,
        resample_quality: str = "HQ",
    ) -> None:
        columns, index, kinds, table_dir, table_name = _load_table(table)
        self._check_options(resample_rate, max_length_sec, transform, resample_quality)
        self.resample_rate = resample_rate
        self.max_length_sec = None if max_length_sec is None else float(max_length_sec)
        self.normalize_audio = bool(normalize_audio)
        self.mono = bool(mono)
        self.transform = transform
        self.skip_errors = bool(skip_errors)
        self.resample_quality = resample_quality.upper()
        self.normalize_targets = bool(normalize_targets)

        available = _choices(columns)
        if path_column not in columns:
            raise ValueError(
                f"{table_name} has no path column {path_column!r} (set path_column=); its columns are: {available}"
            )
        if target is None:
            targets: List[str] = []
        elif isinstance(target, str):
            targets = [target]
        elif isinstance(target, Sequence) and all(isinstance(t, str) for t in target) and len(target) > 0:
            targets = list(target)
            if len(set(targets)) != len(targets):
                raise ValueError(f"target lists a column twice: {targets}")
        else:
            raise TypeError(f"target must be a column name or a non-empty list of column names, got {target!r}")
        for t in targets:
            if t not in columns:
                raise ValueError(f"unknown target column {t!r}: {table_name} has columns {available}")
            if t == path_column:
                raise ValueError(f"target {t!r} is the path column")
        if id_column is not None and id_column not in columns:
            raise ValueError(f"unknown id_column {id_column!r}: {table_name} has columns {available}")
        self.targets: List[str] = targets
        self.multi_task: bool = isinstance(target, (list, tuple))
        self.path_column = path_column
        self.split_column = split_column
        self.id_column = id_column

        # ---- rows of the split
        n_rows = len(index)
        if n_rows == 0:
            raise ValueError(f"{table_name} has no rows")
        if split is None:
            rows = list(range(n_rows))
            self.split: Any = None
        else:
            if split_column not in columns:
                raise ValueError(
                    f"split={split!r} was given but {table_name} has no split column {split_column!r} "
                    f"(set split_column=); its columns are: {available}"
                )
            wanted = list(split) if isinstance(split, (list, tuple, set, frozenset)) else [split]
            values = columns[split_column]
            keep = set(wanted)
            rows = [r for r in range(n_rows) if values[r] in keep]
            if not rows:
                present = _sorted_values(v for v in values if not _is_missing(v))
                raise ValueError(
                    f"split {split!r} selects no rows of {table_name}: column {split_column!r} holds "
                    f"{_choices(present)}"
                )
            self.split = wanted if isinstance(split, (list, tuple, set, frozenset)) else split
        self._rows = rows

        # ---- paths and ids
        base = os.path.abspath(os.path.expanduser(os.fspath(root))) if root is not None else (table_dir or os.getcwd())
        self.root = base
        raw_paths = columns[path_column]
        paths = []
        for r in rows:
            p = raw_paths[r]
            if _is_missing(p) or not isinstance(p, (str, os.PathLike)) or not os.fspath(p):
                raise ValueError(f"row {index[r]!r} of {table_name} has no file path in column {path_column!r} ({p!r})")
            p = os.path.expanduser(os.fspath(p))
            paths.append(p if os.path.isabs(p) else os.path.join(base, p))
        self.paths: List[str] = paths
        self._row_labels = [index[r] for r in rows]
        ids = columns[id_column] if id_column is not None else index
        self.sample_ids: List[Any] = [ids[r] for r in rows]

        # ---- targets
        self._encode_targets(columns, kinds, targets, target_types, classes, target_range, table_name, index)

        # ---- metadata (every column except the reserved keys), stored per selected row
        self._meta_columns = [c for c in columns if c not in _RESERVED]
        self._meta = {c: [columns[c][r] for r in rows] for c in self._meta_columns}

        self._bad: Dict[int, str] = {}

    # ------------------------------------------------------------------ construction helpers

    @staticmethod
    def _check_options(resample_rate: Any, max_length_sec: Any, transform: Any, quality: Any) -> None:
        for name, value in (("resample_rate", resample_rate), ("max_length_sec", max_length_sec)):
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(f"{name} must be a number or None, got {type(value).__name__} {value!r}")
            if not math.isfinite(float(value)) or float(value) <= 0:
                raise ValueError(f"{name} must be finite and > 0, got {value!r}")
        if transform is not None and not callable(transform):
            raise TypeError(f"transform must be callable, got {type(transform).__name__}")
        if not isinstance(quality, str) or quality.upper() not in RESAMPLE_QUALITIES:
            raise ValueError(f"resample_quality must be one of {', '.join(RESAMPLE_QUALITIES)}; got {quality!r}")

    def _encode_targets(self, columns: Dict[str, List[Any]], kinds: Dict[str, str], targets: List[str],
                        target_types: Any, classes: Any, target_range: Any, table_name: str,
                        index: List[Any]) -> None:
        if isinstance(target_types, Mapping):
            unknown = set(target_types) - set(targets)
            if unknown:
                raise ValueError(f"target_types names columns that are not targets: {sorted(unknown)}")
            types = {t: target_types.get(t, "auto") for t in targets}
        else:
            types = {t: target_types or "auto" for t in targets}
        for t, kind in types.items():
            if kind not in ("auto", "class", "numeric"):
                raise ValueError(f"target type of {t!r} must be 'auto', 'class' or 'numeric', got {kind!r}")

        def per_target(value: Any, what: str) -> Dict[str, Any]:
            if value is None:
                return {}
            if self.multi_task:
                if not isinstance(value, Mapping):
                    raise TypeError(f"with several targets, {what} must be a dict keyed by target name")
                unknown = set(value) - set(targets)
                if unknown:
                    raise ValueError(f"{what} names columns that are not targets: {sorted(unknown)}")
                return dict(value)
            if isinstance(value, Mapping) and set(value) <= set(targets):
                return dict(value)
            return {targets[0]: value} if targets else {}

        given_classes = per_target(classes, "classes")
        given_ranges = per_target(target_range, "target_range")

        self._kinds: Dict[str, str] = {}
        self._classes: Dict[str, List[Any]] = {}
        self._ranges: Dict[str, Tuple[float, float]] = {}
        self._labels: Dict[str, np.ndarray] = {}
        for t in targets:
            values = columns[t]
            kind = types[t]
            if kind == "auto":
                kind = kinds.get(t) or _infer_kind(values)
            if t in given_classes:
                kind = "class"
            selected = [values[r] for r in self._rows]
            missing = [self._row_labels[i] for i, v in enumerate(selected) if _is_missing(v)]
            if missing:
                raise ValueError(
                    f"target column {t!r} has no value in {len(missing)} selected row(s) of {table_name} "
                    f"(rows {_choices(missing, 8)}); drop them first, e.g. df.dropna(subset=[{t!r}])"
                )
            if kind == "class":
                if t in given_classes:
                    cls = list(given_classes[t])
                    known = set(cls)
                    if len(known) != len(cls):
                        raise ValueError(f"classes for {t!r} lists a class twice: {cls}")
                    unknown = _sorted_values(v for v in selected if v not in known)
                    if unknown:
                        raise ValueError(f"target column {t!r} holds values that are not in classes: {_choices(unknown)}")
                else:
                    cls = _sorted_values(v for v in values if not _is_missing(v))
                lookup = {c: i for i, c in enumerate(cls)}
                self._classes[t] = cls
                self._labels[t] = np.fromiter((lookup[v] for v in selected), dtype=np.int64, count=len(selected))
            else:
                try:
                    y = np.asarray(selected, dtype=np.float64)
                except (TypeError, ValueError):
                    raise ValueError(
                        f"target column {t!r} was declared numeric but holds non-numbers, e.g. "
                        f"{next(v for v in selected if not isinstance(v, numbers.Real))!r}"
                    ) from None
                if self.normalize_targets:
                    if t in given_ranges:
                        lo, hi = (float(v) for v in given_ranges[t])
                    else:
                        every = np.asarray([v for v in values if not _is_missing(v)], dtype=np.float64)
                        lo, hi = float(every.min()), float(every.max())
                    if not (math.isfinite(lo) and math.isfinite(hi)) or hi < lo:
                        raise ValueError(f"target_range of {t!r} must be finite with min <= max, got {(lo, hi)}")
                    self._ranges[t] = (lo, hi)
                    y = (y - lo) / (hi - lo) if hi > lo else np.zeros_like(y)
                self._labels[t] = y.astype(np.float32)
            self._kinds[t] = kind

    # ------------------------------------------------------------------ alternative constructor

    @classmethod
    def from_folder(
        cls,
        root: PathLike,
        extensions: Sequence[str] = AUDIO_EXTENSIONS,
        **kwargs: Any,
    ) -> "AudioDataset":
        """Audio files in class folders: ``root/<class>/.../<file>``; the folder name is the class.

        Files directly in ``root`` (without a class folder) and hidden files and folders are
        ignored. Files are listed in sorted order. Needs no pandas.

        Parameters
        ----------
        root : str or pathlib.Path
            The directory holding one subfolder per class.
        extensions : sequence of str
            File extensions to collect, case-insensitive (default :data:`AUDIO_EXTENSIONS`).
        **kwargs
            Any other :class:`AudioDataset` argument (``resample_rate``, ``max_length_sec``, ...).
            The table has the columns ``"path"`` (relative to ``root``, with ``/``) and ``"class"``;
            the target is ``"class"`` and the sample id is the relative path.

        Returns
        -------
        AudioDataset

        Raises
        ------
        ValueError
            When ``root`` holds no matching file in a class folder.
        """
        for name in ("target", "path_column", "table"):
            if name in kwargs:
                raise TypeError(f"from_folder sets {name} itself; do not pass it")
        root_path = os.path.abspath(os.path.expanduser(os.fspath(root)))
        if not os.path.isdir(root_path):
            raise FileNotFoundError(f"'{root_path}' is not a directory")
        if isinstance(extensions, str):
            extensions = (extensions,)
        exts = tuple(e.lower() if e.startswith(".") else "." + e.lower() for e in extensions)
        paths: List[str] = []
        labels: List[str] = []
        for class_name in sorted(os.listdir(root_path)):
            class_dir = os.path.join(root_path, class_name)
            if class_name.startswith(".") or not os.path.isdir(class_dir):
                continue
            found = []
            for dirpath, dirnames, filenames in os.walk(class_dir):
                dirnames[:] = [d for d in dirnames if not d.startswith(".")]
                for f in filenames:
                    if not f.startswith(".") and os.path.splitext(f)[1].lower() in exts:
                        found.append(os.path.relpath(os.path.join(dirpath, f), root_path).replace(os.sep, "/"))
            for rel in sorted(found):
                paths.append(rel)
                labels.append(class_name)
        if not paths:
            raise ValueError(
                f"no audio files ({', '.join(exts)}) in class folders under '{root_path}'; "
                "expected root/<class>/<file>"
            )
        kwargs.setdefault("id_column", "path")
        return cls({"path": paths, "class": labels}, root=root_path, path_column="path", target="class", **kwargs)

    # ------------------------------------------------------------------ label information

    def _single(self, attr: Dict[str, Any], empty: Any) -> Any:
        if self.multi_task:
            return dict(attr)
        return attr.get(self.targets[0], empty) if self.targets else empty

    @property
    def classes(self) -> Union[List[Any], Dict[str, List[Any]]]:
        """Class names in id order (a dict ``{target: classes}`` of the class targets for multi-task)."""
        return self._single({t: list(c) for t, c in self._classes.items()}, [])

    @property
    def class_to_id(self) -> Union[Dict[Any, int], Dict[str, Dict[Any, int]]]:
        """``{class: id}`` (a dict of them keyed by target for multi-task)."""
        maps = {t: {c: i for i, c in enumerate(cs)} for t, cs in self._classes.items()}
        return self._single(maps, {})

    @property
    def id_to_class(self) -> Union[Dict[int, Any], Dict[str, Dict[int, Any]]]:
        """``{id: class}`` (a dict of them keyed by target for multi-task)."""
        maps = {t: dict(enumerate(cs)) for t, cs in self._classes.items()}
        return self._single(maps, {})

    @property
    def num_classes(self) -> Union[int, Dict[str, int]]:
        """Number of classes (a dict keyed by target for multi-task; 0 for a numeric target)."""
        return self._single({t: len(c) for t, c in self._classes.items()}, 0)

    @property
    def target_range(self) -> Union[Tuple[float, float], Dict[str, Tuple[float, float]], None]:
        """``(min, max)`` used to normalise a numeric target (dict for multi-task; None when unused)."""
        return self._single(dict(self._ranges), None)

    @property
    def target_kinds(self) -> Dict[str, str]:
        """``{target: "class" or "numeric"}``."""
        return dict(self._kinds)

    @property
    def labels(self) -> Union[np.ndarray, Dict[str, np.ndarray], None]:
        """Encoded labels of every item, without reading audio (a dict for multi-task)."""
        return self._single(dict(self._labels), None)

    def denormalize(self, values: Any, target: Optional[str] = None) -> Any:
        """Map normalised numeric predictions back to the column's units: ``v * (max - min) + min``.

        Parameters
        ----------
        values : float, numpy.ndarray or torch.Tensor
            Values on the [0, 1] scale of ``normalize_targets``.
        target : str, optional
            Which target (needed for multi-task).

        Returns
        -------
        The same type as ``values``.
        """
        if target is None:
            if len(self.targets) != 1:
                raise ValueError("name the target: denormalize(values, target=...)")
            target = self.targets[0]
        if target not in self._ranges:
            raise ValueError(f"target {target!r} is not normalised (normalize_targets=False or a class target)")
        lo, hi = self._ranges[target]
        return values * (hi - lo) + lo

    def stratify_labels(self, key: Optional[str] = None) -> List[Hashable]:
        """The group of every item for :class:`StratifiedBatchSampler`, without reading audio.

        Parameters
        ----------
        key : str, optional
            A column: a class target gives its ids, any other column its raw values. None: the
            dataset's class target (there must be exactly one).

        Returns
        -------
        list
        """
        if key is None:
            class_targets = [t for t in self.targets if self._kinds[t] == "class"]
            if len(class_targets) != 1:
                raise ValueError(
                    "stratification needs one class target; this dataset has "
                    f"{len(class_targets)} ({class_targets}): pass key=<column name>"
                )
            key = class_targets[0]
        if key in self._labels and self._kinds[key] == "class":
            return self._labels[key].tolist()
        if key in self._meta:
            return list(self._meta[key])
        raise ValueError(f"unknown column {key!r}; columns: {_choices(self._meta_columns)}")

    def row(self, index: int) -> Dict[str, Any]:
        """The metadata of item ``index`` (every column but the reserved item keys), without reading audio."""
        i = self._check_index(index)
        return {c: self._meta[c][i] for c in self._meta_columns}

    @property
    def skipped(self) -> int:
        """Unreadable items found so far by this process's copy of the dataset (``skip_errors=True``)."""
        return len(self._bad)

    @property
    def errors(self) -> Dict[int, str]:
        """``{dataset index: error message}`` of the unreadable items found so far (this process only)."""
        return dict(self._bad)

    # ------------------------------------------------------------------ items

    def __len__(self) -> int:
        return len(self._rows)

    def _check_index(self, index: Any) -> int:
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)):
            if isinstance(index, torch.Tensor) and index.numel() == 1 and not index.is_floating_point():
                index = int(index.item())
            else:
                raise TypeError(f"dataset indices must be integers, got {type(index).__name__}")
        n = len(self)
        i = int(index) + n if index < 0 else int(index)
        if not 0 <= i < n:
            raise IndexError(f"index {index} out of range for a dataset of {n} items")
        return i

    def __getitem__(self, index: int) -> Dict[str, Any]:
        """Read item ``index``; see the class notes for the keys of the returned dict."""
        i = self._check_index(index)
        if not self.skip_errors:
            return self._item(i)
        n = len(self)
        j = i
        for _ in range(n):
            if j not in self._bad:
                try:
                    return self._item(j)
                except AudioReadError as exc:
                    self._bad[j] = str(exc)
                    _log.warning("skipping an unreadable item (skip_errors=True): %s", exc)
            j = (j + 1) % n
        raise AudioReadError(
            f"skip_errors=True, but none of the {n} files of the dataset can be read; "
            f"first error: {next(iter(self._bad.values()))}"
        )

    def _row_error(self, i: int, reason: str, cause: Optional[BaseException] = None) -> AudioReadError:
        path = self.paths[i]
        err = AudioReadError(
            f"row {self._row_labels[i]!r} (dataset index {i}, sample_id {self.sample_ids[i]!r}): {reason}"
        )
        err.strerror = getattr(cause, "strerror", None) or reason
        err.path = path  # type: ignore[attr-defined]
        err.row = self._row_labels[i]  # type: ignore[attr-defined]
        err.index = i  # type: ignore[attr-defined]
        return err

    def _item(self, i: int) -> Dict[str, Any]:
        path = self.paths[i]
        try:
            samples, rate = load(path, sample_rate=self.resample_rate, mono=self.mono,
                                 duration=self.max_length_sec, dtype="float32",
                                 resample_quality=self.resample_quality)
        except AudioReadError as exc:
            raise self._row_error(i, str(exc), exc) from exc
        if self.max_length_sec is not None:
            samples = samples[..., : max(1, int(round(self.max_length_sec * rate)))]
        if samples.shape[-1] == 0:
            raise self._row_error(i, f"audio file '{path}' contains no samples")
        waveform = torch.from_numpy(np.ascontiguousarray(samples))
        if self.normalize_audio:
            peak = waveform.abs().max()
            if peak > 0:
                waveform = waveform / peak
        if self.transform is not None:
            waveform = self.transform(waveform)
            if not isinstance(waveform, torch.Tensor):
                waveform = torch.as_tensor(np.asarray(waveform))
        item: Dict[str, Any] = {
            "waveform": waveform,
            "label": self._label(i),
            "sample_id": self.sample_ids[i],
            "sample_rate": rate,
        }
        for c in self._meta_columns:
            item[c] = self._meta[c][i]
        return item

    def _label(self, i: int) -> Any:
        if not self.targets:
            return None
        out = {t: torch.tensor(self._labels[t][i]) for t in self.targets}
        return out if self.multi_task else out[self.targets[0]]

    def __repr__(self) -> str:
        parts = [f"{len(self)} items"]
        if self.split is not None:
            parts.append(f"split={self.split!r}")
        if self.targets:
            parts.append(f"target={self.targets if self.multi_task else self.targets[0]!r}")
        if self.resample_rate is not None:
            parts.append(f"resample_rate={self.resample_rate:g}")
        if self.max_length_sec is not None:
            parts.append(f"max_length_sec={self.max_length_sec:g}")
        parts.append(f"root={self.root!r}")
        return f"AudioDataset({', '.join(parts)})"


# ================================================================================ collation


def _waveform(item: Any, b: int) -> torch.Tensor:
    if not isinstance(item, Mapping) or "waveform" not in item:
        raise TypeError(f"batch item {b} must be a dict with a 'waveform' (as AudioDataset returns), got {type(item).__name__}")
    w = item["waveform"]
    if not isinstance(w, torch.Tensor):
        w = torch.as_tensor(np.asarray(w))
    if w.ndim not in (1, 2):
        raise ValueError(f"batch item {b}: waveform must be (L,) or (C, L), got shape {tuple(w.shape)}")
    if not w.is_floating_point():
        raise TypeError(f"batch item {b}: waveform must be floating point, got {w.dtype}")
    if w.shape[-1] == 0:
        raise ValueError(f"batch item {b}: the waveform has no samples")
    return w


def _collate_labels(labels: List[Any]) -> Any:
    if all(lab is None for lab in labels):
        return None
    if any(lab is None for lab in labels):
        raise ValueError("some items of the batch have a label and some do not")
    first = labels[0]
    if isinstance(first, Mapping):
        return {k: torch.stack([torch.as_tensor(lab[k]) for lab in labels]) for k in first}
    if isinstance(first, (tuple, list)):
        return type(first)(torch.stack([torch.as_tensor(lab[k]) for lab in labels]) for k in range(len(first)))
    return torch.stack([torch.as_tensor(lab) for lab in labels])


def _collate(batch: Sequence[Mapping[str, Any]], target_length: Optional[int]) -> Dict[str, Any]:
    if isinstance(batch, Mapping) or not isinstance(batch, Sequence):
        raise TypeError(f"batch must be a list of items (dicts), got {type(batch).__name__}")
    if len(batch) == 0:
        raise ValueError("cannot collate an empty batch")
    waves = [_waveform(item, b) for b, item in enumerate(batch)]
    lead = {tuple(w.shape[:-1]) for w in waves}
    if len(lead) > 1:
        raise ValueError(
            f"the items of a batch have different channel counts {sorted(lead)}; use mono=True "
            "or make the channel count uniform with a transform"
        )
    lengths = [int(w.shape[-1]) for w in waves]
    width = max(lengths) if target_length is None else target_length
    kept = [min(n, width) for n in lengths]
    dtype = waves[0].dtype if all(w.dtype == waves[0].dtype for w in waves) else torch.float32
    out = torch.zeros((len(waves),) + lead.pop() + (width,), dtype=dtype)
    for b, (w, n) in enumerate(zip(waves, kept)):
        out[b, ..., :n] = w[..., :n]
    lengths_t = torch.tensor(kept, dtype=torch.int64)
    mask = torch.arange(width)[None, :] < lengths_t[:, None]

    rates = {item.get("sample_rate") for item in batch}
    if len(rates) > 1:
        raise ValueError(
            f"the items of a batch have different sample rates {sorted(rates, key=repr)}; "
            "set resample_rate= on the dataset"
        )
    meta_keys = [k for k in batch[0] if k not in _RESERVED]
    metadata = {k: [item.get(k) for item in batch] for k in meta_keys}
    return {
        "waveforms": out,
        "lengths": lengths_t,
        "labels": _collate_labels([item.get("label") for item in batch]),
        "attention_mask": mask,
        "sample_ids": [item.get("sample_id") for item in batch],
        "sample_rate": rates.pop(),
        "metadata": metadata,
    }


def collate_variable_length(batch: Sequence[Mapping[str, Any]]) -> Dict[str, Any]:
    """Pad the waveforms of a batch with zeros to the longest one.

    Parameters
    ----------
    batch : list of dict
        Items as :class:`AudioDataset` returns them (any dict with a ``"waveform"`` works; the
        other keys are optional).

    Returns
    -------
    dict
        - ``"waveforms"``: ``(B, L_max)`` (``(B, C, L_max)`` for multichannel items), zero after
          each item's samples;
        - ``"lengths"``: ``(B,)`` int64, each item's number of samples;
        - ``"labels"``: ``(B,)`` tensor (int64 class ids or float32 values), a dict of them for
          multi-task items, or None;
        - ``"attention_mask"``: ``(B, L_max)`` bool, True on real samples;
        - ``"sample_ids"``: list; ``"sample_rate"``: the items' common rate;
        - ``"metadata"``: ``{column: list of values}`` for every other key of the items.

    Raises
    ------
    ValueError
        For an empty batch, or items with different sample rates or channel counts.
    """
    return _collate(batch, None)


def collate_fixed_length(batch: Sequence[Mapping[str, Any]], target_length: int) -> Dict[str, Any]:
    """Pad with zeros or truncate every waveform of a batch to ``target_length`` samples.

    Use ``functools.partial(collate_fixed_length, target_length=n)`` as a DataLoader's
    ``collate_fn`` (it pickles, unlike a lambda).

    Parameters
    ----------
    batch : list of dict
        Items as :class:`AudioDataset` returns them.
    target_length : int
        Samples per waveform in the output (> 0). Longer items keep their first ``target_length``
        samples.

    Returns
    -------
    dict
        As :func:`collate_variable_length`, with ``"waveforms"`` of shape ``(B, target_length)``
        and ``"lengths"`` the samples kept (at most ``target_length``).
    """
    if isinstance(target_length, bool) or not isinstance(target_length, (int, np.integer)):
        raise TypeError(f"target_length must be an integer, got {type(target_length).__name__}")
    if target_length < 1:
        raise ValueError(f"target_length must be >= 1, got {target_length}")
    return _collate(batch, int(target_length))


class FeatureCollate:
    """A collate function that computes features for the whole batch in one engine call.

    The waveforms are collated as by :func:`collate_variable_length` (or
    :func:`collate_fixed_length` with ``fixed_length``), then ``plan.compute_batch`` runs on every
    item cut to its own length, so each item's features equal ``plan.compute(item)`` bit for bit
    and padding never leaks into real frames.

    Parameters
    ----------
    plan : a spectrograms plan
        E.g. ``SpectrogramPlanner().mel_db_plan(params, mel, dtype="float32")``. Plans pickle, so
        the collate works in DataLoader workers started with any method.
    fixed_length : int, optional
        Pad or truncate the waveforms to this many samples; the features then always have
        ``plan.output_shape(fixed_length)[1]`` frames.
    dtype : {"float32", "float64"}
        The dtype the features must have; it must be the plan's dtype (this is checked, nothing is
        converted).
    n_threads : int
        Engine threads per batch (default 1: with ``num_workers`` workers, ``num_workers`` cores).
        Raise it when collating in the main process (``num_workers=0``).

    Notes
    -----
    The call returns the fields of :func:`collate_variable_length` plus:

    - ``"features"``: ``(B, n_bins, max_frames)`` (``(B, C, n_bins, max_frames)`` for multichannel
      items), a tensor made by ``torch.from_dlpack`` on the engine's batch, without a copy (it is
      copied once only to pad to ``fixed_length`` frames). Frames past an item's own are exactly 0.
    - ``"feature_lengths"``: ``(B,)`` int64, ``plan.output_shape(length)[1]`` for each item.
    - ``"feature_mask"``: ``(B, max_frames)`` bool, True on an item's frames.

    The plan's sample rate must equal the batch's (``resample_rate`` on the dataset).

    A DataLoader worker hands its batch to the main process through shared memory, which costs one
    copy of every tensor not already there; that is PyTorch's mechanism, the same for any collate.
    The pickled plan carries FFTW's wisdom, so workers started with ``spawn`` choose the same FFT
    algorithms as the parent and give the same bits.
    """

    def __init__(self, plan: Any, fixed_length: Optional[int] = None, dtype: Any = "float32", n_threads: int = 1) -> None:
        if not (hasattr(plan, "compute_batch") and hasattr(plan, "output_shape") and hasattr(plan, "dtype")):
            raise TypeError(
                f"plan must be a spectrograms plan (from SpectrogramPlanner), got {type(plan).__name__}"
            )
        want = resolve_dtype(dtype)
        if np.dtype(plan.dtype) != want:
            raise ValueError(
                f"the plan computes {np.dtype(plan.dtype).name} but dtype={want.name!r} was asked for; "
                f"build the plan with dtype={want.name!r} (e.g. planner.mel_db_plan(params, mel, dtype={want.name!r})) "
                "or pass dtype=plan.dtype"
            )
        if fixed_length is not None:
            if isinstance(fixed_length, bool) or not isinstance(fixed_length, (int, np.integer)):
                raise TypeError(f"fixed_length must be an integer or None, got {type(fixed_length).__name__}")
            if fixed_length < 1:
                raise ValueError(f"fixed_length must be >= 1, got {fixed_length}")
            fixed_length = int(fixed_length)
        self.plan = plan
        self.fixed_length = fixed_length
        self.dtype = want
        self.n_threads = _check(n_threads)

    @property
    def sample_rate(self) -> Optional[float]:
        """The plan's sample rate in Hz."""
        params = getattr(self.plan, "params", None)
        return None if params is None else float(params.sample_rate)

    def __call__(self, batch: Sequence[Mapping[str, Any]]) -> Dict[str, Any]:
        """Collate ``batch`` and compute its features; see the class notes for the keys."""
        out = _collate(batch, self.fixed_length)
        rate, plan_rate = out["sample_rate"], self.sample_rate
        if rate is not None and plan_rate is not None and float(rate) != plan_rate:
            raise ValueError(
                f"the batch is at {rate} Hz but the plan expects {plan_rate:g} Hz; set "
                f"resample_rate={plan_rate:g} on the dataset or build the plan for {rate} Hz"
            )
        waves = out["waveforms"]
        lengths = out["lengths"].tolist()
        B = waves.shape[0]
        channels = tuple(waves.shape[1:-1])
        flat = waves.reshape(-1, waves.shape[-1]).numpy()
        per = int(np.prod(channels)) if channels else 1
        signals = [flat[k, : lengths[k // per]] for k in range(flat.shape[0])]
        result = self.plan.compute_batch(signals, n_threads=self.n_threads, pad=True)
        features = torch.from_dlpack(result)
        frames = torch.from_numpy(np.array(result.lengths[::per], dtype=np.int64))
        n_frames = features.shape[-1]
        if self.fixed_length is not None:
            fixed_frames = int(self.plan.output_shape(self.fixed_length)[1])
            if n_frames < fixed_frames:
                features = torch.nn.functional.pad(features, (0, fixed_frames - n_frames))
            n_frames = fixed_frames
        if channels:
            features = features.reshape((B,) + channels + tuple(features.shape[1:]))
        out["features"] = features
        out["feature_lengths"] = frames
        out["feature_mask"] = torch.arange(n_frames)[None, :] < frames[:, None]
        return out

    def __repr__(self) -> str:
        return f"FeatureCollate({self.plan!r}, fixed_length={self.fixed_length}, n_threads={self.n_threads})"


# ================================================================================ the sampler


class StratifiedBatchSampler(Sampler):
    """Batches with about equal numbers of each class; every item once per epoch.

    Each epoch, the items of every class are shuffled, the class lists are interleaved round-robin
    (one item of each class in turn, in a class order shuffled once per epoch) and the sequence is
    cut into batches. While every class still has items, any ``batch_size`` consecutive items hold
    each class ``floor(batch_size / K)`` or ``ceil(batch_size / K)`` times; once the smaller classes
    run out, the last batches hold the larger classes only.

    Parameters
    ----------
    dataset_or_labels : AudioDataset, dataset or sequence
        An :class:`AudioDataset` (its class target, or the column named by ``key``), a dataset with
        a ``targets`` or ``labels`` attribute, or the label of every item (list, numpy array or
        tensor of hashable values).
    batch_size : int
        Items per batch.
    drop_last : bool
        Drop the last batch when it is incomplete.
    key : str or callable, optional
        With an :class:`AudioDataset`: the column to stratify by (a target or any metadata column).
        A callable is called with each item index and returns its group (e.g.
        ``lambda i: ds.row(i)["speaker"]``).
    seed : int, optional
        Seed of the shuffles. None: drawn from PyTorch's default generator when ``num_replicas``
        is 1 (so ``torch.manual_seed`` makes it reproducible), 0 otherwise (every rank must use the
        same seed, as with ``DistributedSampler``).
    num_replicas : int
        Number of processes sharing the epoch (the distributed world size).
    rank : int
        This process's rank, ``0 <= rank < num_replicas``.

    Notes
    -----
    Call :meth:`set_epoch` at the start of every epoch, as with ``DistributedSampler``. If it is
    never called, each pass over the sampler advances the epoch by itself, so epochs still differ;
    once it is called, the epoch changes only when you call it.

    With ``num_replicas > 1`` the epoch's batches are dealt out like ``DistributedSampler`` deals
    items: rank ``r`` gets batches ``r, r + R, r + 2R, ...``. When the batch count is not a
    multiple of ``R``, ``drop_last=True`` drops the extra batches and ``drop_last=False`` repeats
    batches from the start of the epoch, so that every rank runs the same number of steps.

    Use it as a DataLoader's ``batch_sampler`` (or ``sampler=`` of :func:`create_dataloader`).
    """

    def __init__(
        self,
        dataset_or_labels: Any,
        batch_size: int,
        drop_last: bool = False,
        key: Union[str, Callable[[int], Hashable], None] = None,
        seed: Optional[int] = None,
        num_replicas: int = 1,
        rank: int = 0,
    ) -> None:
        self.batch_size = _check(batch_size, "batch_size")
        self.num_replicas = _check(num_replicas, "num_replicas")
        if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)) or not 0 <= rank < self.num_replicas:
            raise ValueError(f"rank must be an integer in [0, {self.num_replicas - 1}], got {rank!r}")
        self.rank = int(rank)
        self.drop_last = bool(drop_last)
        labels = self._resolve_labels(dataset_or_labels, key)
        if not labels:
            raise ValueError("StratifiedBatchSampler needs at least one item")
        groups: Dict[Hashable, List[int]] = {}
        for i, lab in enumerate(labels):
            try:
                groups.setdefault(lab, []).append(i)
            except TypeError:
                raise TypeError(f"label of item {i} is not hashable: {lab!r}") from None
        self._classes = _sorted_values(groups)
        self._groups = [np.asarray(groups[c], dtype=np.int64) for c in self._classes]
        self._n = len(labels)
        if seed is None:
            seed = int(torch.randint(0, 2**62, (), dtype=torch.int64).item()) if self.num_replicas == 1 else 0
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
        self.seed = int(seed)
        self.epoch = 0
        self._explicit_epoch = False

    @staticmethod
    def _resolve_labels(source: Any, key: Any) -> List[Hashable]:
        if isinstance(source, AudioDataset):
            if callable(key):
                return [key(i) for i in range(len(source))]
            return source.stratify_labels(key)
        if callable(key):
            return [key(i) for i in range(len(source))]
        if key is not None:
            raise TypeError("key= as a column name needs an AudioDataset; pass a callable index -> group")
        if isinstance(source, (torch.Tensor, np.ndarray, list, tuple)):
            return _as_list(source)
        for attr in ("targets", "labels"):
            value = getattr(source, attr, None)
            if value is not None and not callable(value):
                return _as_list(value)
        raise TypeError(
            f"cannot find the labels of a {type(source).__name__}: pass the labels themselves, a dataset "
            "with a 'targets' or 'labels' attribute, or key=callable(index) -> group"
        )

    @property
    def classes(self) -> List[Hashable]:
        """The groups, sorted."""
        return list(self._classes)

    def set_epoch(self, epoch: int) -> None:
        """Use ``epoch`` for the next pass (the shuffles depend on ``seed`` and ``epoch`` only).

        Parameters
        ----------
        epoch : int
            The epoch number (>= 0).
        """
        if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or epoch < 0:
            raise ValueError(f"epoch must be a non-negative integer, got {epoch!r}")
        self.epoch = int(epoch)
        self._explicit_epoch = True

    def _epoch_batches(self, epoch: int) -> List[List[int]]:
        rng = np.random.default_rng([self.seed, epoch])
        lists = [rng.permutation(g) for g in self._groups]
        order = rng.permutation(len(lists))
        longest = max(len(g) for g in lists)
        stacked = np.full((longest, len(lists)), -1, dtype=np.int64)
        for col, k in enumerate(order):
            stacked[: len(lists[k]), col] = lists[k]
        sequence = stacked.ravel()
        sequence = sequence[sequence >= 0]
        B = self.batch_size
        batches = [sequence[s:s + B].tolist() for s in range(0, len(sequence), B)]
        if self.drop_last and batches and len(batches[-1]) < B:
            batches.pop()
        R = self.num_replicas
        if R > 1:
            if self.drop_last:
                batches = batches[: len(batches) // R * R]
            elif batches:
                total = -(-len(batches) // R) * R
                k = 0
                while len(batches) < total:
                    batches.append(batches[k])
                    k += 1
            batches = batches[self.rank::R]
        return batches

    def __iter__(self) -> Iterator[List[int]]:
        batches = self._epoch_batches(self.epoch)
        if not self._explicit_epoch:
            self.epoch += 1
        return iter(batches)

    def __len__(self) -> int:
        B, R = self.batch_size, self.num_replicas
        nb = self._n // B if self.drop_last else -(-self._n // B)
        if R == 1:
            return nb
        return nb // R if self.drop_last else -(-nb // R)

    def __repr__(self) -> str:
        return (f"StratifiedBatchSampler({self._n} items, {len(self._classes)} classes, batch_size={self.batch_size}, "
                f"drop_last={self.drop_last}, seed={self.seed}, rank={self.rank}/{self.num_replicas})")


# ================================================================================ the loader


def default_num_workers() -> int:
    """The default ``num_workers`` of :func:`create_dataloader`: ``min(4, cores - 1)``.

    ``cores`` is the number of cores this process may run on (``os.sched_getaffinity``, which
    respects taskset, cgroups and container limits). One core is left to the main process, which
    runs the training step; on a single core the data is loaded in the main process (0 workers).

    Returns
    -------
    int
    """
    return max(0, min(4, _available_cores() - 1))


def create_dataloader(
    dataset: Dataset,
    batch_size: int = 16,
    shuffle: bool = True,
    num_workers: Optional[int] = None,
    fixed_length: Optional[int] = None,
    features: Any = None,
    pin_memory: Optional[bool] = None,
    sampler: Any = None,
    multiprocessing_context: Any = None,
    **kwargs: Any,
) -> DataLoader:
    """A DataLoader for an audio dataset, with the right collate function and worker settings.

    Parameters
    ----------
    dataset : torch.utils.data.Dataset
        Usually an :class:`AudioDataset` (any dataset whose items are dicts with a ``"waveform"``).
    batch_size : int
        Items per batch (ignored when ``sampler`` is a batch sampler).
    shuffle : bool
        Reshuffle every epoch (ignored when a ``sampler`` is given: it decides the order).
    num_workers : int, optional
        Worker processes. None: :func:`default_num_workers`, ``min(4, cores - 1)``.
    fixed_length : int, optional
        Pad or truncate every waveform to this many samples (:func:`collate_fixed_length`).
    features : plan or FeatureCollate, optional
        A spectrograms plan: batches also carry ``"features"``, ``"feature_lengths"`` and
        ``"feature_mask"``, computed by :class:`FeatureCollate` with one engine thread per worker.
        A :class:`FeatureCollate` is used as it is. None: waveforms only.
    pin_memory : bool, optional
        Default: ``torch.cuda.is_available()``.
    sampler : Sampler, optional
        A batch sampler (:class:`StratifiedBatchSampler`, ``torch.utils.data.BatchSampler``) is
        passed as ``batch_sampler``; any other sampler as ``sampler``.
    multiprocessing_context : str or context, optional
        ``"fork"``, ``"spawn"`` or ``"forkserver"`` (PyTorch's default when None).
    **kwargs
        Passed to :class:`torch.utils.data.DataLoader` (``drop_last``, ``generator``,
        ``prefetch_factor``, ``worker_init_fn``, ``timeout``, ``collate_fn``...).
        ``persistent_workers`` defaults to True when there are workers.

    Returns
    -------
    torch.utils.data.DataLoader
    """
    if num_workers is None:
        num_workers = default_num_workers()
    if isinstance(num_workers, bool) or not isinstance(num_workers, (int, np.integer)) or num_workers < 0:
        raise ValueError(f"num_workers must be a non-negative integer or None, got {num_workers!r}")
    collate_fn = kwargs.pop("collate_fn", None)
    if collate_fn is not None and (features is not None or fixed_length is not None):
        raise ValueError("pass either collate_fn or features/fixed_length, not both")
    if collate_fn is None:
        if isinstance(features, FeatureCollate):
            if fixed_length is not None and fixed_length != features.fixed_length:
                raise ValueError("fixed_length differs from the FeatureCollate's fixed_length")
            collate_fn = features
        elif features is not None:
            collate_fn = FeatureCollate(features, fixed_length=fixed_length, dtype=np.dtype(features.dtype).name,
                                        n_threads=1)
        elif fixed_length is not None:
            collate_fixed_length([{"waveform": torch.zeros(1)}], fixed_length)  # validates fixed_length
            collate_fn = functools.partial(collate_fixed_length, target_length=int(fixed_length))
        else:
            collate_fn = collate_variable_length
    if pin_memory is None:
        pin_memory = torch.cuda.is_available()
    if num_workers > 0:
        kwargs.setdefault("persistent_workers", True)
        if multiprocessing_context is not None:
            kwargs["multiprocessing_context"] = multiprocessing_context
    options: Dict[str, Any] = dict(num_workers=int(num_workers), collate_fn=collate_fn, pin_memory=bool(pin_memory))
    if sampler is not None and isinstance(sampler, (StratifiedBatchSampler, BatchSampler)):
        if kwargs.get("drop_last"):
            raise ValueError("drop_last belongs to the batch sampler; set it there")
        kwargs.pop("drop_last", None)
        options["batch_sampler"] = sampler
    elif sampler is not None:
        options.update(batch_size=batch_size, sampler=sampler)
    else:
        options.update(batch_size=batch_size, shuffle=bool(shuffle))
    options.update(kwargs)
    return DataLoader(dataset, **options)
