"""spectrograms.data: AudioDataset, collation, FeatureCollate, StratifiedBatchSampler, create_dataloader.

The data are synthetic and made once per module in a temporary folder: WAV and FLAC files at
44.1 kHz, of different lengths, stereo and mono, listed in a CSV and a Parquet table with three
splits, a string and a numeric target, and one corrupt file.
"""

from __future__ import annotations

import collections
import functools
import logging
import os
import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pd = pytest.importorskip("pandas")
pytest.importorskip("soundfile")
pytest.importorskip("soxr")

import spectrograms as sg  # noqa: E402
from spectrograms.data import (  # noqa: E402
    AudioDataset,
    FeatureCollate,
    StratifiedBatchSampler,
    collate_fixed_length,
    collate_variable_length,
    create_dataloader,
    default_num_workers,
)

SR = 44100
FREQS = {"cat": 660.0, "dog": 220.0}


def _tone(freq: float, n: int, channels: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / SR
    x = 0.4 * np.sin(2 * np.pi * freq * t + rng.uniform(0, 2 * np.pi)) + 0.05 * rng.standard_normal(n)
    x = x.astype(np.float32)
    if channels == 1:
        return x
    return np.stack([x, 0.5 * x])


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """15 files (8 train, 4 val, 3 test of which one is corrupt), a CSV and a Parquet table."""
    root = tmp_path_factory.mktemp("corpus")
    (root / "audio").mkdir()
    rows = []
    plan = [  # split, animal, seconds, channels, format
        ("train", "cat", 0.30, 1, "wav"), ("train", "dog", 0.12, 2, "flac"),
        ("train", "cat", 0.05, 2, "flac"), ("train", "dog", 0.21, 1, "wav"),
        ("train", "cat", 0.17, 1, "flac"), ("train", "dog", 0.26, 2, "wav"),
        ("train", "cat", 0.09, 2, "wav"), ("train", "dog", 0.33, 1, "flac"),
        ("val", "cat", 0.15, 1, "wav"), ("val", "dog", 0.10, 2, "flac"),
        ("val", "cat", 0.22, 2, "flac"), ("val", "dog", 0.07, 1, "wav"),
        ("test", "cat", 0.11, 1, "flac"), ("test", "dog", 0.19, 2, "wav"),
    ]
    for i, (split, animal, seconds, ch, fmt) in enumerate(plan):
        name = f"audio/{animal}_{i:02d}.{fmt}"
        sg.save(root / name, _tone(FREQS[animal], int(seconds * SR), ch, i), SR,
                subtype="PCM_24" if fmt == "flac" else "FLOAT")
        rows.append(dict(path=name, split=split, animal=animal, score=10.0 + 5 * i, channels=ch,
                         uid=f"clip-{i:02d}"))
    (root / "audio" / "broken.flac").write_bytes(b"fLaC" + bytes(range(256)) * 4)
    rows.append(dict(path="audio/broken.flac", split="test", animal="cat", score=99.0, channels=1, uid="clip-14"))
    df = pd.DataFrame(rows)
    df.to_csv(root / "meta.csv", index=False)
    df.to_parquet(root / "meta.parquet", index=False)
    return root


@pytest.fixture(scope="module")
def plan():
    params = sg.SpectrogramParams(sg.StftParams(512, 128, sg.WindowType.hanning), 16000.0)
    return sg.SpectrogramPlanner().mel_db_plan(params, sg.MelParams(40, 0.0, 8000.0), dtype="float32")


def _train(corpus, **kw):
    kw.setdefault("target", "animal")
    return AudioDataset(corpus / "meta.csv", split="train", **kw)


# =============================================================================== the dataset


def test_csv_and_parquet_give_the_same_items(corpus):
    a = _train(corpus, resample_rate=16000)
    b = AudioDataset(corpus / "meta.parquet", split="train", target="animal", resample_rate=16000)
    df = pd.read_csv(corpus / "meta.csv")
    c = AudioDataset(df, root=corpus, split="train", target="animal", resample_rate=16000)
    assert len(a) == len(b) == len(c) == 8
    for i in range(len(a)):
        x, y, z = a[i], b[i], c[i]
        assert torch.equal(x["waveform"], y["waveform"]) and torch.equal(x["waveform"], z["waveform"])
        assert x["label"] == y["label"] == z["label"]
        assert x["sample_id"] == y["sample_id"] == z["sample_id"]
        assert {k: v for k, v in x.items() if k != "waveform" and k != "label"} == \
               {k: v for k, v in y.items() if k != "waveform" and k != "label"}


def test_item_fields(corpus):
    ds = _train(corpus)
    df = pd.read_csv(corpus / "meta.csv")
    item = ds[1]
    assert set(item) == {"waveform", "label", "sample_id", "sample_rate", "path", "split", "animal", "score",
                         "channels", "uid"}
    w = item["waveform"]
    assert w.dtype == torch.float32 and w.ndim == 1
    ref, sr = sg.load(corpus / df.path[1])  # stereo file averaged to mono
    assert sr == item["sample_rate"] == SR
    np.testing.assert_array_equal(w.numpy(), ref)
    assert item["label"].dtype == torch.int64 and item["label"].ndim == 0
    assert ds.id_to_class[int(item["label"])] == item["animal"] == "dog"
    assert item["sample_id"] == 1 and item["path"] == df.path[1] and item["score"] == df.score[1]
    assert ds.paths[1] == os.path.join(str(corpus), df.path[1])
    # ids are the rows of the table, before the split filter
    val = AudioDataset(corpus / "meta.csv", split="val", target="animal")
    assert val.sample_ids == [8, 9, 10, 11]
    assert AudioDataset(corpus / "meta.csv", split="val", id_column="uid")[0]["sample_id"] == "clip-08"
    assert ds[-1]["sample_id"] == 7
    # a numeric split column (numbered folds), one value or several
    folds = AudioDataset(corpus / "meta.csv", split=2, split_column="channels")
    assert len(folds) == 7 and all(folds.row(i)["channels"] == 2 for i in range(7))
    assert len(AudioDataset(corpus / "meta.csv", split=[1, 2], split_column="channels")) == 15
    with pytest.raises(IndexError):
        ds[8]


def test_mono_false_keeps_channels(corpus):
    ds = _train(corpus, mono=False)
    for i in range(len(ds)):
        item = ds[i]
        assert item["waveform"].ndim == 2 and item["waveform"].shape[0] == item["channels"]
    stereo = ds[1]["waveform"]
    np.testing.assert_allclose(stereo[1].numpy(), 0.5 * stereo[0].numpy(), atol=2e-7)


def test_resample_truncate_normalise_transform(corpus):
    full = _train(corpus, resample_rate=16000)
    cut = _train(corpus, resample_rate=16000, max_length_sec=0.1)
    for i in range(len(full)):
        n = full[i]["waveform"].shape[0]
        assert full[i]["sample_rate"] == 16000
        assert cut[i]["waveform"].shape[0] == min(n, 1600)
    peak = _train(corpus, normalize_audio=True)
    for i in range(len(peak)):
        assert float(peak[i]["waveform"].abs().max()) == pytest.approx(1.0, abs=1e-6)
    half = _train(corpus, transform=functools.partial(torch.mul, other=0.5))
    assert torch.equal(half[3]["waveform"], 0.5 * _train(corpus)[3]["waveform"])


def test_resampled_lengths(corpus):
    ds = _train(corpus, resample_rate=16000)
    raw = _train(corpus)
    for i in range(len(ds)):
        assert abs(ds[i]["waveform"].shape[0] - raw[i]["waveform"].shape[0] * 16000 / SR) <= 1


def test_string_targets_share_ids_across_splits(corpus):
    train, val = _train(corpus), AudioDataset(corpus / "meta.csv", split="val", target="animal")
    assert train.classes == val.classes == ["cat", "dog"]
    assert train.class_to_id == {"cat": 0, "dog": 1} and train.id_to_class == {0: "cat", 1: "dog"}
    assert train.num_classes == 2
    assert train.labels.tolist() == [0, 1, 0, 1, 0, 1, 0, 1]
    # a split holding one class only still uses the table's ids
    only_dog = AudioDataset(pd.read_csv(corpus / "meta.csv").iloc[[1, 3, 0]].assign(split=["a", "a", "b"]),
                            root=corpus, split="a", target="animal")
    assert only_dog.classes == ["cat", "dog"] and only_dog.labels.tolist() == [1, 1]
    # explicit classes
    fixed = _train(corpus, classes=["dog", "cat", "bird"])
    assert fixed.class_to_id == {"dog": 0, "cat": 1, "bird": 2} and fixed.labels.tolist()[:2] == [1, 0]
    with pytest.raises(ValueError, match="not in classes"):
        _train(corpus, classes=["dog"])


def test_numeric_targets(corpus):
    raw = _train(corpus, target="score")
    assert raw.target_kinds == {"score": "numeric"} and raw.classes == [] and raw.target_range is None
    assert raw[2]["label"].dtype == torch.float32 and float(raw[2]["label"]) == 20.0
    norm = _train(corpus, target="score", normalize_targets=True)
    assert norm.target_range == (10.0, 99.0)  # over the whole table, all splits
    y = norm.labels
    np.testing.assert_allclose(y, (10.0 + 5 * np.arange(8) - 10.0) / 89.0, rtol=1e-6)
    assert y.min() >= 0 and y.max() <= 1
    assert float(norm.denormalize(norm[3]["label"])) == pytest.approx(25.0)
    whole = AudioDataset(corpus / "meta.csv", target="score", normalize_targets=True)
    assert whole.labels.min() == 0.0 and whole.labels.max() == 1.0
    given = _train(corpus, target="score", normalize_targets=True, target_range=(0.0, 100.0))
    np.testing.assert_allclose(given.labels, (10.0 + 5 * np.arange(8)) / 100.0, rtol=1e-6)
    as_class = _train(corpus, target="channels", target_types="class")
    assert as_class.classes == [1, 2] and as_class[1]["label"].dtype == torch.int64


def test_multi_task_targets(corpus):
    ds = _train(corpus, target=["animal", "score"], normalize_targets=True)
    item = ds[1]
    assert set(item["label"]) == {"animal", "score"}
    assert item["label"]["animal"].dtype == torch.int64 and int(item["label"]["animal"]) == 1
    assert item["label"]["score"].dtype == torch.float32
    assert ds.classes == {"animal": ["cat", "dog"]}
    assert ds.class_to_id == {"animal": {"cat": 0, "dog": 1}}
    assert ds.target_range == {"score": (10.0, 99.0)}
    batch = collate_variable_length([ds[i] for i in range(4)])
    assert batch["labels"]["animal"].tolist() == [0, 1, 0, 1]
    assert batch["labels"]["score"].dtype == torch.float32 and batch["labels"]["score"].shape == (4,)


def test_from_folder(tmp_path):
    for cls, n in (("piano", 3), ("drums", 2)):
        (tmp_path / cls / "sub").mkdir(parents=True)
        for i in range(n):
            where = tmp_path / cls / ("sub" if i == 0 else "") / f"{i}.wav"
            sg.save(where, _tone(440.0, 2000 + 100 * i, 1, i), SR)
    (tmp_path / "piano" / "notes.txt").write_text("not audio")
    (tmp_path / "loose.wav").write_bytes(b"")  # not in a class folder: ignored
    ds = AudioDataset.from_folder(tmp_path, resample_rate=16000)
    assert len(ds) == 5 and ds.classes == ["drums", "piano"]
    assert ds.sample_ids == ["drums/1.wav", "drums/sub/0.wav", "piano/1.wav", "piano/2.wav", "piano/sub/0.wav"]
    assert ds.labels.tolist() == [0, 0, 1, 1, 1]
    item = ds[4]
    assert item["class"] == "piano" and int(item["label"]) == 1 and item["sample_rate"] == 16000
    assert len(AudioDataset.from_folder(tmp_path, extensions=[".flac"] + [".WAV"])) == 5
    with pytest.raises(ValueError, match="no audio files"):
        AudioDataset.from_folder(tmp_path, extensions=(".mp3",))


# =============================================================================== collation


def test_collate_variable_length(corpus):
    ds = _train(corpus)
    items = [ds[i] for i in range(5)]
    batch = collate_variable_length(items)
    lengths = [it["waveform"].shape[0] for it in items]
    assert batch["waveforms"].shape == (5, max(lengths)) and batch["waveforms"].dtype == torch.float32
    assert batch["lengths"].dtype == torch.int64 and batch["lengths"].tolist() == lengths
    assert batch["attention_mask"].dtype == torch.bool
    for b, it in enumerate(items):
        n = lengths[b]
        assert torch.equal(batch["waveforms"][b, :n], it["waveform"])
        assert (batch["waveforms"][b, n:] == 0).all()
        assert batch["attention_mask"][b, :n].all() and not batch["attention_mask"][b, n:].any()
    assert batch["labels"].tolist() == [0, 1, 0, 1, 0] and batch["labels"].dtype == torch.int64
    assert batch["sample_ids"] == [0, 1, 2, 3, 4] and batch["sample_rate"] == SR
    assert batch["metadata"]["animal"] == ["cat", "dog", "cat", "dog", "cat"]
    assert set(batch["metadata"]) == {"path", "split", "animal", "score", "channels", "uid"}


def test_collate_fixed_length(corpus):
    ds = _train(corpus)
    items = [ds[i] for i in range(4)]
    lengths = [it["waveform"].shape[0] for it in items]
    target = 6000  # between the shortest (2205) and the longest (13230)
    assert min(lengths) < target < max(lengths)
    batch = collate_fixed_length(items, target)
    assert batch["waveforms"].shape == (4, target)
    assert batch["lengths"].tolist() == [min(n, target) for n in lengths]
    for b, it in enumerate(items):
        n = min(lengths[b], target)
        assert torch.equal(batch["waveforms"][b, :n], it["waveform"][:n])
        assert (batch["waveforms"][b, n:] == 0).all()
        assert batch["attention_mask"][b].sum() == n
    with pytest.raises(ValueError):
        collate_fixed_length(items, 0)


def test_collate_errors(corpus):
    ds = _train(corpus, mono=False)
    with pytest.raises(ValueError, match="channel counts"):
        collate_variable_length([ds[0], ds[1]])  # mono file (1, L) and stereo file (2, L)
    a, b = _train(corpus)[0], _train(corpus, resample_rate=16000)[1]
    with pytest.raises(ValueError, match="sample rates"):
        collate_variable_length([a, b])
    with pytest.raises(ValueError, match="empty"):
        collate_variable_length([])


def _check_features(batch, items, plan, fixed=None):
    feats = batch["features"]
    lengths = [min(it["waveform"].shape[-1], fixed or 10**9) for it in items]
    frames = [plan.output_shape(n)[1] for n in lengths]
    width = plan.output_shape(fixed)[1] if fixed else max(frames)
    assert feats.dtype == torch.float32 and feats.shape[-2:] == (plan.n_bins, width)
    assert batch["feature_lengths"].dtype == torch.int64 and batch["feature_lengths"].tolist() == frames
    expected_mask = torch.arange(width)[None, :] < torch.tensor(frames)[:, None]
    assert batch["feature_mask"].dtype == torch.bool and torch.equal(batch["feature_mask"], expected_mask)
    for b, it in enumerate(items):
        w = it["waveform"][..., : lengths[b]]
        for c in range(w.shape[0]) if w.ndim == 2 else [None]:
            x = w[c] if c is not None else w
            f = feats[b, c] if c is not None else feats[b]
            ref = plan.compute(x.numpy()).data
            assert np.array_equal(f[:, : frames[b]].numpy(), ref), f"item {b} differs from plan.compute"
            assert (f[:, frames[b]:] == 0).all()


def test_feature_collate_matches_plan_compute(corpus, plan):
    ds = _train(corpus, resample_rate=16000)
    items = [ds[i] for i in range(len(ds))]
    collate = FeatureCollate(plan)
    batch = collate(items)
    _check_features(batch, items, plan)
    assert batch["waveforms"].shape[0] == 8 and batch["labels"].tolist() == [0, 1] * 4
    # fixed length: every batch has the frames of fixed_length
    for fixed in (1200, 20000):
        batch = FeatureCollate(plan, fixed_length=fixed)(items[:3])
        _check_features(batch, items[:3], plan, fixed)
    # pickles (DataLoader workers) and gives the same result after the trip
    again = pickle.loads(pickle.dumps(collate))(items)
    assert torch.equal(again["features"], collate(items)["features"])


class _RecordingPlan:
    """Duck-typed plan that keeps the engine batch it returned."""

    def __init__(self, plan):
        self.inner, self.last = plan, None
        self.dtype, self.params, self.n_bins = plan.dtype, plan.params, plan.n_bins

    def output_shape(self, n):
        return self.inner.output_shape(n)

    def compute_batch(self, signals, n_threads=None, pad=True):
        self.last = self.inner.compute_batch(signals, n_threads=n_threads, pad=pad)
        return self.last


def test_feature_collate_is_zero_copy(corpus, plan):
    ds = _train(corpus, resample_rate=16000)
    recording = _RecordingPlan(plan)
    batch = FeatureCollate(recording)([ds[i] for i in range(4)])
    engine = recording.last
    assert batch["features"].data_ptr() == engine.data.ctypes.data
    assert batch["feature_lengths"].tolist() == engine.lengths.tolist()
    del engine, recording
    assert torch.isfinite(batch["features"]).all()  # the tensor keeps the engine's memory alive


def test_feature_collate_multichannel(corpus, plan):
    df = pd.read_csv(corpus / "meta.csv")
    stereo = AudioDataset(df[df.channels == 2], root=corpus, mono=False, resample_rate=16000, target="animal")
    items = [stereo[i] for i in range(3)]
    batch = FeatureCollate(plan)(items)
    assert batch["features"].shape[:3] == (3, 2, plan.n_bins)
    _check_features(batch, items, plan)


def test_feature_collate_checks(corpus, plan):
    with pytest.raises(ValueError, match="float32"):
        FeatureCollate(plan, dtype="float64")
    items = [_train(corpus)[i] for i in range(2)]  # 44.1 kHz, the plan is for 16 kHz
    with pytest.raises(ValueError, match="resample_rate=16000"):
        FeatureCollate(plan)(items)
    with pytest.raises(TypeError):
        FeatureCollate(object())


# =============================================================================== the sampler


def _labels(counts):
    return [c for c, n in counts.items() for _ in range(n)]


@pytest.mark.parametrize("counts, batch_size", [({"a": 12, "b": 12, "c": 12}, 6), ({"a": 10, "b": 10}, 4),
                                                ({"x": 7, "y": 7, "z": 7, "w": 7}, 5)])
def test_sampler_balance_and_coverage(counts, batch_size):
    labels = _labels(counts)
    rng = np.random.default_rng(0)
    labels = [labels[i] for i in rng.permutation(len(labels))]
    sampler = StratifiedBatchSampler(labels, batch_size, seed=1)
    batches = list(sampler)
    assert len(batches) == len(sampler) == -(-len(labels) // batch_size)
    flat = [i for b in batches for i in b]
    assert sorted(flat) == list(range(len(labels)))  # every item once
    for batch in batches:
        tally = collections.Counter(labels[i] for i in batch)
        per_class = [tally.get(c, 0) for c in counts]
        if len(batch) >= len(counts):
            assert max(per_class) - min(per_class) <= 1, (batch, tally)


def test_sampler_unbalanced_classes_and_drop_last():
    labels = _labels({"a": 20, "b": 5, "c": 3})
    s = StratifiedBatchSampler(labels, 4, seed=3)
    batches = list(s)
    assert sorted(i for b in batches for i in b) == list(range(28))
    first = collections.Counter(labels[i] for i in batches[0])
    assert set(first) == {"a", "b", "c"}  # every class while it lasts
    d = StratifiedBatchSampler(labels, 5, drop_last=True, seed=3)
    assert len(d) == 5 and len(list(d)) == 5 and all(len(b) == 5 for b in d)


def test_sampler_seed_and_epochs(corpus):
    labels = _labels({"a": 9, "b": 9})
    s1, s2 = StratifiedBatchSampler(labels, 4, seed=7), StratifiedBatchSampler(labels, 4, seed=7)
    s1.set_epoch(0)
    s2.set_epoch(0)
    e0 = list(s1)
    assert e0 == list(s2) == list(s1)  # deterministic; the epoch only moves with set_epoch
    s1.set_epoch(1)
    e1 = list(s1)
    assert e1 != e0 and sorted(sum(e1, [])) == sorted(sum(e0, []))
    s2.set_epoch(1)
    assert list(s2) == e1
    assert list(StratifiedBatchSampler(labels, 4, seed=8)) != e0
    # without set_epoch, each pass is a new epoch (still deterministic)
    auto = StratifiedBatchSampler(labels, 4, seed=7)
    assert list(auto) == e0 and list(auto) == e1
    torch.manual_seed(0)
    r1 = list(StratifiedBatchSampler(labels, 4))
    torch.manual_seed(0)
    assert list(StratifiedBatchSampler(labels, 4)) == r1
    # from an AudioDataset (no audio is read), with the class target or another column
    ds = _train(corpus)
    by_class = StratifiedBatchSampler(ds, 4, seed=0)
    assert all(sorted(ds.labels[b].tolist()) == [0, 0, 1, 1] for b in by_class)
    by_channels = StratifiedBatchSampler(ds, 2, key="channels", seed=0)
    assert by_channels.classes == [1, 2]
    assert all(sorted(ds.row(i)["channels"] for i in b) == [1, 2] for b in by_channels)


@pytest.mark.parametrize("n, batch_size, replicas, drop_last", [(24, 4, 2, False), (24, 3, 4, False),
                                                                 (26, 4, 3, False), (26, 4, 3, True)])
def test_sampler_replicas_partition_the_epoch(n, batch_size, replicas, drop_last):
    labels = [i % 3 for i in range(n)]
    whole = StratifiedBatchSampler(labels, batch_size, drop_last=drop_last, seed=5)
    parts = [StratifiedBatchSampler(labels, batch_size, drop_last=drop_last, seed=5, num_replicas=replicas, rank=r)
             for r in range(replicas)]
    for p in parts:
        p.set_epoch(2)
    whole.set_epoch(2)
    got = [list(p) for p in parts]
    assert len({len(g) for g in got}) == 1 and all(len(g) == len(p) for g, p in zip(got, parts))
    all_batches = list(whole)
    items = [i for g in got for b in g for i in b]
    if len(all_batches) % replicas == 0:  # an exact partition of the epoch's batches
        assert sorted(items) == sorted(i for b in all_batches for i in b)
        assert len(items) == len(set(items))
    elif drop_last:  # the extra batches are dropped: no item twice
        assert len(items) == len(set(items)) and len(got[0]) == len(all_batches) // replicas
    else:  # padded with batches from the start: every item at least once
        assert set(items) == set(range(n)) and len(got[0]) == -(-len(all_batches) // replicas)


def test_sampler_errors():
    with pytest.raises(ValueError):
        StratifiedBatchSampler([0, 1], 0)
    with pytest.raises(ValueError):
        StratifiedBatchSampler([0, 1], 2, num_replicas=2, rank=2)
    with pytest.raises(ValueError):
        StratifiedBatchSampler([], 2)
    with pytest.raises(TypeError, match="labels"):
        StratifiedBatchSampler(object(), 2)


# =============================================================================== loaders


def test_create_dataloader_options(corpus, plan):
    ds = _train(corpus, resample_rate=16000)
    loader = create_dataloader(ds, batch_size=4, shuffle=False, num_workers=0, features=plan)
    assert isinstance(loader.collate_fn, FeatureCollate) and loader.collate_fn.n_threads == 1
    assert loader.pin_memory == torch.cuda.is_available() and loader.num_workers == 0
    batches = list(loader)
    assert len(batches) == 2 and batches[0]["sample_ids"] == [0, 1, 2, 3]
    fixed = create_dataloader(ds, batch_size=3, shuffle=False, num_workers=0, fixed_length=1000)
    assert next(iter(fixed))["waveforms"].shape == (3, 1000)
    sampler = StratifiedBatchSampler(ds, 4, seed=0)
    strat = create_dataloader(ds, sampler=sampler, num_workers=0)
    assert strat.batch_sampler is sampler and len(strat) == 2
    assert all(b["labels"].sum() == 2 for b in strat)
    two = create_dataloader(ds, num_workers=2, multiprocessing_context="fork")
    assert two.persistent_workers and two.multiprocessing_context is not None
    assert default_num_workers() == max(0, min(4, len(os.sched_getaffinity(0)) - 1))
    with pytest.raises(ValueError):
        create_dataloader(ds, features=plan, collate_fn=collate_variable_length)


def _assert_same_batches(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert set(g) == set(w)
        for key in ("waveforms", "lengths", "labels", "attention_mask", "features", "feature_lengths",
                    "feature_mask"):
            assert torch.equal(g[key], w[key]), key
        assert g["sample_ids"] == w["sample_ids"] and g["metadata"] == w["metadata"]
        assert g["sample_rate"] == w["sample_rate"]


@pytest.mark.parametrize("context", ["fork", "spawn"])
def test_workers_give_the_same_batches(corpus, plan, context):
    ds = _train(corpus, resample_rate=16000, max_length_sec=0.25)
    want = list(create_dataloader(ds, batch_size=3, shuffle=False, num_workers=0, features=plan))
    loader = create_dataloader(ds, batch_size=3, shuffle=False, num_workers=2, features=plan,
                               multiprocessing_context=context)
    try:
        first = list(loader)
        second = list(loader)  # persistent workers serve a second epoch
    finally:
        del loader
    _assert_same_batches(first, want)
    _assert_same_batches(second, want)


# =============================================================================== training


class _MaskedMeanClassifier(torch.nn.Module):
    def __init__(self, n_bins: int, n_classes: int) -> None:
        super().__init__()
        self.norm = torch.nn.LayerNorm(n_bins)
        self.head = torch.nn.Sequential(torch.nn.Linear(n_bins, 16), torch.nn.ReLU(), torch.nn.Linear(16, n_classes))

    def forward(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = self.norm(features.transpose(1, 2))  # (B, T, n_bins)
        m = mask.unsqueeze(-1).to(x.dtype)
        pooled = (x * m).sum(1) / m.sum(1).clamp(min=1)
        return self.head(pooled)


def test_training_loop_on_features(tmp_path, plan):
    rows = []
    for i in range(16):
        kind = "low" if i % 2 else "high"
        freq = 300.0 if kind == "low" else 2500.0
        n = int((0.15 + 0.1 * (i % 4)) * SR)
        sg.save(tmp_path / f"{i}.flac", _tone(freq, n, 1, 100 + i), SR)
        rows.append({"path": f"{i}.flac", "pitch": kind})
    ds = AudioDataset(pd.DataFrame(rows), root=tmp_path, target="pitch", resample_rate=16000)
    loader = create_dataloader(ds, batch_size=8, num_workers=0, features=plan,
                               generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    model = _MaskedMeanClassifier(plan.n_bins, ds.num_classes)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    batches = [b for _ in range(6) for b in loader]  # 12 steps
    for batch in batches:
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(batch["features"], batch["feature_mask"]), batch["labels"])
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert np.mean(losses[-3:]) < 0.5 * np.mean(losses[:3]), losses


def test_optional_dependencies(tmp_path):
    """pandas/pyarrow are imported only for tables; without torch the import error says what to install."""
    import subprocess
    import sys

    (tmp_path / "a").mkdir()
    sg.save(tmp_path / "a" / "x.wav", _tone(440.0, 3000, 1, 0), SR)
    code = (
        "import sys\n"
        "sys.modules['pandas'] = None\n"
        "sys.modules['pyarrow'] = None\n"
        "from spectrograms.data import AudioDataset\n"
        f"ds = AudioDataset.from_folder({str(tmp_path)!r})\n"
        "assert ds[0]['waveform'].shape == (3000,)\n"
        "assert AudioDataset({'path': ['a/x.wav']}, root=%r)[0]['sample_rate'] == 44100\n" % str(tmp_path)
        + "try:\n    AudioDataset(%r)\nexcept ImportError as e:\n    assert 'spectrograms[data]' in str(e), e\n"
        "else:\n    raise AssertionError('no ImportError')\n" % str(tmp_path / "m.csv")
    )
    (tmp_path / "m.csv").write_text("path\na/x.wav\n")
    subprocess.run([sys.executable, "-c", code], check=True, env=os.environ.copy(), timeout=120)
    no_torch = ("import sys\nsys.modules['torch'] = None\n"
                "try:\n    import spectrograms.data\nexcept ImportError as e:\n"
                "    assert 'pip install spectrograms[torch]' in str(e), e\nelse:\n    raise SystemExit(1)\n")
    subprocess.run([sys.executable, "-c", no_torch], check=True, env=os.environ.copy(), timeout=120)


# =============================================================================== errors


def test_corrupt_file_raises_naming_file_and_row(corpus):
    ds = AudioDataset(corpus / "meta.csv", split="test", target="animal")
    assert len(ds) == 3
    ds[0], ds[1]
    with pytest.raises(sg.AudioReadError) as info:
        ds[2]
    msg = str(info.value)
    assert "broken.flac" in msg and "row 14" in msg
    assert info.value.path.endswith("broken.flac") and info.value.row == 14 and info.value.index == 2
    assert isinstance(info.value, OSError)


def test_skip_errors_counts_and_logs_once(corpus, caplog):
    ds = AudioDataset(corpus / "meta.csv", split="test", target="animal", skip_errors=True)
    with caplog.at_level(logging.WARNING, logger="spectrograms.data"):
        got = [ds[i]["sample_id"] for i in range(3)]
        again = [ds[i]["sample_id"] for i in range(3)]
    assert got == again == [12, 13, 12]  # the next readable item (wrapping) replaces the bad one
    assert ds.skipped == 1 and list(ds.errors) == [2] and "broken.flac" in ds.errors[2]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "broken.flac" in warnings[0].getMessage()
    batch = collate_variable_length([ds[i] for i in range(3)])
    assert batch["sample_ids"] == [12, 13, 12]


def test_table_errors(corpus, tmp_path):
    df = pd.read_csv(corpus / "meta.csv")
    with pytest.raises(ValueError, match="no path column 'file'.*'path', 'split', 'animal'"):
        AudioDataset(df, path_column="file")
    with pytest.raises(ValueError, match="unknown target column 'species'"):
        AudioDataset(corpus / "meta.csv", target="species")
    with pytest.raises(ValueError, match="unknown target column 'nope'"):
        AudioDataset(corpus / "meta.csv", target=["animal", "nope"])
    with pytest.raises(ValueError, match="split 'validation' selects no rows.*'test', 'train', 'val'"):
        AudioDataset(corpus / "meta.csv", split="validation")
    with pytest.raises(ValueError, match="no split column 'fold'"):
        AudioDataset(corpus / "meta.csv", split="train", split_column="fold")
    holes = df.copy()
    holes.loc[3, "animal"] = None
    with pytest.raises(ValueError, match="no value in 1 selected row"):
        AudioDataset(holes, root=corpus, split="train", target="animal")
    AudioDataset(holes, root=corpus, split="val", target="animal")  # the hole is in another split
    with pytest.raises(FileNotFoundError):
        AudioDataset(tmp_path / "missing.csv")
    (tmp_path / "meta.json").write_text("{}")
    with pytest.raises(ValueError, match="extension"):
        AudioDataset(tmp_path / "meta.json")
