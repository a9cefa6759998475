"""The papercuts a newcomer meets in the first hour: datasets that are not there, a λ without a
penalty, a 404, the CSV names, a study to stop and remove, and failures the log tells in one line."""
import logging

import pytest

from engine.data import DataError, loader

from .conftest import TINY, wait_finished, wait_for

LONG = {**TINY, "epochs": 400}


@pytest.fixture(autouse=True)
def no_debian_fashion(monkeypatch, tmp_path):
    """Fashion-MNIST is not installed here, whatever the machine has, and cannot be downloaded."""
    def offline(progress):
        raise DataError("apt-get download is offline in tests")
    monkeypatch.setattr(loader, "DEBIAN_FASHION_DIR", tmp_path / "not-installed")
    monkeypatch.setattr(loader, "load_debian_package", offline)


def dataset_entry(schema):
    return next(s for s in schema["settings"] if s["name"] == "dataset")


def test_the_schema_says_which_datasets_a_run_can_load_and_how_to_get_the_others(make_app, tmp_path):
    client = make_app(DATA_DIR=str(tmp_path)).test_client()
    entry = dataset_entry(client.get("/api/schema").get_json())
    assert entry["choices"] == ["mnist", "fashion-mnist", "synthetic"]
    fashion = entry["availability"]["fashion-mnist"]
    assert fashion["available"] is False and fashion["ready"] is False
    assert fashion["command"] == f"normlab data --dataset fashion-mnist --data-dir {tmp_path}"
    assert entry["availability"]["synthetic"] == {"available": True, "ready": True, "command": None,
                                                  "note": "generated on demand"}
    assert entry["availability"]["mnist"]["available"] is True  # a run downloads MNIST by itself
    page = client.get("/").get_data(as_text=True)  # the form's page embeds the same, for its <select>
    assert '"command":"normlab data --dataset fashion-mnist --data-dir' in page


def test_a_run_on_a_dataset_that_is_not_here_is_refused_naming_the_command(make_app, tmp_path):
    client = make_app(DATA_DIR=str(tmp_path)).test_client()
    for path, body in (("/api/runs", {**TINY, "dataset": "fashion-mnist"}),
                       ("/api/comparisons", {**TINY, "dataset": "fashion-mnist"}),
                       ("/api/studies", {"penalties": ["none"], "settings": {**TINY, "dataset": "fashion-mnist"}})):
        response = client.post(path, json=body)
        body = response.get_json()
        assert response.status_code == 400 and body["field"] == "dataset", body
        assert "normlab data --dataset fashion-mnist" in body["error"]
    assert client.get("/api/runs").get_json() == []
    (tmp_path / "fashion-mnist.npz").write_bytes(b"not checked until a run reads it")
    assert dataset_entry(client.get("/api/schema").get_json())["availability"]["fashion-mnist"]["ready"] is True
    run = client.post("/api/runs", json={**TINY, "dataset": "fashion-mnist"}).get_json()
    assert "not a readable .npz archive" in wait_finished(client, run["id"])["reason"]


def test_a_missing_dataset_fails_its_run_with_one_log_line_not_a_traceback(make_app, tmp_path, caplog):
    client = make_app(DATA_DIR=str(tmp_path)).test_client()
    (tmp_path / "fashion-mnist.npz").write_bytes(b"broken")
    with caplog.at_level(logging.INFO):
        run = client.post("/api/runs", json={**TINY, "dataset": "fashion-mnist"}).get_json()
        reason = wait_finished(client, run["id"])["reason"]
        diverged = client.post("/api/runs", json={**TINY, "lr": 1000.0, "activation": "relu"}).get_json()
        wait_finished(client, diverged["id"])
    assert reason.startswith("could not load fashion-mnist; tried, in order:")  # the whole list, for the page
    failures = [r for r in caplog.records if r.name == "app.jobs"]
    assert [(r.levelname, r.exc_info) for r in failures] == [("WARNING", None), ("WARNING", None)]
    assert failures[0].getMessage().startswith(f"run {run['id']} failed: could not load fashion-mnist")
    assert failures[1].getMessage().startswith(f"run {diverged['id']} failed: training diverged")
    assert all("\n" not in r.getMessage() for r in caplog.records)


def test_lam_without_a_penalty_is_refused_not_dropped(client):
    response = client.post("/api/runs", json={**TINY, "lam": 0.01})
    body = response.get_json()
    assert response.status_code == 400 and body["field"] == "lam"
    assert "choose penalty l1, l2 or elastic" in body["error"]
    response = client.post("/api/runs", json={**TINY, "penalty": "l2", "lam": 0.01, "lam_l2": 0.1})
    assert response.status_code == 400 and response.get_json()["field"] == "lam_l2"
    assert client.post("/api/runs", json={**TINY, "lam": 0}).status_code == 201


@pytest.mark.parametrize("path, says", [("/no/such/page", "There is no page at /no/such/page."),
                                        ("/runs/424242", "There is no run 424242"),
                                        ("/studies/424242", "There is no study 424242")])
def test_a_missing_page_is_normlabs_own_with_a_way_back(client, path, says):
    response = client.get(path)
    page = response.get_data(as_text=True)
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert says in page and 'href="/">Back to the dashboard</a>' in page and 'id="normlab-schema"' in page


def test_a_missing_api_path_stays_json(client):
    response = client.get("/api/no/such/thing")
    assert response.status_code == 404 and response.get_json() == {"error": "no such API path"}
    assert client.get("/api/runs/424242").get_json() == {"error": "there is no run 424242"}


def test_the_csv_downloads_are_named_for_batches_and_epochs(client):
    run = client.post("/api/runs", json=TINY).get_json()
    wait_finished(client, run["id"])
    for kind in ("batches", "epochs"):
        response = client.get(f"/api/runs/{run['id']}/{kind}.csv")
        assert response.headers["Content-Disposition"] == f"attachment; filename=normlab-run-{run['id']}-{kind}.csv"


def test_a_study_is_cancelled_whole_then_deleted(client):
    created = client.post("/api/studies", json={"penalties": ["none", "l1"], "lams": [1e-3, 1e-2], "seeds": 2,
                                                "settings": LONG}).get_json()
    first = created["runs"][0]
    wait_for(lambda: client.get(f"/api/runs/{first}").get_json()["status"] == "running", message="the first run")
    assert client.delete(f"/api/studies/{created['id']}").status_code == 409
    response = client.post(f"/api/studies/{created['id']}/cancel")
    answer = response.get_json()
    assert response.status_code == 200 and answer["cancelled"] == sorted(created["runs"])
    assert answer["counts"] == {"cancelled": 6}
    reasons = {client.get(f"/api/runs/{i}").get_json()["reason"] for i in created["runs"][1:]}
    assert reasons == {"cancelled with its study before it started"}
    again = client.post(f"/api/studies/{created['id']}/cancel")
    assert again.status_code == 409 and "nothing to cancel" in again.get_json()["error"]
    assert client.delete(f"/api/studies/{created['id']}").get_json() == {"deleted": created["id"]}
    assert client.post(f"/api/studies/{created['id']}/cancel").status_code == 404
    later = client.post("/api/runs", json=TINY).get_json()  # the worker is free for the next run
    assert wait_finished(client, later["id"])["status"] == "completed"


def test_through_a_run_process_too_a_missing_dataset_is_one_line(make_app, tmp_path, monkeypatch, caplog):
    """The run process's DataError came back as a double traceback (the server's and the child's)."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # the spawned run process finds no apt-get: offline
    (tmp_path / "fashion-mnist.npz").write_bytes(b"broken")
    client = make_app(DATA_DIR=str(tmp_path), EXECUTOR="process").test_client()
    with caplog.at_level(logging.INFO):
        run = client.post("/api/runs", json={**TINY, "dataset": "fashion-mnist"}).get_json()
        reason = wait_finished(client, run["id"])["reason"]
    assert "apt-get is not available" in reason
    assert [r.exc_info for r in caplog.records] == [None] * len(caplog.records)
    (line,) = [r.getMessage() for r in caplog.records if r.name == "app.jobs"]
    assert line.startswith(f"run {run['id']} failed: could not load fashion-mnist; tried, in order: 1. file")
