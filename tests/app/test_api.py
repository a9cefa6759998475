"""The JSON API through the Flask test client, with the real engine on tiny synthetic runs."""
import csv
import io
import json
import socket

import pytest

from .conftest import TINY, wait_finished, wait_for

LONG = {**TINY, "epochs": 200}  # long enough to be caught running


def create(client, **settings):
    response = client.post("/api/runs", json={**TINY, **settings})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_create_run_returns_it_queued_with_settings(client):
    run = create(client, penalty="l2", lam=0.01)
    assert run["status"] in ("queued", "running") and isinstance(run["id"], int)
    assert run["settings"]["penalty"] == "l2" and run["settings"]["lam"] == 0.01
    assert run["settings"]["lr"] == 0.1 and run["label"] == "L2 λ=0.01"


def test_run_completes_with_metrics_and_result(client):
    run = create(client, penalty="l1", lam=1e-3)
    done = wait_finished(client, run["id"])
    assert done["status"] == "completed" and done["reason"] is None
    result = done["result"]
    assert 0 <= result["test_accuracy"] <= 1 and result["seconds"] > 0
    assert result["train_loss"] == pytest.approx(result["data_loss"] + result["penalty"])
    assert done["progress"] == {"epoch": 2, "current_epoch": 2, "epochs": 2, "step": 12, "total_steps": 12,
                                "fraction": 1.0, "eta_seconds": None, "elapsed_seconds": result["seconds"]}
    assert done["live"] is False
    metrics = client.get(f"/api/runs/{run['id']}/metrics").get_json()
    assert metrics["batch"]["step"] == list(range(1, 13))
    assert metrics["epoch"]["epoch"] == [1, 2] and len(metrics["epoch"]["weights"][0]) == 2
    seqs = sorted(metrics["batch"]["seq"] + metrics["epoch"]["seq"] + [metrics["start"]["seq"], metrics["final"]["seq"]])
    assert seqs == list(range(metrics["last_seq"] + 1))
    later = client.get(f"/api/runs/{run['id']}/metrics?after=10").get_json()
    assert min(later["batch"]["seq"]) == 11 and "start" not in later


@pytest.mark.parametrize("body, field, message", [
    ({"hidden": -1}, "hidden", "must be from 0 to 4096, got -1"),
    ({"noise_features": 10_001}, "noise_features", "must be from 0 to 10000, got 10001"),
    ({"test_split": "train"}, "test_split", "must be one of test, validation"),
    ({"lr": "fast"}, "lr", "must be a number, got str"),
    ({"penalty": "l3"}, "penalty", "must be one of none, l1, l2, elastic"),
    ({"epochs": 1.5}, "epochs", "must be a whole number"),
    ({"hiden": 10}, "hiden", "unknown setting"),
    ({"label": ""}, "label", "must be text of 1 to 100 characters"),
])
def test_bad_settings_are_refused_with_the_field(client, body, field, message):
    response = client.post("/api/runs", json=body)
    assert response.status_code == 400
    assert response.get_json()["field"] == field and message in response.get_json()["error"]
    assert client.get("/api/runs").get_json() == []


def test_non_json_and_oversized_bodies(client):
    response = client.post("/api/runs", data="hidden=3", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400 and "JSON" in response.get_json()["error"]
    response = client.post("/api/runs", json=[1, 2])
    assert response.status_code == 400 and response.get_json()["field"] == "body"
    response = client.post("/api/runs", data="x" * 100_000, content_type="application/json")
    assert response.status_code == 413 and "too large" in response.get_json()["error"]


def test_unknown_run_is_404_json(client):
    for response in (client.get("/api/runs/999"), client.get("/api/runs/999/metrics"),
                     client.post("/api/runs/999/cancel"), client.delete("/api/runs/999"),
                     client.post("/api/runs/999/rerun")):
        assert response.status_code == 404
        assert response.get_json() == {"error": "there is no run 999"}


def test_cancel_running_then_queued_and_conflicts(client):
    running = create(client, **LONG)
    queued = create(client, **LONG)
    wait_for(lambda: client.get(f"/api/runs/{running['id']}").get_json()["status"] == "running")
    response = client.post(f"/api/runs/{queued['id']}/cancel")
    assert response.status_code == 200 and response.get_json()["status"] == "cancelled"
    assert response.get_json()["reason"] == "cancelled before it started"
    response = client.delete(f"/api/runs/{running['id']}")
    assert response.status_code == 409 and "cancel it before deleting" in response.get_json()["error"]
    response = client.post(f"/api/runs/{running['id']}/cancel")
    assert response.status_code == 200
    done = wait_finished(client, running["id"], timeout=10)
    assert done["status"] == "cancelled" and done["reason"] == "cancelled by request"
    for run in (running, queued):
        response = client.post(f"/api/runs/{run['id']}/cancel")
        assert response.status_code == 409 and "only queued or running" in response.get_json()["error"]
    assert client.get(f"/api/runs/{queued['id']}").get_json()["started"] is None


def test_delete_and_rerun(client):
    run = create(client)
    wait_finished(client, run["id"])
    again = client.post(f"/api/runs/{run['id']}/rerun")
    assert again.status_code == 201 and again.get_json()["settings"] == run["settings"]
    assert client.delete(f"/api/runs/{run['id']}").get_json() == {"deleted": run["id"]}
    assert client.get(f"/api/runs/{run['id']}").status_code == 404
    first = client.get(f"/api/runs/{again.get_json()['id']}/metrics")
    assert first.status_code == 200


def test_rerun_gives_the_same_curves(client):
    run = create(client, penalty="l2", lam=0.01)
    wait_finished(client, run["id"])
    again = client.post(f"/api/runs/{run['id']}/rerun").get_json()
    wait_finished(client, again["id"])
    a = client.get(f"/api/runs/{run['id']}/metrics").get_json()["batch"]["loss"]
    b = client.get(f"/api/runs/{again['id']}/metrics").get_json()["batch"]["loss"]
    assert a == b


def test_comparison_queues_none_l1_l2_together(client):
    response = client.post("/api/comparisons", json={**TINY, "lam_l1": 1e-3})
    assert response.status_code == 201
    body = response.get_json()
    runs = body["runs"]
    assert [(r["settings"]["penalty"], r["settings"]["lam"]) for r in runs] == [("none", 0.0), ("l1", 1e-3), ("l2", 0.01)]
    assert {r["group"] for r in runs} == {body["group"]}
    assert all(r["settings"]["hidden"] == 8 for r in runs)
    for r in runs:
        assert wait_finished(client, r["id"])["status"] == "completed"
    bad = client.post("/api/comparisons", json={"lam_l2": -1})
    assert bad.status_code == 400 and bad.get_json()["field"] == "lam_l2"


def test_runs_list_and_csv(client):
    run = create(client, label="=cmd|' /C calc'!A0")
    wait_finished(client, run["id"])
    listed = client.get("/api/runs").get_json()
    assert [r["id"] for r in listed] == [run["id"]]
    response = client.get("/api/runs.csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 1 and rows[0]["status"] == "completed" and float(rows[0]["test_accuracy"]) >= 0
    assert rows[0]["label"].startswith("'=")  # not a formula in a spreadsheet


def test_schema_lists_every_setting_with_range(client):
    schema = client.get("/api/schema").get_json()
    by_name = {s["name"]: s for s in schema["settings"]}
    assert by_name["hidden"]["min"] == 0 and by_name["hidden"]["max"] == 4096 and by_name["hidden"]["default"] == 200
    assert by_name["penalty"]["choices"] == ["none", "l1", "l2", "elastic"]
    assert schema["comparison_lambdas"] == {"l1": 1e-4, "l2": 0.01}


def test_failed_run_keeps_its_reason_and_the_next_run_starts(client):
    bad = create(client, lr=1000.0, activation="relu")
    good = create(client)
    assert wait_finished(client, bad["id"])["reason"].startswith("training diverged")
    assert wait_finished(client, good["id"])["status"] == "completed"


def test_queue_limit(make_app):
    client = make_app(QUEUE_LIMIT=2).test_client()
    create(client, **LONG)
    wait_for(lambda: client.get("/api/runs/1").get_json()["status"] == "running")
    create(client)
    create(client)
    response = client.post("/api/runs", json=TINY)
    assert response.status_code == 429 and "queue limit" in response.get_json()["error"]
    client.post("/api/runs/1/cancel")


def test_plotly_is_served_locally(client):
    with client.get("/static/vendor/plotly.min.js") as response:
        assert response.status_code == 200 and response.mimetype == "text/javascript"
        assert b"plotly" in response.data[:2000].lower()


def test_series_csv_keep_every_point(client):
    run = create(client)
    wait_finished(client, run["id"])
    rows = list(csv.reader(io.StringIO(client.get(f"/api/runs/{run['id']}/batches.csv").get_data(as_text=True))))
    assert rows[0] == ["step", "epoch", "batch", "loss", "data_loss", "penalty"] and len(rows) == 1 + 12
    rows = list(csv.reader(io.StringIO(client.get(f"/api/runs/{run['id']}/epochs.csv").get_data(as_text=True))))
    assert rows[0][:2] == ["epoch", "step"] and [r[0] for r in rows[1:]] == ["1", "2"]
    assert client.get("/api/runs/42/batches.csv").status_code == 404


def test_weights_of_a_finished_run(client):
    run = create(client)
    wait_finished(client, run["id"])
    weights = client.get(f"/api/runs/{run['id']}/weights").get_json()
    assert len(weights["first_layer"]) == 8 and len(weights["first_layer"][0]) == 784
    assert len(weights["confusion"]) == 10 and sum(map(sum, weights["confusion"])) > 0
    assert weights["dead_units"] == 0


def test_metrics_during_a_run_never_go_beyond_last_seq(client):
    run = create(client, **{**TINY, "epochs": 60, "train_size": 600, "batch_size": 20})
    seen = 0
    while client.get(f"/api/runs/{run['id']}").get_json()["status"] in ("queued", "running"):
        m = client.get(f"/api/runs/{run['id']}/metrics").get_json()
        seqs = m["batch"]["seq"] + m["epoch"]["seq"] + [m[k]["seq"] for k in ("start", "final") if k in m]
        assert seqs == [] or max(seqs) == m["last_seq"]
        assert sorted(seqs) == list(range(len(seqs)))
        seen += 1
    assert seen > 3


def test_metrics_kinds_filter(client):
    run = create(client)
    wait_finished(client, run["id"])
    only = client.get(f"/api/runs/{run['id']}/metrics?kinds=epoch,final").get_json()
    assert set(only) == {"run", "last_seq", "epoch", "final"}
    bad = client.get(f"/api/runs/{run['id']}/metrics?kinds=epoch,secrets")
    assert bad.status_code == 400 and bad.get_json()["field"] == "kinds"


def test_after_past_64_bits_is_a_400_naming_after(client):
    run = create(client)
    for after in (str(2**63), "9" * 40):
        response = client.get(f"/api/runs/{run['id']}/metrics?after={after}")
        assert response.status_code == 400 and response.get_json()["field"] == "after"
    assert client.get(f"/api/runs/{run['id']}/metrics?after={2**63 - 1}").status_code == 200


@pytest.mark.parametrize("path", ["/api/runs/{}", "/api/runs/{}/metrics", "/runs/{}", "/api/studies/{}", "/studies/{}"])
def test_ids_in_paths_are_ascii_digits_only(client, path):
    run = create(client)
    study = client.post("/api/studies", json={"penalties": ["none"], "settings": TINY}).get_json()
    assert run["id"] == study["id"] == 1
    assert client.get(path.format(1)).status_code == 200
    for other in ("１", "١", "१", "𝟏", "+1", " 1", "1_0"):  # fullwidth, Arabic-Indic, Devanagari, bold maths
        assert client.get(path.format(other)).status_code == 404, other
    assert client.get(path.format(2**63)).status_code == 404


@pytest.mark.parametrize("after", ["５", "-１", "٣", "+3", " 3", "3_0"])
def test_after_is_ascii_digits_only(client, after):
    run = create(client)
    response = client.get(f"/api/runs/{run['id']}/metrics", query_string={"after": after})
    assert response.status_code == 400 and response.get_json()["field"] == "after"


def test_every_id_in_a_route_uses_the_row_id_converter(app):
    from werkzeug.routing import IntegerConverter

    converters = {name: type(c) for rule in app.url_map.iter_rules() for name, c in (rule._converters or {}).items()}
    assert converters and not any(issubclass(c, IntegerConverter) for c in converters.values()), converters


@pytest.mark.parametrize("path, body, field", [
    ("/api/runs", {"label": "\ud800"}, "label"),
    ("/api/runs", {"label": "run \udfff two"}, "label"),
    ("/api/studies", {"name": "\ud800", "penalties": ["none"]}, "name"),
])
def test_text_with_a_lone_surrogate_is_a_400_naming_the_field(client, path, body, field):
    response = client.post(path, json={**body, "settings": TINY} if "studies" in path else {**body, **TINY})
    assert response.status_code == 400 and response.get_json()["field"] == field
    assert "UTF-8" in response.get_json()["error"]
    assert client.get("/api/runs").get_json() == []


def test_label_and_study_name_are_checked_alike(client):
    for path, field, extra in (("/api/runs", "label", TINY), ("/api/studies", "name", {"penalties": ["none"]})):
        for bad in ("", "   ", "x" * 101, 7, None if field == "name" else []):
            response = client.post(path, json={**extra, field: bad})
            assert response.status_code == 400 and response.get_json() == {
                "error": "must be text of 1 to 100 characters", "field": field}, (field, bad)
    assert create(client, label="  spaced  ")["label"] == "spaced"
    study = client.post("/api/studies", json={"name": "  λ sweep  ", "penalties": ["none"], "settings": TINY})
    assert study.get_json()["name"] == "λ sweep"


@pytest.mark.parametrize("path, body, field", [
    ("/api/runs", {"lr": 10**400}, "lr"),
    ("/api/runs", {"penalty": "l1", "lam": -(10**400)}, "lam"),
    ("/api/comparisons", {"lam_l1": 10**400}, "lam_l1"),
    ("/api/studies", {"lams": [10**400]}, "lams"),
    ("/api/studies", {"lams": {"l1": [10**400]}}, "lams"),
    ("/api/studies", {"lam_range": {"low": 1e-5, "high": 10**400, "count": 3}}, "lam_range"),
])
def test_integers_past_the_float_range_are_a_400_naming_the_field(client, path, body, field):
    response = client.post(path, json=body)
    assert response.status_code == 400 and response.get_json()["field"] == field


def post_chunked(server, body: bytes, chunk=16384):
    """POST /api/runs with Transfer-Encoding: chunked (no Content-Length); the response's status."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
        conn.sendall(b"POST /api/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")
        try:
            for i in range(0, len(body), chunk):
                conn.sendall(b"%x\r\n%s\r\n" % (len(body[i:i + chunk]), body[i:i + chunk]))
            conn.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server may answer and close before the whole body is sent
        reply = conn.makefile("rb").readline()
    return int(reply.split()[1])


def test_chunked_body_past_the_limit_is_413_like_one_with_a_length(live_server):
    limit = live_server.app.config["MAX_CONTENT_LENGTH"]
    assert post_chunked(live_server, b" " * (limit + 1)) == 413
    assert post_chunked(live_server, b"x" * 10 * 2**20) == 413
    exactly = json.dumps(TINY).encode()
    assert post_chunked(live_server, exactly + b" " * (limit - len(exactly))) == 201  # the limit itself is allowed
    assert post_chunked(live_server, exactly) == 201
