"""A database written with schema version 1 opens, is brought up to date, and its runs read as before."""
import json
import sqlite3
import time
from pathlib import Path

import pytest

from app import migrations
from app.store import SCHEMA_VERSION, Store
from engine import RunConfig, train
from engine.data import load_dataset
from engine.events import BatchEvent, EpochEvent, StartEvent, event_to_dict, to_jsonable

from .conftest import TINY, wait_finished

# app/schema.sql as normlab wrote it with user_version 1 (shared with test_restart.py).
SCHEMA_V1 = (Path(__file__).parent / "schema_v1.sql").read_text()
V1_RESULT_FIELDS = ("test_accuracy", "test_loss", "train_accuracy", "train_loss", "data_loss", "penalty", "sparsity",
                    "l1_norm", "l2_norm", "dead_units", "seconds")
INSIGHT = ("input_importance", "unit_norms", "pruning", "pruning_fine_tuned", "prior_fit")


def write_v1_run(conn, config, events, keep_insight):
    """Store a run's events as version 1 did: the whole final event in the row, no trajectories.

    ``keep_insight`` False drops the done event's insight, as runs of an engine before it were.
    """
    start = next(e for e in events if isinstance(e, StartEvent))
    done = events[-1]
    final = event_to_dict(done)
    final.pop("first_layer")
    if not keep_insight:
        for key in (*INSIGHT, "dead_inputs", "active_weights"):
            final.pop(key)
    result = {k: final.get(k) for k in V1_RESULT_FIELDS}
    run_id = conn.execute(
        "INSERT INTO runs (created, started, finished, status, reason, label, settings, start_event, final_event, "
        "result, progress, last_seq) VALUES (?, ?, ?, 'completed', NULL, 'old', ?, ?, ?, ?, ?, ?)",
        (time.time(), time.time(), time.time(), json.dumps(older_settings(config)), json.dumps(event_to_dict(start)),
         json.dumps(final), json.dumps(result), json.dumps({"kind": "epoch", "step": done.steps, "epoch": done.epochs}),
         done.seq)).lastrowid
    for e in events:
        if isinstance(e, BatchEvent):
            conn.execute("INSERT INTO batches VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         (run_id, e.seq, e.step, e.epoch, e.batch, e.loss, e.data_loss, e.penalty))
        elif isinstance(e, EpochEvent):
            conn.execute("INSERT INTO epochs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         (run_id, e.seq, e.epoch, e.step, e.train_loss, e.data_loss, e.penalty, e.train_accuracy,
                          e.test_loss, e.test_accuracy, e.sparsity, e.seconds, e.train_seconds,
                          json.dumps(to_jsonable(e.weights))))
    conn.execute("INSERT INTO artifacts VALUES (?, ?, ?)",
                 (run_id, done.first_layer.astype("<f4").tobytes(), json.dumps(list(done.first_layer.shape))))
    return run_id, done


def older_settings(config):
    """A run's settings as a version-1 normlab stored them: without the settings added since."""
    return {k: v for k, v in config.to_dict().items() if k not in migrations.LATER_SETTINGS}


@pytest.fixture
def v1_database(tmp_path):
    """A version-1 file holding a run from before the insight existed and one whose row carried it."""
    config = RunConfig.from_dict({**TINY, "penalty": "l1", "lam": 1e-2})
    dataset = load_dataset("synthetic")
    path = tmp_path / "normlab.sqlite"
    with sqlite3.connect(path) as conn:
        conn.executescript(SCHEMA_V1)
        conn.execute("PRAGMA user_version = 1")
        runs = {}
        for name, keep in (("older", False), ("carried", True)):
            events = []
            train(config, dataset, events.append)
            runs[name] = write_v1_run(conn, config, events, keep)
    conn.close()
    return path, runs


def test_a_version_1_database_is_brought_up_to_date(v1_database, make_app):
    path, runs = v1_database
    client = make_app().test_client()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    older, _ = runs["older"]
    carried, done = runs["carried"]
    # runs from before any insight: readable, with None where there is nothing
    assert client.get(f"/api/runs/{older}").get_json()["status"] == "completed"
    response = client.get(f"/api/runs/{older}/pruning")
    assert response.status_code == 404
    assert response.get_json()["error"] == (f"run {older} has no pruning curve: it was run by an older normlab, "
                                            f"before runs kept one; rerun it to get one")
    weights = client.get(f"/api/runs/{older}/weights").get_json()
    assert len(weights["first_layer"]) == TINY["hidden"]
    assert weights["input_importance"] is weights["unit_norms"] is weights["prior_fit"] is weights["dead_inputs"] is None
    events = client.get(f"/api/runs/{older}/metrics").get_json()
    assert events["epoch"]["trajectory"] == [None, None] and len(events["epoch"]["weights"]) == 2
    # a row that carried the insight has it moved out, and answers as a new run does
    curve = client.get(f"/api/runs/{carried}/pruning").get_json()
    assert curve == done.pruning | {"fine_tuned": None}
    weights = client.get(f"/api/runs/{carried}/weights").get_json()
    assert weights["unit_norms"] == list(done.unit_norms) and weights["dead_inputs"] == done.dead_inputs
    final = client.get(f"/api/runs/{carried}/metrics").get_json()["final"]
    assert "pruning" not in final and final["prunable_fraction"] == done.pruning["prunable_fraction"]["global"]
    assert client.get(f"/api/runs/{carried}").get_json()["result"]["active_weights"] == done.active_weights
    # and new runs store everything
    new = client.post("/api/runs", json=TINY).get_json()["id"]
    assert wait_finished(client, new)["status"] == "completed"
    # older runs gain the later settings at the values they trained with: still comparable with new runs (the ★)
    assert client.get(f"/api/runs/{older}").get_json()["settings"] | {"penalty": "none", "lam": 0.0} == (
        client.get(f"/api/runs/{new}").get_json()["settings"])
    with sqlite3.connect(path) as conn:
        keys = dict(conn.execute("SELECT id, comparable FROM runs WHERE id IN (?, ?)", (older, new)).fetchall())
    conn.close()
    assert keys[older] == keys[new] and '"test_split":"test"' in keys[older]
    assert client.get(f"/api/runs/{new}/pruning").status_code == 200
    assert len(client.get(f"/api/runs/{new}/metrics").get_json()["epoch"]["trajectory"][0]) == 64


def test_a_failing_step_leaves_the_database_as_it_was(v1_database, monkeypatch):
    path, _ = v1_database

    def broken(conn):
        migrations.add_insight(conn)
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setitem(migrations.MIGRATIONS, 2, broken)
    store = Store(path)
    with pytest.raises(Exception, match="disk I/O error"):
        store.initialize()
    store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        assert "insight" not in {row[1] for row in conn.execute("PRAGMA table_info(artifacts)")}
        assert conn.execute("SELECT count(*) FROM runs WHERE json_extract(final_event, '$.pruning') IS NOT NULL"
                            ).fetchone()[0] == 1
    conn.close()


def columns(path):
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        out = {t: [tuple(r) for r in conn.execute(f"PRAGMA table_info({t})")] for t in tables}
    conn.close()
    return out


def test_a_migrated_database_has_the_columns_of_a_new_one(v1_database, tmp_path):
    path, _ = v1_database
    fresh = Store(tmp_path / "fresh.sqlite")
    fresh.initialize()
    fresh.close()
    migrated = Store(path)
    migrated.initialize()
    migrated.close()
    assert columns(path) == columns(tmp_path / "fresh.sqlite")  # same names, types and order (inserts rely on it)
    assert all(2 <= version <= SCHEMA_VERSION for version in migrations.MIGRATIONS)
