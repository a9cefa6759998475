"""What a restart keeps: finished runs and curves, running runs become interrupted, queued runs run."""
import json
import sqlite3
import subprocess
import sys

from app.store import SCHEMA_VERSION, Store

from .conftest import TINY, wait_finished


def test_running_run_is_interrupted_and_queued_run_goes_on(tmp_path, make_app):
    db = tmp_path / "normlab.sqlite"
    store = Store(db)
    store.initialize()
    running = store.create_run({**_settings(), "epochs": 2}, "none")
    store.set_status(running, "running")
    queued = store.create_run(_settings(), "none")
    store.close()

    client = make_app().test_client()
    run = client.get(f"/api/runs/{running}").get_json()
    assert run["status"] == "interrupted" and "server stopped" in run["reason"]
    assert wait_finished(client, queued)["status"] == "completed"
    again = client.post(f"/api/runs/{running}/rerun")
    assert again.status_code == 201
    assert wait_finished(client, again.get_json()["id"])["status"] == "completed"


def test_finished_runs_and_curves_survive_a_restart(make_app):
    first = make_app()
    client = first.test_client()
    run_id = client.post("/api/runs", json=TINY).get_json()["id"]
    wait_finished(client, run_id)
    before = client.get(f"/api/runs/{run_id}/metrics").get_json()
    first.extensions["normlab"].shutdown()
    client = make_app().test_client()
    assert client.get(f"/api/runs/{run_id}").get_json()["status"] == "completed"
    assert client.get(f"/api/runs/{run_id}/metrics").get_json() == before


def _settings():
    from engine import RunConfig

    return RunConfig.from_dict(TINY).to_dict()


def _serve(db):
    return subprocess.run([sys.executable, "-m", "app.cli", "serve", "--db", str(db), "--port", "0", "--no-preload"],
                          capture_output=True, text=True, timeout=30)


def test_newer_schema_gives_a_clear_startup_error(tmp_path):
    db = tmp_path / "newer.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    result = _serve(db)
    assert result.returncode == 1
    assert "written by a newer normlab" in result.stderr and "Traceback" not in result.stderr


def test_corrupt_database_gives_a_clear_startup_error(tmp_path):
    db = tmp_path / "corrupt.sqlite"
    db.write_bytes(b"this is not a database" * 100)
    result = _serve(db)
    assert result.returncode == 1
    assert "cannot use the database" in result.stderr and "Traceback" not in result.stderr


def _shape(db):
    """Each table's columns (generated ones too) and each index's definition."""
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        columns = {t: conn.execute(f"PRAGMA table_xinfo({t})").fetchall() for t in tables}
        indexes = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name").fetchall()
        return columns, indexes, conn.execute("PRAGMA user_version").fetchone()[0]


def test_a_version_1_database_is_migrated_and_its_runs_listed_filtered_and_starred(tmp_path, make_app):
    from pathlib import Path

    old = tmp_path / "normlab.sqlite"
    with sqlite3.connect(old) as conn:
        conn.executescript((Path(__file__).parent / "schema_v1.sql").read_text())
        conn.execute("PRAGMA user_version = 1")
        conn.execute("INSERT INTO runs (created, status, label, settings, result) VALUES (1, 'completed', 'old', ?, ?)",
                     (json.dumps(_settings()), json.dumps({"test_accuracy": 0.5})))
    client = make_app().test_client()
    answer = client.get("/api/runs?dataset=synthetic&status=completed").get_json()
    assert [(r["label"], r["best"]) for r in answer["runs"]] == [("old", True)]
    client.application.extensions["normlab"].shutdown()
    new = tmp_path / "new.sqlite"
    store = Store(new)
    store.initialize()
    store.close()
    assert _shape(old) == _shape(new) and _shape(new)[2] == SCHEMA_VERSION == 4
