"""Queue limits hold exactly: under simultaneous requests, for comparisons and studies as wholes,
and with study runs bounded apart from runs launched on their own.

Servers here have no workers, so nothing leaves the queue and the count is the whole story.
"""
import http.client
import json
import threading
from collections import Counter

import pytest

from .conftest import TINY, LiveServer

THREADS = 20


def post(port, path, body):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def burst(server, requests):
    """Send (path, body) requests from THREADS threads released together; the (request, status, answer)s."""
    barrier = threading.Barrier(THREADS)
    results, lock = [], threading.Lock()

    def worker(mine):
        barrier.wait(timeout=30)
        for path, body in mine:
            status, answer = post(server.port, path, body)
            with lock:
                results.append((path, status, answer))

    threads = [threading.Thread(target=worker, args=(requests[i::THREADS],)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(results) == len(requests), "every request was answered"
    return results


@pytest.fixture
def idle_server(make_app):
    """A server whose runs stay queued; limits come from the test's parameters."""
    servers = []

    def start(**config):
        servers.append(LiveServer(make_app(WORKERS=0, **config)))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def test_simultaneous_runs_and_comparisons_fill_the_queue_exactly(idle_server):
    limit = 10
    server = idle_server(QUEUE_LIMIT=limit)
    lab = server.app.extensions["normlab"]
    requests = [("/api/runs", TINY), ("/api/comparisons", TINY)] * 100
    results = burst(server, requests)
    statuses = Counter((path, status) for path, status, _ in results)
    assert set(statuses) <= {(p, s) for p in ("/api/runs", "/api/comparisons") for s in (201, 429)}, statuses
    accepted = statuses["/api/runs", 201] + 3 * statuses["/api/comparisons", 201]
    # More single runs were sent than the limit, so they fill whatever places comparisons leave.
    assert accepted == limit and lab.jobs.queue_length() == limit
    runs = lab.store.list_runs()
    assert len(runs) == limit
    groups = Counter(r["grp"] for r in runs if r["grp"])
    assert len(groups) == statuses["/api/comparisons", 201] and set(groups.values()) <= {3}, "comparisons are whole"
    refusals = {answer["error"] for _, status, answer in results if status == 429}
    assert all("(the queue limit" in error for error in refusals)
    assert f"{limit} runs are waiting and at most {limit} may" in " ".join(refusals)


def test_simultaneous_studies_are_admitted_whole_up_to_the_study_queue_limit(idle_server):
    server = idle_server(STUDY_QUEUE_LIMIT=10)
    lab = server.app.extensions["normlab"]
    study = {"penalties": ["l1"], "lams": [1e-4, 1e-3, 1e-2, 1e-1], "seeds": 1, "settings": TINY}  # 4 runs
    results = burst(server, [("/api/studies", study)] * 40)
    statuses = Counter(status for _, status, _ in results)
    assert statuses == {201: 2, 429: 38}, statuses
    assert lab.jobs.study_queue_length() == 8
    studies = lab.store.list_studies()
    assert len(studies) == 2 and all(len(lab.store.study_runs(s["id"])) == 4 for s in studies)
    error = next(answer["error"] for _, status, answer in results if status == 429)
    assert error.startswith("this study has 4 runs; 8 study runs are waiting and at most 10 may (the study queue limit")
    assert "2 are free now" in error


def sweep(penalties, count, seeds=10):
    """A study of len(penalties) settings per λ × count λs × seeds runs ('none' counts once)."""
    return {"name": "big sweep", "penalties": penalties, "lam_range": {"low": 1e-5, "high": 1e-1, "count": count},
            "seeds": seeds, "settings": TINY}


def test_a_study_up_to_its_cap_launches_whatever_else_waits(make_app):
    client = make_app(WORKERS=0).test_client()  # the default limits
    status = client.get("/api/status").get_json()
    assert (status["queue_limit"], status["study_queue_limit"]) == (100, 900)
    for _ in range(100):
        assert client.post("/api/runs", json=TINY).status_code == 201
    full = client.post("/api/runs", json=TINY)
    assert full.status_code == 429 and "100 runs are waiting and at most 100 may (the queue limit" in full.get_json()["error"]

    # The λ-sweep preset with 10 seeds, then a 210-run and a 300-run study (the cap) queue alongside.
    sizes = []
    for body in (sweep(["none", "l1", "l2"], 5), sweep(["none", "l1", "l2"], 10), sweep(["l1", "l2"], 15)):
        response = client.post("/api/studies", json=body)
        assert response.status_code == 201, response.get_json()
        sizes.append(len(response.get_json()["runs"]))
    assert sizes == [110, 210, 300]
    status = client.get("/api/status").get_json()
    assert (status["queue_length"], status["study_queue_length"]) == (100, 620)

    # The study bound is exact: 280 more study runs fit, 281 do not.
    assert client.post("/api/studies", json=sweep(["l1"], 20)).status_code == 201  # 200 runs: 820 wait
    response = client.post("/api/studies", json=sweep(["l1"], 9, seeds=9))  # 81 runs: one more than the 80 free
    assert response.status_code == 429
    assert response.get_json()["error"] == (
        "this study has 81 runs; 820 study runs are waiting and at most 900 may (the study queue limit, counted "
        "apart from runs launched on their own), and 80 are free now. Wait for some to finish or cancel some")
    assert client.post("/api/studies", json=sweep(["l1"], 10, seeds=8)).status_code == 201  # exactly 80
    assert client.get("/api/status").get_json()["study_queue_length"] == 900


def test_a_study_larger_than_the_study_queue_limit_says_so(make_app):
    client = make_app(WORKERS=0, STUDY_QUEUE_LIMIT=5).test_client()
    response = client.post("/api/studies", json={"penalties": ["l1", "l2"], "lams": [1e-3, 1e-2, 1e-1], "settings": TINY})
    assert response.status_code == 429
    assert response.get_json()["error"].endswith("so a study may have at most 5 runs on this server")
    assert client.get("/api/studies").get_json() == [] and client.get("/api/runs").get_json() == []
