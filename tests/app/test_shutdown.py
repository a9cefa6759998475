"""Shutdown and ownership of the database: SIGTERM stops a server as Ctrl-C does; one server per database."""
import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from app.db_lock import DatabaseInUse

from .conftest import wait_for
from .test_crash import ROOT, ServerProcess, free_port, stored_epochs

LONG_RUN = {"dataset": "synthetic", "train_size": 2000, "epochs": 1000, "hidden": 64}


def run_row(db, run_id):
    with sqlite3.connect(db) as conn:
        status, reason = conn.execute("SELECT status, reason FROM runs WHERE id = ?", (run_id,)).fetchone()
    return status, reason


def start_long_run(server, db):
    run = server.post("/api/runs", LONG_RUN)
    wait_for(lambda: stored_epochs(db, run["id"]) >= 1, message="the long run's first epoch stored")
    return run["id"]


@pytest.mark.parametrize("whom", ["server", "service"])
def test_sigterm_marks_the_running_run_interrupted_before_the_server_exits(tmp_path, whom):
    """``kill`` and docker stop signal the server; systemctl stop signals each process of the service."""
    db = tmp_path / "normlab.sqlite"
    server = ServerProcess(db, free_port(), new_session=True)
    try:
        run_id = start_long_run(server, db)
        if whom == "server":
            server.proc.send_signal(signal.SIGTERM)
        else:  # the run process gets it too, as in a systemd service's control group
            os.killpg(server.proc.pid, signal.SIGTERM)
        assert server.proc.wait(15) == 0  # promptly: systemd would SIGKILL after 90 s
        stderr = server.proc.stderr.read()
    finally:
        server.stop()
    assert "SIGTERM: stopping" in stderr and "Traceback" not in stderr
    status, reason = run_row(db, run_id)  # straight from the file: no server has started since
    assert status == "interrupted" and "shut down" in reason


def test_a_second_server_on_the_same_database_refuses_and_one_starts_after_kill_9(tmp_path):
    db = tmp_path / "normlab.sqlite"
    first_port = free_port()
    first = ServerProcess(db, first_port)
    try:
        run_id = start_long_run(first, db)
        second = subprocess.run([sys.executable, "-m", "app.cli", "serve", "--db", str(db), "--port", str(free_port()),
                                 "--no-preload"], env={**os.environ, "PYTHONPATH": str(ROOT)},
                                capture_output=True, text=True, timeout=60)
        assert second.returncode == 1
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1, second.stderr
        assert f"pid {first.proc.pid}" in lines[0] and f"port {first_port}" in lines[0] and str(db) in lines[0]
        assert first.get(f"/api/runs/{run_id}")["status"] == "running"  # untouched
        assert run_row(db, run_id)[0] == "running"
    finally:
        first.kill()

    third = ServerProcess(db, free_port())  # the OS let go of the dead server's lock
    try:
        run = third.get(f"/api/runs/{run_id}")
        assert run["status"] == "interrupted" and "server stopped" in run["reason"]
    finally:
        third.stop()


def test_an_app_in_this_process_holds_the_database_until_it_shuts_down(make_app, tmp_path):
    first = make_app()
    with pytest.raises(DatabaseInUse, match=rf"another normlab server \(pid {os.getpid()}, not listening yet\)"):
        make_app()
    first.extensions["normlab"].shutdown()
    second = make_app()
    holder = json.loads((tmp_path / "normlab.sqlite.lock").read_text())
    assert holder == {"pid": os.getpid(), "port": None}
    assert second.test_client().get("/api/runs").status_code == 200


def test_run_processes_ignore_sigterm_yet_never_keep_a_server_that_did_not_close_them_from_exiting(tmp_path):
    # At exit multiprocessing sends its daemon children SIGTERM and waits for them; ours ignore it.
    script = ("import os, signal, time\n"
              "from app.executors.process import ProcessExecutor\n"
              "executor = ProcessExecutor(workers=1)\n"
              "executor.prepare()\n"
              "(child,) = executor._children\n"
              "def ignored():  # the signals the child ignores, from the kernel's view of it\n"
              "    line = next(l for l in open(f'/proc/{child.pid}/status') if l.startswith('SigIgn:'))\n"
              "    return int(line.split()[1], 16)\n"
              "while not ignored() >> (signal.SIGTERM - 1) & 1:\n"
              "    time.sleep(0.05)\n"
              "os.kill(child.pid, signal.SIGTERM)\n"
              "child.process.join(1)\n"
              "print(child.alive())\n")  # and no close(): the interpreter exits with the child up
    result = subprocess.run([sys.executable, "-c", script], env={**os.environ, "PYTHONPATH": str(ROOT)},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == "True", result.stderr


def _signal_bits(pid, field):
    status = Path(f"/proc/{pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith(field + ":"))
    return int(line.split()[1], 16)


def test_ctrl_c_right_after_start_stops_everything_without_a_traceback(tmp_path):
    """Ctrl-C reaches the whole process group, run processes still importing included."""
    server = ServerProcess(tmp_path / "normlab.sqlite", free_port(), new_session=True)
    try:
        wait_for(lambda: server.get("/api/status")["processes"] >= 1, timeout=30, interval=0.02,
                 message="a run process to start")
        stop = (1 << (signal.SIGINT - 1)) | (1 << (signal.SIGTERM - 1))
        children = [int(p) for p in Path(f"/proc/{server.proc.pid}/task/{server.proc.pid}/children").read_text().split()]
        for pid in children:  # from birth, each has both signals blocked (still starting) or ignored (ready)
            try:
                assert _signal_bits(pid, "SigBlk") & stop == stop or _signal_bits(pid, "SigIgn") & stop == stop
            except (FileNotFoundError, StopIteration):  # not ours after all (it ended meanwhile)
                pass
        os.killpg(server.proc.pid, signal.SIGINT)
        assert server.proc.wait(15) == 0
        stderr = server.proc.stderr.read()
    finally:
        server.stop()
    assert "SIGINT: stopping" in stderr and "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
