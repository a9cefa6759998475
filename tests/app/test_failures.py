"""A failing run fails alone; cancel is prompt; the debugger is never reachable."""
import logging

import app.executors.thread

from .conftest import TINY, wait_finished, wait_for


def test_engine_exception_is_recorded_logged_and_the_next_run_starts(client, monkeypatch, caplog):
    real_train = app.executors.thread.train
    calls = []

    def exploding_train(config, dataset, on_event, should_stop, **options):
        calls.append(config)
        if len(calls) == 1:
            raise RuntimeError("boom inside the engine")
        return real_train(config, dataset, on_event, should_stop, **options)

    monkeypatch.setattr(app.executors.thread, "train", exploding_train)
    caplog.set_level(logging.ERROR, logger="app.jobs")
    first = client.post("/api/runs", json=TINY).get_json()
    second = client.post("/api/runs", json=TINY).get_json()
    failed = wait_finished(client, first["id"])
    assert failed["status"] == "failed" and failed["reason"] == "RuntimeError: boom inside the engine"
    assert any("Traceback" in (r.exc_text or "") or r.exc_info for r in caplog.records)
    assert wait_finished(client, second["id"])["status"] == "completed"
    assert client.get("/api/runs").status_code == 200


def test_cancel_of_a_running_run_answers_cancelled(client):
    slow = {**TINY, "epochs": 500, "hidden": 256, "train_size": 2000, "batch_size": 200}
    run = client.post("/api/runs", json=slow).get_json()
    wait_for(lambda: client.get(f"/api/runs/{run['id']}").get_json()["progress"]["step"] > 3)
    response = client.post(f"/api/runs/{run['id']}/cancel")
    assert response.status_code == 200
    assert response.get_json()["status"] == "cancelled"  # stopped within the request: one batch at most
    second = client.post(f"/api/runs/{run['id']}/cancel")
    assert second.status_code == 409


def test_debugger_and_tracebacks_are_never_served(app, client):
    assert app.debug is False
    assert client.get("/console").status_code == 404
    assert b"Traceback" not in client.get("/api/runs/1/metrics?after=x").data
