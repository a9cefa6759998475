"""The live stream against a real server: every point once and in order, for late, reconnecting, slow clients."""
import json
import sqlite3
import time
import urllib.request

from simple_websocket import Client

from .conftest import TINY, wait_for

STREAMED = {**TINY, "train_size": 400, "batch_size": 10, "epochs": 6}  # 240 batch events, ~0.5 s


def post(server, path, body):
    request = urllib.request.Request(server.url + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def get(server, path):
    with urllib.request.urlopen(server.url + path, timeout=10) as response:
        return json.load(response)


class Viewer:
    """A socket client that records, per run, every sequence number it received, in order."""

    def __init__(self, server):
        self.ws = Client.connect(server.ws_url)
        self.seqs: dict[int, list[int]] = {}
        self.finals: dict[int, dict] = {}
        self.messages: list[dict] = []
        self.frame_times: list[float] = []
        # Not waiting for "hello" here: simple-websocket's client keeps a message that arrives
        # with the handshake answer unread until more data comes (tests only; browsers are fine);
        # wait_hello() pings to get it out.

    def next(self, timeout=5.0):
        raw = self.ws.receive(timeout=timeout)
        if raw is None:
            return None
        message = json.loads(raw)
        self.messages.append(message)
        if message["type"] == "frame":
            self.frame_times.append(time.monotonic())
            for entry in message["runs"]:
                got = self.seqs.setdefault(entry["run"], [])
                seqs = list(entry.get("batch", {}).get("seq", [])) + list(entry.get("epoch", {}).get("seq", []))
                seqs += [entry[k]["seq"] for k in ("start", "final") if k in entry]
                seqs.sort()
                assert seqs[0] == entry["first_seq"] and seqs[-1] == entry["last_seq"]
                got.extend(seqs)
                if "final" in entry:
                    self.finals[entry["run"]] = entry["final"]
        return message

    def wait_hello(self):
        """Nudge the socket so the hello arrives, and wait for it (run messages follow from then on)."""
        self.ws.send(json.dumps({"type": "ping", "time": 7}))
        wait_for(lambda: self.next(1.0) and self.messages[-1] == {"type": "pong", "time": 7}, message="pong")
        assert self.messages[0]["type"] == "hello"

    def subscribe(self, runs):
        self.ws.send(json.dumps({"type": "subscribe", "runs": {str(k): v for k, v in runs.items()}}))

    def run_messages_until(self, run_id, status, timeout=30.0):
        """The views of ``run_id`` heard in ``run`` messages, up to the first with ``status``."""
        heard = []

        def reached():
            message = self.next(0.5)
            if message and message["type"] == "run" and message["run"]["id"] == run_id:
                heard.append(message["run"])
            return heard and heard[-1]["status"] == status

        wait_for(reached, timeout, message=f"run {run_id}'s messages up to {status}")
        return heard

    def until_final(self, run_id, timeout=30):
        deadline = time.monotonic() + timeout
        while run_id not in self.finals:
            assert time.monotonic() < deadline, f"no final event for run {run_id}"
            self.next(timeout=1.0)

    def close(self):
        self.ws.close()


def total_events(server, run_id):
    return get(server, f"/api/runs/{run_id}/metrics")["last_seq"] + 1


def test_live_viewer_gets_every_event_once_in_order(live_server):
    viewer = Viewer(live_server)
    run = post(live_server, "/api/runs", {**STREAMED, "epochs": 30, "hidden": 64})  # ~1 s of training
    viewer.subscribe({run["id"]: -1})
    viewer.until_final(run["id"])
    # the final event is sent only once stored: the API already shows the run finished
    assert get(live_server, f"/api/runs/{run['id']}")["status"] == "completed"
    assert viewer.seqs[run["id"]] == list(range(total_events(live_server, run["id"])))
    assert viewer.finals[run["id"]]["event"] == "done"
    # at most 20 frames in any second, as they arrive (the sender spaces them ≥ 55 ms apart)
    times = viewer.frame_times
    assert 2 < len(times) <= (times[-1] - times[0]) * 20 + 2
    assert max(sum(1 for u in times if t <= u < t + 1.0) for t in times) <= 20
    viewer.close()


def test_late_join_and_reconnect_get_exactly_the_rest(live_server):
    run = post(live_server, "/api/runs", {**STREAMED, "epochs": 12})
    first = Viewer(live_server)
    first.subscribe({run["id"]: -1})
    wait_for(lambda: first.next(0.5) and len(first.seqs.get(run["id"], [])) > 60, message="some events")
    held = first.seqs[run["id"]][-1]
    first.close()  # the tab goes away mid-run
    again = Viewer(live_server)
    again.subscribe({run["id"]: held})
    again.until_final(run["id"])
    assert first.seqs[run["id"]] + again.seqs[run["id"]] == list(range(total_events(live_server, run["id"])))
    late = Viewer(live_server)  # after the run ended: everything from the store
    late.subscribe({run["id"]: -1})
    late.until_final(run["id"])
    assert late.seqs[run["id"]] == list(range(total_events(live_server, run["id"])))
    again.close()
    late.close()


def test_two_clients_and_a_stalled_one(live_server):
    stalled = Viewer(live_server)
    run = post(live_server, "/api/runs", {**STREAMED, "epochs": 10})
    stalled.subscribe({run["id"]: -1})  # ...and then reads nothing while the run goes on
    a, b = Viewer(live_server), Viewer(live_server)
    a.subscribe({run["id"]: -1})
    b.subscribe({run["id"]: -1})
    a.until_final(run["id"])
    b.until_final(run["id"])
    expected = list(range(total_events(live_server, run["id"])))
    assert a.seqs[run["id"]] == expected and b.seqs[run["id"]] == expected
    assert get(live_server, f"/api/runs/{run['id']}")["status"] == "completed"
    stalled.until_final(run["id"])  # when it reads again it still gets everything, once
    assert stalled.seqs[run["id"]] == expected
    for viewer in (a, b, stalled):
        viewer.close()


def test_every_socket_hears_run_changes(live_server):
    viewer = Viewer(live_server)
    viewer.wait_hello()
    run = post(live_server, "/api/runs", TINY)
    statuses = [view["status"] for view in viewer.run_messages_until(run["id"], "completed")]
    assert statuses[0] == "queued" and "running" in statuses
    viewer.close()


def test_hello_then_bad_messages_get_an_error_and_the_socket_stays_usable(live_server):
    viewer = Viewer(live_server)
    for raw, expected in [('{"type": "shout"}', "unknown message type"),
                          ('{"type": "subscribe", "runs": [1]}', '"runs" must be an object'),
                          ('{"type": "subscribe", "runs": {"abc": -1}}', "positive whole number"),
                          ('{"type": "subscribe", "runs": {"1": "x"}}', "sequence number"),
                          ('{"type": "subscribe", "runs": {"424242": -1}}', "no run 424242")]:
        viewer.ws.send(raw)
        message = wait_for(lambda: (m := viewer.next(1.0)) and m["type"] == "error" and m, message=raw)
        assert expected in message["error"]
    run = post(live_server, "/api/runs", TINY)
    viewer.subscribe({run["id"]: -1})
    viewer.until_final(run["id"])
    assert viewer.messages[0] == {"type": "hello", "max_frames_per_second": 20}
    viewer.close()


def test_a_client_can_ask_for_fewer_frames_and_bad_rates_are_refused(live_server):
    viewer = Viewer(live_server)
    viewer.wait_hello()
    for bad in (0, 0.5, 21, "fast", True, None, [5]):
        viewer.ws.send(json.dumps({"type": "rate", "max_frames_per_second": bad}))
        wait_for(lambda: viewer.next(1.0) and viewer.messages[-1]["type"] == "error", message="an error")
        assert viewer.messages[-1]["field"] == "max_frames_per_second" and "from 1 to 20" in viewer.messages[-1]["error"]
    viewer.ws.send(json.dumps({"type": "rate", "max_frames_per_second": 4}))
    wait_for(lambda: viewer.next(1.0) and viewer.messages[-1]["type"] == "rate", message="the rate answer")
    assert viewer.messages[-1] == {"type": "rate", "max_frames_per_second": 4}
    run = post(live_server, "/api/runs", {**STREAMED, "epochs": 40, "hidden": 64})  # ~1.5 s of training
    viewer.subscribe({run["id"]: -1})
    viewer.until_final(run["id"])
    assert viewer.seqs[run["id"]] == list(range(total_events(live_server, run["id"])))  # every point still, in fewer frames
    times = viewer.frame_times
    assert len(times) > 2 and max(sum(1 for u in times if t <= u < t + 1.0) for t in times) <= 4
    viewer.close()


def test_numbers_past_the_float_range_get_answers_and_the_socket_stays(live_server):
    viewer = Viewer(live_server)
    viewer.wait_hello()
    huge = "9" * 400  # a JSON integer math.isfinite() and float() cannot take
    viewer.ws.send('{"type": "ping", "time": %s}' % huge)
    wait_for(lambda: viewer.next(1.0) and viewer.messages[-1]["type"] == "error", message="an error")
    assert viewer.messages[-1]["field"] == "time"  # as for NaN: not a number a page can hold
    viewer.ws.send('{"type": "rate", "max_frames_per_second": -%s}' % huge)
    wait_for(lambda: viewer.next(1.0) and viewer.messages[-1]["type"] == "error", message="an error")
    assert viewer.messages[-1]["field"] == "max_frames_per_second"
    viewer.wait_hello()  # still open and answering
    viewer.close()


def test_run_ids_in_other_scripts_are_refused_on_the_socket(live_server):
    run = post(live_server, "/api/runs", TINY)
    viewer = Viewer(live_server)
    viewer.wait_hello()
    for other in ("１", "١", f"{run['id']} ", f"+{run['id']}"):
        viewer.ws.send(json.dumps({"type": "subscribe", "runs": {other: -1}}))
        wait_for(lambda: viewer.next(1.0) and viewer.messages[-1]["type"] == "error", message=f"an error for {other!r}")
        assert viewer.messages[-1]["field"] == "runs"
    viewer.close()


def test_an_unexpected_error_handling_a_message_answers_an_error_and_keeps_the_socket(live_server, monkeypatch, caplog):
    run = post(live_server, "/api/runs", TINY)
    wait_for(lambda: get(live_server, f"/api/runs/{run['id']}")["status"] == "completed", message="the run")
    store = live_server.app.extensions["normlab"].store

    def locked(run_id):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(store, "get_run", locked)  # a fault no message can cause on purpose (no run is going)
    viewer = Viewer(live_server)
    viewer.wait_hello()
    viewer.subscribe({run["id"]: -1})
    wait_for(lambda: viewer.next(1.0) and viewer.messages[-1]["type"] == "error", message="an error frame")
    assert "could not handle this message" in viewer.messages[-1]["error"]
    assert any("database is locked" in (r.exc_text or "") or r.exc_info for r in caplog.records
               if "could not handle a socket message" in r.getMessage())
    monkeypatch.undo()
    viewer.subscribe({run["id"]: -1})  # the same socket works once the fault is gone
    viewer.until_final(run["id"])
    viewer.close()
