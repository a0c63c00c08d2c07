"""spectrograms.dask and ``spectrograms extract --scheduler dask://``: a LocalCluster of 2 workers.

The same features bit for bit as a local run, no oversubscription, a worker killed mid-run loses
no file, and a scheduler that does not answer is a quick, clear error.
"""

from __future__ import annotations

import concurrent.futures
import os
import pathlib
import pickle
import socket
import time

import numpy as np
import pytest

import spectrograms as sg
from spectrograms import audio, cli

pytest.importorskip("soundfile")
pytest.importorskip("soxr")
dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
import dask.bag as db  # noqa: E402

import spectrograms.dask as sgd  # noqa: E402

SR = 16000
N_FILES = 40


# --------------------------------------------------------------------------- fixtures

def make_corpus(root: pathlib.Path, n: int = N_FILES) -> list:
    """``n`` WAV files of 0.2-2 s at 16 kHz (PCM16 and float), a third of them in a subfolder."""
    rng = np.random.default_rng(1234)
    files = []
    for i in range(n):
        seconds = 0.2 + 1.8 * rng.random()
        t = np.arange(int(SR * seconds)) / SR
        f0 = 100 + 900 * rng.random()
        x = 0.3 * np.sin(2 * np.pi * f0 * t) + 0.05 * rng.standard_normal(t.size)
        sub = root / "sub" if i % 3 == 0 else root
        sub.mkdir(parents=True, exist_ok=True)
        path = sub / f"clip{i:02d}.wav"
        audio.save(path, x.astype(np.float32), SR, subtype="FLOAT" if i % 2 else "PCM_16")
        files.append(path)
    return files


def npz_tree(out: pathlib.Path) -> dict:
    """{relative path: data} for every file under ``out`` (temporary files would show up too)."""
    found = {}
    for p in sorted(out.rglob("*")):
        if p.is_file():
            rel = str(p.relative_to(out))
            if p.suffix == ".npz":
                with np.load(p) as z:
                    found[rel] = (z["data"].copy(), str(z["params"]), float(z["sample_rate"]))
            else:
                found[rel] = None
    return found


def assert_same_tree(actual: dict, expected: dict) -> None:
    assert sorted(actual) == sorted(expected)
    for rel, (data, params, sr) in expected.items():
        got = actual[rel]
        assert got is not None, rel
        assert got[0].dtype == data.dtype and got[0].shape == data.shape, rel
        assert np.array_equal(got[0], data), f"{rel}: not bit for bit (max diff {np.abs(got[0] - data).max()})"
        assert got[2] == sr


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    files = make_corpus(root)
    return root, files


@pytest.fixture(scope="module")
def local_run(corpus, tmp_path_factory):
    """``spectrograms extract`` with the in-process pool: the reference."""
    root, _ = corpus
    out = tmp_path_factory.mktemp("local")
    assert cli.main(["extract", str(root), "--out", str(out), "--progress"]) == 0
    return npz_tree(out)


@pytest.fixture(scope="module")
def cluster():
    from distributed import Client, LocalCluster

    saved = dict(os.environ)  # the nanny sets MALLOC_TRIM_THRESHOLD_ etc. here for its workers
    try:
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None) as lc, Client(lc) as client:
            yield lc, client
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture()
def client(cluster):
    lc, client = cluster
    client.wait_for_workers(2, timeout=60)
    return client


def mel_plan(sample_rate=SR, dtype="float32"):
    params = sg.SpectrogramParams(sg.StftParams(2048, 512, sg.WindowType.hanning, True), sample_rate)
    return sg.SpectrogramPlanner().mel_db_plan(params, sg.MelParams(128), sg.LogParams(-80.0), dtype=dtype)


# --------------------------------------------------------------------------- extraction

def test_cli_dask_scheduler_same_bits(corpus, local_run, client, tmp_path, capsys):
    root, _ = corpus
    out = tmp_path / "dask"
    address = client.scheduler.address.replace("tcp://", "dask://")
    assert cli.main(["extract", str(root), "--out", str(out), "--scheduler", address, "--progress"]) == 0
    captured = capsys.readouterr()
    assert f"{N_FILES} written, 0 failed" in captured.out
    assert "extract: 100%" in captured.err  # the progress bar was fed from the futures
    assert_same_tree(npz_tree(out), local_run)


def test_cli_dask_relative_paths_report_like_local(corpus, client, tmp_path, monkeypatch, capsys):
    root, files = corpus
    (tmp_path / "in" / "deep").mkdir(parents=True)
    for f in files[:3]:
        (tmp_path / "in" / "deep" / f.name).write_bytes(f.read_bytes())
    monkeypatch.chdir(tmp_path)  # the workers' working directory is not this one: paths go absolute
    address = client.scheduler.address.replace("tcp://", "dask://")
    assert cli.main(["extract", "in", "--out", "local"]) == 0
    local = capsys.readouterr().out
    assert cli.main(["extract", "in", "--out", "remote", "--scheduler", address]) == 0
    remote = capsys.readouterr().out
    assert remote.replace("remote", "local") == local  # the same summary, the paths as typed
    assert sorted(p.name for p in (tmp_path / "remote" / "deep").iterdir()) == sorted(
        p.name for p in (tmp_path / "local" / "deep").iterdir())


def test_extract_files_same_bits_and_no_oversubscription(corpus, local_run, client, tmp_path):
    root, files = corpus
    out = tmp_path / "api"
    seen = []
    outcomes = sgd.extract_files(files, mel_plan(), out, client=client, root=root,
                                 on_outcome=lambda i, o: seen.append(i))
    assert sorted(seen) == list(range(N_FILES))
    assert [o.job.source for o in outcomes] == files
    assert all(o.error is None for o in outcomes)
    # the npz metadata records resampled_to for the API (it resamples to the plan's rate) ...
    tree = npz_tree(out)
    assert all('"resampled_to": 16000.0' in params for _, params, _ in tree.values())
    # ... while the features are the same bits as the CLI's
    assert {k: v[0].tobytes() for k, v in tree.items()} == {k: v[0].tobytes() for k, v in local_run.items()}
    # 2 workers x 1 thread: each task had cores // 2 engine threads (1 on a 2-core machine)
    cores = len(os.sched_getaffinity(0))
    assert sgd.threads_per_task(client) == max(1, cores // 2)
    assert {o.n_threads for o in outcomes} == {max(1, cores // 2)}
    assert len({o.worker for o in outcomes}) == 2  # both workers took part


def test_extract_files_folder_and_failures(corpus, local_run, client, tmp_path):
    root, files = corpus
    bad_root = tmp_path / "in"
    (bad_root / "sub").mkdir(parents=True)
    for f in files[:4]:
        rel = f.relative_to(root)
        (bad_root / rel).parent.mkdir(parents=True, exist_ok=True)
        (bad_root / rel).write_bytes(f.read_bytes())
    (bad_root / "sub" / "corrupt.wav").write_bytes(np.random.default_rng(3).bytes(4000))
    (bad_root / "empty.wav").write_bytes(b"")
    out = tmp_path / "out"
    # a folder: walked and mirrored; 4 files per task (a failure stays that file's)
    outcomes = sgd.extract_files(bad_root, mel_plan(), out, client=client, files_per_task=4)
    errors = {o.job.source.name: o.error for o in outcomes if o.error}
    assert sorted(errors) == ["corrupt.wav", "empty.wav"]
    assert len(outcomes) == 6
    tree = npz_tree(out)
    assert sorted(tree) == sorted(str(f.relative_to(root).with_suffix(".npz")) for f in files[:4])
    for rel, (data, _, _) in tree.items():
        assert np.array_equal(data, local_run[rel][0])


def test_cli_dask_reports_failures_and_carries_on(corpus, client, tmp_path, capsys):
    root, files = corpus
    (tmp_path / "in").mkdir()
    for f in files[:3]:
        (tmp_path / "in" / f.name).write_bytes(f.read_bytes())
    (tmp_path / "in" / "broken.wav").write_bytes(b"RIFF....WAVEjunk")
    address = client.scheduler.address.replace("tcp://", "dask://")
    rc = cli.main(["extract", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--scheduler", address])
    captured = capsys.readouterr()
    assert rc == 1
    assert "3 written, 1 failed" in captured.out
    assert "1 file failed" in captured.err and "broken.wav" in captured.err.split("1 file failed")[1]


def test_killed_worker_loses_no_file(corpus, local_run, client, tmp_path):
    from spectrograms._extract import FileProcessor, jobs_for_paths

    # defined here so that cloudpickle ships it by value (the workers cannot import this file)
    class _DieOnce:
        """Wraps a FileProcessor: the first task to reach ``victim`` kills its worker process."""

        def __init__(self, inner, victim: str, marker: str) -> None:
            self.inner, self.victim, self.marker = inner, victim, marker

        def __call__(self, job):
            if job.source.name == self.victim:
                try:
                    fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
                except FileExistsError:
                    pass
                else:
                    os.write(fd, str(os.getpid()).encode())
                    os.close(fd)
                    os._exit(1)  # the worker dies in the middle of this file
            return self.inner(job)

    root, files = corpus
    out = tmp_path / "out"
    marker = tmp_path / "killed.pid"
    victim = files[N_FILES // 2].name
    processor = _DieOnce(FileProcessor(mel_plan(), resample=False), victim, str(marker))
    jobs = jobs_for_paths(root, out)
    before = set(client.nthreads())
    outcomes = sgd.run_jobs(client, processor, jobs, retries=2)
    assert marker.exists(), "no worker was killed"
    killed_pid = int(marker.read_text())
    assert all(o.error is None for o in outcomes), [o.error for o in outcomes if o.error]
    assert len(outcomes) == N_FILES
    # the victim's file was finished by another worker process than the one that died
    redo = next(o for o in outcomes if o.job.source.name == victim)
    pids = client.run(os.getpid)
    assert killed_pid not in pids.values()
    assert redo.worker is not None
    # every output once, no temporary file left, the same bits as locally
    assert_same_tree(npz_tree(out), local_run)
    client.wait_for_workers(2, timeout=60)
    assert set(client.nthreads()) != before  # the nanny replaced the dead worker


# --------------------------------------------------------------------------- collections

def test_compute_batch_bag_and_delayed(client):
    plan = mel_plan(dtype="float64")
    rng = np.random.default_rng(7)
    signals = [rng.standard_normal(int(n)) for n in rng.integers(300, 9000, size=11)]
    expected = [plan.compute(x).data for x in signals]

    bag = db.from_sequence(signals, npartitions=3)
    items = sgd.compute_batch(plan, bag).compute()
    assert len(items) == len(signals)
    assert all(isinstance(s, sg.Spectrogram) for s in items)
    assert all(np.array_equal(s.data, e) for s, e in zip(items, expected))
    batches = sgd.compute_batch(plan, bag, batches=True).compute()
    assert len(batches) == 3 and sum(len(b) for b in batches) == len(signals)
    assert all(isinstance(b, sg.SpectrogramBatch) for b in batches)

    delayed = [dask.delayed(np.asarray)(x) for x in signals]
    results = dask.compute(*sgd.compute_batch(plan, delayed, batch_size=4))
    assert all(np.array_equal(s.data, e) for s, e in zip(results, expected))
    groups = dask.compute(*sgd.compute_batch(plan, delayed, batch_size=4, batches=True))
    assert [len(g) for g in groups] == [4, 4, 3]
    assert np.array_equal(groups[2][1].data, expected[9])


def test_compute_batch_bad_input():
    with pytest.raises(TypeError, match="dask.bag.Bag or a list"):
        sgd.compute_batch(mel_plan(), np.zeros((2, 100)))
    with pytest.raises(TypeError, match="plan"):
        sgd.compute_batch("not a plan", [])


# --------------------------------------------------------------------------- pickles

def test_pickled_sizes_are_small():
    plan = mel_plan()
    x = np.random.default_rng(0).standard_normal(SR * 5).astype(np.float32)
    spec = plan.compute(x)
    assert len(pickle.dumps(plan.params)) < 1024
    assert len(pickle.dumps(plan)) < 16 * 1024  # parameters + FFTW wisdom, never FFTW state
    assert len(pickle.dumps(spec)) < spec.data.nbytes + 4096  # the data once, plus metadata
    batch = plan.compute_batch([x, x[: SR]])
    assert len(pickle.dumps(batch[1])) < batch[1].data.nbytes + 4096  # an item carries its own frames only


# --------------------------------------------------------------------------- bad input

def _closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
    return s


def test_cli_unreachable_scheduler_is_quick_clear_error(corpus, tmp_path, capsys):
    root, files = corpus
    s = _closed_port()
    try:
        port = s.getsockname()[1]
        start = time.monotonic()
        rc = cli.main(["extract", str(files[0]), "--out", str(tmp_path / "o"),
                       "--scheduler", f"dask://127.0.0.1:{port}"])
        elapsed = time.monotonic() - start
    finally:
        s.close()
    err = capsys.readouterr().err
    assert rc == 2
    assert elapsed < 15
    assert f"cannot connect to the Dask scheduler at tcp://127.0.0.1:{port}" in err
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_silent_scheduler_times_out():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()  # accepts connections, never answers
    try:
        start = time.monotonic()
        with pytest.raises(Exception, match="cannot connect to the Dask scheduler"):
            sgd.connect(f"tcp://127.0.0.1:{s.getsockname()[1]}", timeout=1.0)
        assert time.monotonic() - start < 6
    finally:
        s.close()


@pytest.mark.parametrize("where", ["dask://nohostport", "dask://host:notaport", "spark://x:1", "ray:/"])
def test_cli_bad_scheduler_string(where, corpus, tmp_path, capsys):
    _, files = corpus
    assert cli.main(["extract", str(files[0]), "--out", str(tmp_path / "o"), "--scheduler", where]) == 2
    assert "scheduler" in capsys.readouterr().err


def test_workers_that_cannot_import_spectrograms_are_an_error_not_a_hang(corpus, tmp_path, capsys):
    """A worker whose Python cannot import spectrograms would drop the task message and never run
    it (the driver waited forever). Here a preload script shadows the package in the worker with
    one that fails to import; extract_files must raise at once, naming the cause."""
    from distributed import Client, LocalCluster

    _, files = corpus
    fake = tmp_path / "shadow" / "spectrograms"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text('raise ImportError("broken on purpose in this worker")\n')
    preload = tmp_path / "shadow_preload.py"
    preload.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(fake.parent)!r})\n"
        "for name in [m for m in sys.modules if m == 'spectrograms' or m.startswith('spectrograms.')]:\n"
        "    del sys.modules[name]\n"
    )
    saved = dict(os.environ)
    try:
        with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None, preload=[str(preload)]) as lc, Client(lc) as client:
            client.wait_for_workers(1, timeout=60)
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                run = pool.submit(sgd.extract_files, files[:2], mel_plan(), tmp_path / "out", client=client)
                try:
                    error = run.exception(timeout=60)
                except concurrent.futures.TimeoutError:
                    client.close()  # cancels the futures, so the driver thread returns
                    pytest.fail("extract_files waited 60 s on a worker that cannot import spectrograms")
            # the command line: exit status 2 and the same message, no traceback
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                cli_run = pool.submit(cli.main, ["extract", str(files[0]), "--out", str(tmp_path / "cli"),
                                                 "--scheduler", f"dask://{lc.scheduler_address.split('://')[1]}"])
                try:
                    rc = cli_run.result(timeout=60)
                except concurrent.futures.TimeoutError:
                    client.close()
                    pytest.fail("spectrograms extract waited 60 s on a worker that cannot import spectrograms")
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert isinstance(error, sgd.SchedulerError), repr(error)
    message = str(error)
    assert "1 of 1 Dask workers cannot import spectrograms" in message
    assert "broken on purpose in this worker" in message
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.npz"))
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "Dask workers cannot import spectrograms" in err and "broken on purpose in this worker" in err
    assert "Traceback" not in err
