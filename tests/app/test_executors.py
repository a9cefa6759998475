"""Executor plumbing without a cluster: batching, order checks, the factory and the serve flags."""
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from app import create_app
from app.cli import main
from app.config import ServerConfig
from app.executors import ExecutorError, ProcessExecutor, ThreadExecutor, WorkerLost, make_executor
from app.executors.cluster import check_scheduler_address
from app.cores import usable_cores
from app.executors.remote import BackgroundSender, EventBatcher, InOrder, OutOfOrder, RemoteTraceback
from engine import ConfigError, RunConfig, train
from engine.data import DataError
from engine.events import event_from_dict, event_to_dict


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def engine_events(tiny_data, **settings):
    events = []
    config = RunConfig(**{"dataset": "synthetic", "train_size": 120, "batch_size": 10, "epochs": 2, "hidden": 8,
                          **settings})
    final = train(config, tiny_data, events.append)
    return events, final


def test_batcher_sends_in_batches_and_at_once_on_start_and_epoch(tiny_data):
    events, final = engine_events(tiny_data)  # start, 12 batch, 1 epoch, 12 batch, 1 epoch, done
    sent = []
    clock = Clock()
    batcher = EventBatcher(sent.append, max_events=5, max_seconds=0.05, clock=clock)
    for event in events:
        batcher(event)
    batcher.flush()
    kinds = [[e.kind for e in batch] for batch in sent]
    assert kinds[0] == ["start"]
    assert kinds[1:4] == [["batch"] * 5, ["batch"] * 5, ["batch", "batch", "epoch"]]
    assert kinds[4:] == [["batch"] * 5, ["batch"] * 5, ["batch", "batch", "epoch"]]
    assert [e for batch in sent for e in batch] == events[:-1]  # the final event is the caller's to send
    assert events[-1] is final and batcher.batches == len(sent)


def test_batcher_sends_after_the_time_limit_even_when_the_batch_is_small(tiny_data):
    events, _ = engine_events(tiny_data)
    sent = []
    clock = Clock()
    batcher = EventBatcher(sent.append, max_events=500, max_seconds=0.05, clock=clock)
    batcher(events[0])  # start: sent at once
    for event in events[1:4]:
        clock.now += 0.02
        batcher(event)
    assert [len(b) for b in sent] == [1, 3]  # the third batch event came 0.06 s after the last send
    clock.now += 0.01
    batcher(events[4])
    assert [len(b) for b in sent] == [1, 3] and batcher.pending == [events[4]]


def test_background_sender_keeps_order_and_merges_batches_while_a_send_is_slow(tiny_data):
    events, _ = engine_events(tiny_data)
    sent, in_flight, gate = [], threading.Event(), threading.Event()

    def slow_send(batch):
        in_flight.set()
        gate.wait(5)  # the first send hangs until the rest has piled up
        sent.append(batch)

    sender = BackgroundSender(slow_send, max_events=10)
    sender(events[:1])
    assert in_flight.wait(5)
    for i in range(1, 25):
        sender(events[i:i + 1])
    gate.set()
    sender.close()
    assert [e for batch in sent for e in batch] == events[:25]
    assert len(sent) == 4 and [len(b) for b in sent[1:]] == [10, 10, 4]  # 1, then what piled up, 10 at a time


def test_background_sender_reports_a_failed_send_to_the_training(tiny_data):
    events, _ = engine_events(tiny_data)

    def broken(batch):
        raise ConnectionError("scheduler gone")

    sender = BackgroundSender(broken)
    sender(events[:1])
    with pytest.raises(ConnectionError, match="scheduler gone"):
        for event in events[1:]:
            sender([event])
            threading.Event().wait(0.01)
    with pytest.raises(ConnectionError):
        sender.close()


def test_in_order_delivers_and_refuses_gaps_and_repeats(tiny_data):
    events, _ = engine_events(tiny_data)
    got = []
    stream = InOrder(got.append)
    stream.deliver(events[:5])
    assert got == events[:5] and stream.where() == "after event 4 (epoch 1, step 4)"
    with pytest.raises(OutOfOrder, match="event 7 arrived where 5 was expected"):
        stream.deliver(events[7:8])
    again = InOrder(got.append)
    again.deliver(events[:3])
    with pytest.raises(WorkerLost, match="event 0 arrived where 3 was expected"):
        again.deliver(events[:1])  # a second attempt starting over
    final = again.cancelled("cancelled by request (test)", 1.5)
    assert final.seq == 3 and final.kind == "cancelled" and got[-1] is final


def test_events_survive_the_trip_as_plain_data(tiny_data):
    events, final = engine_events(tiny_data)
    back = [event_from_dict(event_to_dict(e)) for e in events]
    assert [e.seq for e in back] == list(range(len(events)))
    assert back[1] == events[1] and back[-2] == events[-2]  # a batch and an epoch event
    assert (back[-1].first_layer == final.first_layer).all()


def test_the_factory_makes_the_executor_the_config_names(tmp_path):
    thread = make_executor(ServerConfig(tmp_path / "db.sqlite", executor="thread", workers=2), None)
    assert isinstance(thread, ThreadExecutor)
    process = make_executor(ServerConfig(tmp_path / "db.sqlite", workers=3, data_dir=str(tmp_path)), None)
    assert isinstance(process, ProcessExecutor) and process.describe() == {
        "executor": "process", "processes": 0, "cores": [], "running": [], "summary": process.summary()}
    process.close()


@pytest.mark.parametrize("config, message", [
    ({"EXECUTOR": "gpu"}, "EXECUTOR: must be one of thread, process, dask; got 'gpu'"),
    ({"EXECUTOR": "dask"}, "SCHEDULER: the dask executor needs the Dask scheduler's address"),
    ({"SCHEDULER": "tcp://127.0.0.1:8786"}, "SCHEDULER: only used with the dask executor, not process"),
    ({"EXECUTOR": "dask", "SCHEDULER": "127.0.0.1:8786"}, "SCHEDULER: the scheduler address must look like tcp://HOST:PORT"),
])
def test_create_app_refuses_a_bad_executor_config(tmp_path, config, message):
    with pytest.raises(ConfigError) as info:
        create_app({"DATABASE": str(tmp_path / "x.sqlite"), **config})
    assert str(info.value).startswith(message)


@pytest.mark.parametrize("address, ok", [
    ("tcp://10.0.0.5:8786", True), ("tcp://scheduler.lab.example:8786", True), ("tcp://[::1]:8786", True),
    ("tcp://localhost:1", True), ("10.0.0.5:8786", False), ("tcp://10.0.0.5", False), ("tcp://host:0", False),
    ("tcp://host:70000", False), ("http://host:8786", False), ("tcp://host:8786/x", False), ("", False), (None, False),
])
def test_scheduler_address_check(address, ok):
    if ok:
        assert check_scheduler_address(address) == address
    else:
        with pytest.raises(ValueError, match="tcp://HOST:PORT"):
            check_scheduler_address(address)


@pytest.mark.parametrize("flags, message", [
    (["--executor", "dask"], "--scheduler: the dask executor needs the Dask scheduler's address, tcp://HOST:PORT"),
    (["--executor", "dask", "--scheduler", "10.0.0.5:8786"], "--scheduler: the scheduler address must look like tcp://HOST:PORT"),
    (["--scheduler", "tcp://10.0.0.5:8786"], "--scheduler: only used with the dask executor, not process"),
    (["--executor", "thread", "--scheduler", "tcp://10.0.0.5:8786"], "--scheduler: only used with the dask executor, not thread"),
    (["--executor", "ray"], "invalid choice: 'ray'"),
])
def test_serve_flags_are_checked_before_anything_starts(flags, message, capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--db", str(tmp_path / "x.sqlite"), "--no-preload", *flags])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x.sqlite").exists()


def test_an_unreachable_scheduler_is_a_clear_error():
    pytest.importorskip("distributed")
    from app.executors.cluster import DaskExecutor

    with pytest.raises(ExecutorError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9 .*dask scheduler"):
        DaskExecutor("tcp://127.0.0.1:9", connect_timeout=1)


def allowed_cores(pid: int) -> set[int]:
    return set(os.sched_getaffinity(pid))


@pytest.mark.skipif(len(usable_cores()) < 2, reason="pinning needs two cores; CI has two")
def test_each_run_process_is_kept_to_a_core_of_its_own_and_its_replacement_gets_it_back(tmp_path):
    cores = usable_cores()
    executor = ProcessExecutor(tmp_path, workers=1)
    try:
        executor.prepare()
        child = next(iter(executor._children))
        assert allowed_cores(child.pid) == {cores[-1]}  # the highest-numbered core first
        assert executor.describe()["cores"] == [cores[-1]]
        child.process.kill()
        child.process.join(10)
        executor.prepare()  # the thread's next run gets a fresh child, on the core that came free
        (replacement,) = [c for c in executor._children if c.alive()]
        assert replacement is not child and allowed_cores(replacement.pid) == {cores[-1]}
        done = executor.run(RunConfig(dataset="synthetic", train_size=100, epochs=1, hidden=8), lambda e: None,
                            lambda: False)
        assert done.kind == "done"
    finally:
        executor.close()


def test_run_processes_are_not_pinned_when_workers_outnumber_the_cores_or_when_asked(tmp_path):
    config = ServerConfig(tmp_path / "db.sqlite", pin_runs=False)  # what serve --no-pin sets
    for executor in (ProcessExecutor(tmp_path, workers=len(usable_cores()) + 1), make_executor(config, None)):
        try:
            executor.prepare()
            child = next(iter(executor._children))
            assert allowed_cores(child.pid) == set(usable_cores()) and executor.describe()["cores"] == []
        finally:
            executor.close()


def test_an_error_in_the_run_process_comes_back_with_the_run_processs_traceback(tmp_path):
    executor = ProcessExecutor(tmp_path / "no-such-dir", workers=1)
    try:
        with pytest.raises(DataError, match="not an existing directory") as info:
            executor.run(RunConfig(dataset="fashion-mnist", train_size=100, epochs=1), lambda e: None, lambda: False)
        cause = info.value.__cause__
        assert isinstance(cause, RemoteTraceback)
        assert "Traceback (most recent call last)" in str(cause) and "process_main" in str(cause)
        # the child is fine and takes the next run
        done = executor.run(RunConfig(dataset="synthetic", train_size=100, epochs=1, hidden=8), lambda e: None,
                            lambda: False)
        assert done.kind == "done"
    finally:
        executor.close()


@contextlib.contextmanager
def _served(tmp_path, *flags):
    """`normlab serve` in its own process, once its run process is up: (process, GET /api/status)."""
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--db", str(tmp_path / "db.sqlite"), "--port", "0",
                             "--no-preload", *flags], stderr=subprocess.PIPE, text=True)
    try:
        url = None
        while url is None:
            line = proc.stderr.readline()
            assert line, "the server ended before it listened"
            found = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
            url = found and found.group(1)
        drain = threading.Thread(target=proc.stderr.read, daemon=True)  # keep the pipe from filling
        drain.start()
        deadline = time.monotonic() + 60
        while not (status := json.load(urllib.request.urlopen(url + "/api/status", timeout=10)))["processes"]:
            assert time.monotonic() < deadline, "no run process came up"
            time.sleep(0.1)
        yield proc, {**status, "url": url}
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        finally:
            proc.kill()
            proc.wait()
            proc.stderr.close()


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
        except OSError:  # it ended meanwhile
            pass
    return out


def _thread_cores(pid: int) -> set[frozenset[int]]:
    """The sets of cores the threads of a process may use (threads that end meanwhile are left out)."""
    out = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            out.add(frozenset(allowed_cores(int(task.name))))
        except OSError:
            pass
    return out


@pytest.mark.skipif(len(usable_cores()) < 2, reason="pinning needs two cores; CI has two")
@pytest.mark.parametrize("flags", [(), ("--workers", "1"), ("--no-pin",)])
def test_serve_keeps_its_own_threads_off_the_cores_its_runs_are_kept_to(tmp_path, flags):
    cores = usable_cores()
    with _served(tmp_path, *flags) as (proc, status):
        run_cores = {frozenset(allowed_cores(child)) for child in _children(proc.pid)}  # and the resource tracker's
        if "--workers" in flags:  # fewer workers than cores: the runs on the highest, the server on the rest
            assert frozenset([cores[-1]]) in run_cores and status["cores"] == [cores[-1]]
            assert _thread_cores(proc.pid) == {frozenset(cores[:-1])}
        else:  # one worker per core (the default) shares every core; --no-pin: the scheduler's choice
            assert status["workers"] == len(cores) and run_cores == {frozenset(cores)}
            assert status["cores"] == ([] if flags else cores)
            assert _thread_cores(proc.pid) == {frozenset(cores)}


def _post(url: str, body: dict | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data if data is not None else b"", {"Content-Type": "application/json"},
                                     method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


@pytest.mark.skipif(len(usable_cores()) != 2, reason="the division checked is the 2-core one; CI has two")
def test_a_study_trains_two_runs_at_once_each_on_its_own_core_and_a_lone_run_gets_both(tmp_path):
    cores = usable_cores()
    settings = {"dataset": "synthetic", "train_size": 20000, "batch_size": 64, "epochs": 20, "hidden": 200}
    with _served(tmp_path) as (proc, status):
        url = status["url"]
        study = _post(url + "/api/studies", {"name": "two at once", "penalties": ["none", "l1"], "lams": [1e-3],
                                             "seeds": 1, "settings": settings})
        deadline = time.monotonic() + 60
        while len((status := json.load(urllib.request.urlopen(url + "/api/status", timeout=10)))["running"]) < 2:
            assert time.monotonic() < deadline, f"the two runs never trained at once: {status}"
            time.sleep(0.05)
        running = status["running"]
        assert [r["threads"] for r in running] == [1, 1]
        assert sorted(c for r in running for c in r["cores"]) == cores  # a core each, none shared
        for run in running:  # every thread of each run process (its products' helpers too) kept to its core
            assert _thread_cores(run["pid"]) == {frozenset(run["cores"])}
        _post(f"{url}/api/runs/{study['runs'][0]}/cancel")
        deadline = time.monotonic() + 30
        while (running := json.load(urllib.request.urlopen(url + "/api/status", timeout=10))["running"]) != [] and \
                running[0]["threads"] != 2:
            assert time.monotonic() < deadline, f"the run left alone did not get both cores: {running}"
            time.sleep(0.05)
        if running:  # (it may have finished meanwhile on a fast machine)
            assert running[0]["cores"] == cores and _thread_cores(running[0]["pid"]) == {frozenset(cores)}
        _post(f"{url}/api/runs/{study['runs'][1]}/cancel")


def test_each_executor_says_in_a_sentence_how_runs_train(tmp_path):
    pinned = len(usable_cores()) >= 2
    two = ProcessExecutor(tmp_path, workers=2)
    one = ProcessExecutor(tmp_path, workers=1, pin=False)
    try:
        assert two.summary() == ("2 runs at a time, each in its own process"
                                 + (", kept to its share of the cores" if pinned else "") + "; a run alone uses every core")
        assert one.summary() == "1 run at a time, in its own process; a run alone uses every core"
    finally:
        two.close()
        one.close()
    assert ThreadExecutor(None, 2).describe()["summary"] == "2 runs at a time, in threads of the server's own process"


def fake_mnist(directory: Path) -> None:
    """An mnist.npz that passes MNIST's checks (its label counts and first labels), blank images."""
    from engine.data.verify import MNIST_SPEC

    first = np.array(MNIST_SPEC.first_train_labels)
    rest = np.repeat(np.arange(10), np.array(MNIST_SPEC.train_counts) - np.bincount(first, minlength=10))
    np.savez(directory / "mnist.npz", x_train=np.zeros((60000, 28, 28), np.uint8), y_train=np.concatenate([first, rest]),
             x_test=np.zeros((10000, 28, 28), np.uint8), y_test=np.repeat(np.arange(10), MNIST_SPEC.test_counts))


def test_a_run_process_loads_the_datasets_to_preload_before_its_first_run(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # the run process finds no apt-get: offline
    fake_mnist(tmp_path)
    heard = []
    executor = ProcessExecutor(tmp_path, workers=1, pin=False, preload=("mnist", "fashion-mnist"),
                               report=lambda *message: heard.append(message))
    try:
        executor.prepare()  # returns once the child has them (or has failed to get them)
        assert ("mnist", f"mnist ready: 60000 train / 10000 test (file {tmp_path / 'mnist.npz'})", 1.0) in heard
        failed = [m for m in heard if m[1].startswith("failed:")]
        assert [m[0] for m in failed] == ["fashion-mnist"] and "could not load fashion-mnist" in failed[0][1]
        (tmp_path / "mnist.npz").unlink()  # a run that had to load it now would fail
        done = executor.run(RunConfig(dataset="mnist", train_size=100, epochs=1, hidden=8), lambda e: None,
                            lambda: False)
        assert done.kind == "done"
    finally:
        executor.close()


def test_of_run_processes_loading_alike_one_tells_the_steps(tmp_path):
    heard = []
    executor = ProcessExecutor(tmp_path, workers=2, pin=False, preload=("synthetic",),
                               report=lambda *message: heard.append(message))
    try:
        workers = [threading.Thread(target=executor.prepare) for _ in range(2)]  # as the job manager's two
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(60)
        assert len(executor._children) == 2
        assert [m[1] for m in heard] == ["generating the synthetic dataset",
                                         "synthetic ready: 60000 train / 10000 test (generated (seed 0))"]
    finally:
        executor.close()
