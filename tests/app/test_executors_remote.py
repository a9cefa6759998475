"""Runs on other processes: the process executor and the Dask executor (a LocalCluster of 2 worker
processes × 1 thread), against a real server: every point streamed once and in order, prompt
cancel, and a worker killed mid-run leaves the run failed with a reason and "run again" works.
"""
import multiprocessing
import os
import signal
import time
from pathlib import Path

import pytest

from .conftest import LiveServer, wait_finished, wait_for
from .test_ws import Viewer, get, post

SMALL = {"dataset": "synthetic", "train_size": 400, "batch_size": 10, "hidden": 16, "epochs": 4}  # 160 batch events
# ~1–3 s of training: long enough to be killed mid-run, short enough to be run again.
KILLABLE = {**SMALL, "train_size": 300, "epochs": 100}
FOREVER = {**SMALL, "epochs": 1000}  # only ever cancelled


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


class ProcessSide:
    """The process executor; its children are children of this test process."""

    name = "process"
    config = {"EXECUTOR": "process"}

    def kill_worker_running(self, server, run_id):
        children = [p for p in multiprocessing.active_children() if p.name.startswith("normlab-run-process")]
        assert len(children) == 2, children  # each worker started its own, before any run
        before = {child.pid: cpu_seconds(child.pid) for child in children}
        time.sleep(0.3)
        busy = max(children, key=lambda child: cpu_seconds(child.pid) - before[child.pid])  # the one training
        os.kill(busy.pid, signal.SIGKILL)
        return busy.pid

    def check_released(self):
        pass

    def close(self):
        pass


class DaskSide:
    """The dask executor against a LocalCluster living in this test process (the scheduler too)."""

    name = "dask"

    def __init__(self):
        import distributed

        self.cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                                dashboard_address=None)
        self.client = distributed.Client(self.cluster, set_as_default=False)
        self.config = {"EXECUTOR": "dask", "SCHEDULER": self.cluster.scheduler_address}

    def kill_worker_running(self, server, run_id):
        running = wait_for(lambda: [w for w, keys in self.client.processing().items()
                                    if any(str(k).startswith("normlab-run-") for k in keys)], 10,
                           message="the task on a worker")
        pid = self.client.run(os.getpid, workers=running)[running[0]]
        os.kill(pid, signal.SIGKILL)
        return running[0]

    def check_released(self):
        """No run left a Queue, Event or Variable behind on the scheduler."""
        extensions = self.cluster.scheduler.extensions
        wait_for(lambda: not extensions["queues"].queues and not extensions["events"]._events
                 and not extensions["variables"].variables, 5, message="the runs' Dask objects to be released")

    def close(self):
        self.client.close()
        self.cluster.close()


@pytest.fixture(scope="module", params=["process", "dask"])
def side(request):
    if request.param == "process":
        yield ProcessSide()
        return
    side = DaskSide()  # dask and distributed are in the test extra: CI always runs this
    yield side
    side.close()


@pytest.fixture
def server(make_app, side):
    if side.name == "dask":
        side.client.wait_for_workers(2, timeout=30)  # the killed worker's nanny brings it back
    live = LiveServer(make_app(WORKERS=2, **side.config))
    yield live
    live.stop()
    side.check_released()


def wait_until_streaming(server, run_id, steps=20):
    wait_for(lambda: (get(server, f"/api/runs/{run_id}")["progress"] or {}).get("step", 0) >= steps, 60,
             message=f"run {run_id} to be {steps} steps in")


def stored_seqs(server, run_id):
    metrics = get(server, f"/api/runs/{run_id}/metrics")
    seqs = sorted(metrics["batch"]["seq"] + metrics["epoch"]["seq"]
                  + [metrics[k]["seq"] for k in ("start", "final") if metrics.get(k)])
    return seqs, metrics


def test_comparison_streams_every_point_once_in_order(server, side):
    assert get(server, "/api/status")["executor"] == side.name
    if side.name == "process":  # each worker starts its child before the first run asks for it
        wait_for(lambda: get(server, "/api/status")["processes"] == 2, 30, message="two ready processes")
    body = post(server, "/api/comparisons", {**SMALL, "lam_l1": 1e-3})
    viewers = {}
    for run in body["runs"]:
        viewers[run["id"]] = Viewer(server)
        viewers[run["id"]].subscribe({run["id"]: -1})
    for run_id, viewer in viewers.items():
        viewer.until_final(run_id, timeout=60)
        # the final frame can come before the store committed the last events: wait for the status
        done = wait_finished(server.app.test_client(), run_id)
        assert done["status"] == "completed" and done["reason"] is None
        assert 0 <= done["result"]["test_accuracy"] <= 1
        seqs, metrics = stored_seqs(server, run_id)
        assert seqs == list(range(metrics["last_seq"] + 1)) and len(metrics["batch"]["seq"]) == 160
        assert viewer.seqs[run_id] == seqs  # every one, once, in order, live
        assert viewer.finals[run_id]["event"] == "done"
        viewer.close()


def test_cancel_stops_a_remote_run_promptly(server, side):
    run = post(server, "/api/runs", FOREVER)
    wait_until_streaming(server, run["id"])
    started = time.monotonic()
    post(server, f"/api/runs/{run['id']}/cancel", {})
    done = wait_finished(server.app.test_client(), run["id"], timeout=10)
    assert time.monotonic() - started < 3
    assert done["status"] == "cancelled" and done["reason"] == "cancelled by request"
    seqs, metrics = stored_seqs(server, run["id"])
    assert seqs == list(range(metrics["last_seq"] + 1)) and metrics["final"]["event"] == "cancelled"
    after = post(server, "/api/runs", SMALL)  # the executor is still good for the next run
    assert wait_finished(server.app.test_client(), after["id"])["status"] == "completed"


def test_a_worker_killed_mid_run_fails_the_run_with_a_reason_and_run_again_works(server, side):
    run = post(server, "/api/runs", KILLABLE)
    wait_until_streaming(server, run["id"])
    victim = side.kill_worker_running(server, run["id"])
    failed = wait_finished(server.app.test_client(), run["id"], timeout=30)
    assert failed["status"] == "failed", failed
    reason = failed["reason"]
    assert "worker" in reason and "mid-run" in reason and "run again" in reason
    if side.name == "process":
        assert f"pid {victim}" in reason and "SIGKILL" in reason
    else:
        assert f"Dask worker {victim}" in reason
    seqs, metrics = stored_seqs(server, run["id"])
    assert seqs == list(range(metrics["last_seq"] + 1))  # what arrived before the kill, gap-free
    again = post(server, f"/api/runs/{run['id']}/rerun", {})
    done = wait_finished(server.app.test_client(), again["id"], timeout=60)
    assert done["status"] == "completed", done
    seqs, metrics = stored_seqs(server, again["id"])
    assert seqs == list(range(metrics["last_seq"] + 1)) and metrics["final"]["event"] == "done"


@pytest.mark.parametrize("side", ["dask"], indirect=True)
def test_dask_cancel_of_a_run_still_waiting_for_a_worker(make_app, side):
    side.client.wait_for_workers(2, timeout=30)
    server = LiveServer(make_app(WORKERS=3, **side.config))  # three runs at once on two workers
    try:
        busy = [post(server, "/api/runs", FOREVER) for _ in range(2)]
        for run in busy:
            wait_until_streaming(server, run["id"])
        waiting = post(server, "/api/runs", FOREVER)
        wait_for(lambda: get(server, f"/api/runs/{waiting['id']}")["status"] == "running", message="the third to start")
        started = time.monotonic()
        post(server, f"/api/runs/{waiting['id']}/cancel", {})
        done = wait_finished(server.app.test_client(), waiting["id"], timeout=10)
        assert time.monotonic() - started < 2
        assert done["status"] == "cancelled" and done["reason"] == "cancelled by request (before a Dask worker started it)"
        for run in busy:
            post(server, f"/api/runs/{run['id']}/cancel", {})
            assert wait_finished(server.app.test_client(), run["id"], timeout=10)["status"] == "cancelled"
    finally:
        server.stop()
    side.check_released()
