"""Many viewers on one run, a stalled viewer, and a burst of API requests (bounded in count and time)."""
import json
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from simple_websocket import Client

from .conftest import wait_for
from .test_ws import Viewer, get, post

# Seed-sized data (20 000 examples, batch 64: 313 batch events per epoch), a small hidden layer.
SEED_SIZED = {"dataset": "synthetic", "train_size": 20000, "batch_size": 64, "hidden": 32, "epochs": 3}
VIEWERS = 50


def test_fifty_viewers_each_get_every_point_once_and_a_stalled_one_does_not_hold_them_up(make_app):
    from .conftest import LiveServer

    server = LiveServer(make_app(MAX_SOCKETS=VIEWERS + 5))
    try:
        stalled = Client.connect(server.ws_url)  # subscribes, then never reads
        run = post(server, "/api/runs", SEED_SIZED)
        stalled.send(json.dumps({"type": "subscribe", "runs": {str(run["id"]): -1}}))
        viewers = [Viewer(server) for _ in range(VIEWERS)]
        for viewer in viewers:
            viewer.subscribe({run["id"]: -1})
        errors = []

        def follow(viewer):
            try:
                viewer.until_final(run["id"], timeout=120)
            except Exception as exc:  # collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=follow, args=(v,)) for v in viewers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(150)
        assert errors == []
        expected = list(range(get(server, f"/api/runs/{run['id']}/metrics")["last_seq"] + 1))
        assert len(expected) > 3 * 313
        for viewer in viewers:
            assert viewer.seqs[run["id"]] == expected
        assert get(server, f"/api/runs/{run['id']}")["status"] == "completed"
        for viewer in viewers:
            viewer.close()
        stalled.close()
    finally:
        server.stop()


def test_a_thousand_api_requests_from_twenty_threads(make_app):
    from .conftest import LiveServer

    server = LiveServer(make_app(WORKERS=0, QUEUE_LIMIT=200))  # runs stay queued: about the server, not training
    try:
        run = post(server, "/api/runs", {"dataset": "synthetic", "train_size": 300, "batch_size": 50})
        paths = ["/api/runs", f"/api/runs/{run['id']}", f"/api/runs/{run['id']}/metrics", "/api/status",
                 "/api/schema", "/api/runs/99999"]

        def request(i):
            if i % 10 == 0:
                body = json.dumps({"dataset": "synthetic", "train_size": 300, "batch_size": 50, "seed": i}).encode()
                req = urllib.request.Request(server.url + "/api/runs", data=body, method="POST",
                                             headers={"Content-Type": "application/json"})
            else:
                req = urllib.request.Request(server.url + paths[i % len(paths)])
            try:
                with urllib.request.urlopen(req, timeout=30) as response:
                    return response.status
            except urllib.error.HTTPError as exc:
                return exc.code

        started = time.monotonic()
        with ThreadPoolExecutor(20) as pool:
            statuses = list(pool.map(request, range(1000)))
        assert time.monotonic() - started < 120
        assert all(s in (200, 201, 404) for s in statuses), sorted(set(statuses))
        assert statuses.count(201) == 100 and statuses.count(404) == sum(1 for i in range(1000) if i % 10 and i % 6 == 5)
        wait_for(lambda: len(get(server, "/api/runs")) == 101)
    finally:
        server.stop()
