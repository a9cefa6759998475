"""Property-based: arbitrary JSON at every endpoint and socket message never gives a 500 or stores bad settings."""
import json
import math
import socket
import sys
import unicodedata
import urllib.request
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from simple_websocket import Client

from engine import RunConfig
from engine.config import CHOICES

from .conftest import LiveServer

SETTING_NAMES = [f for f in RunConfig.__dataclass_fields__]
# JSON integers have any size: past SQLite's 64 bits, and past the float range (~1.8e308).
huge_ints = (st.integers(min_value=2**63 - 1, max_value=10**400) | st.integers(min_value=-(10**400), max_value=-(2**63))
             | st.sampled_from([2**63, -(2**63) - 1, 10**309, -(10**309)]))
numbers = st.integers(min_value=-(2**70), max_value=2**70) | huge_ints | st.floats(allow_nan=True, allow_infinity=True)
# Besides ordinary text: lone surrogates (JSON's "\ud800" escapes) and digits of other scripts ("５").
texts = st.text(max_size=30) | st.text(st.characters(categories=["Cs", "Nd"]) | st.characters(), max_size=30)
scalars = (st.none() | st.booleans() | numbers | texts | st.sampled_from([c for choices in CHOICES.values() for c in choices]))
any_json = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
                        max_leaves=12)
# Bodies that look like run or study settings, so the validation is reached field by field.
settings_like = st.dictionaries(st.sampled_from(SETTING_NAMES + ["label", "lam_l1", "lam_l2", "name", "penalties", "lams",
                                                                 "lam_range", "seeds", "settings"]),
                                numbers | texts | any_json, max_size=6)
bodies = settings_like | any_json
# The zero of every script's decimal digits ("0", "٠", "０", …): a number spelled in any of them.
DIGIT_ZEROS = [c for c in range(sys.maxunicode + 1) if unicodedata.decimal(chr(c), None) == 0]


def spelled(number: int, zero: int) -> str:
    return "".join(chr(zero + int(d)) if d.isdigit() else d for d in str(number))


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def fuzz_client(tmp_path_factory):
    from app import create_app

    app = create_app({"DATABASE": str(tmp_path_factory.mktemp("fuzz") / "db.sqlite"), "WORKERS": 0,
                      "QUEUE_LIMIT": 10_000})
    app.extensions["normlab"].start()
    yield app.test_client()
    app.extensions["normlab"].shutdown()


def check_answer(response):
    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    body = response.get_json()
    if response.status_code >= 400:
        assert isinstance(body["error"], str) and body["error"]
    return body


@FUZZ
@given(body=bodies, path=st.sampled_from(["/api/runs", "/api/comparisons", "/api/studies"]))
@example(body={"label": "\ud800"}, path="/api/runs")  # each a 500 once
@example(body={"name": "a\udfff"}, path="/api/studies")
@example(body={"lr": 10**400}, path="/api/runs")
@example(body={"lam_l2": -(10**309)}, path="/api/comparisons")
@example(body={"lams": [10**400]}, path="/api/studies")
@example(body={"lam_range": {"low": 10**400, "high": 1, "count": 2}}, path="/api/studies")
def test_any_json_body(fuzz_client, body, path):
    data = json.dumps(body, allow_nan=True)
    response = fuzz_client.post(path, data=data, content_type="application/json")
    answer = check_answer(response)
    if response.status_code == 201:
        runs = answer["runs"] if "runs" in answer else [answer]
        for run in runs:
            run_id = run["id"] if isinstance(run, dict) else run
            stored = fuzz_client.get(f"/api/runs/{run_id}").get_json()["settings"]
            assert RunConfig.from_dict(stored).to_dict() == stored
            assert all(not isinstance(v, float) or math.isfinite(v) for v in stored.values())


@FUZZ
@given(raw=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_any_bytes_as_a_body(fuzz_client, raw):
    check_answer(fuzz_client.post("/api/runs", data=raw, content_type="application/json"))


@FUZZ
@given(run_id=st.none() | st.integers(min_value=0, max_value=2**64) | huge_ints | texts,
       after=texts | st.integers(min_value=-(10**30), max_value=10**30).map(str) | huge_ints.map(str),
       action=st.sampled_from(["GET metrics", "POST cancel", "POST rerun", "DELETE", "GET"]))
@example(run_id=None, after=str(2**63), action="GET metrics")  # a 500 once (OverflowError binding it)
@example(run_id="\ud800", after="\udfff", action="GET metrics")
def test_any_id_and_query(fuzz_client, run_id, after, action):
    """Any id (None: a new run, so that the query is read) and any ``after``."""
    method, _, suffix = action.partition(" ")
    if run_id is None:
        run_id = fuzz_client.post("/api/runs", json={"dataset": "synthetic"}).get_json()["id"]
    # Lone surrogates go out as the (invalid UTF-8) bytes a client can put on the wire.
    path = f"/api/runs/{quote(str(run_id), safe='', errors='surrogatepass')}" + (f"/{suffix}" if suffix else "")
    if suffix == "metrics":
        path += f"?after={quote(after, safe='', errors='surrogatepass')}"
    response = fuzz_client.open(path, method=method)
    check_answer(response)


@FUZZ
@given(zero=st.sampled_from(DIGIT_ZEROS),
       where=st.sampled_from([("run", "/api/runs/{}"), ("run", "/api/runs/{}/metrics"), ("run", "/api/runs/{}/weights"),
                              ("run", "/runs/{}"), ("study", "/api/studies/{}"), ("study", "/api/studies/{}.csv"),
                              ("study", "/studies/{}"), ("after", "/api/runs/{run}/metrics?after={}")]))
def test_numbers_in_paths_and_queries_are_ascii_digits_only(fuzz_client, existing, zero, where):
    """``/api/runs/５`` must not be run 5: one resource, one address (Werkzeug's int converter takes any script)."""
    kind, template = where
    number = spelled(existing[kind], zero)
    response = fuzz_client.get(template.format(quote(number), run=existing["run"]))
    if zero == ord("0"):
        assert response.status_code == 200
    else:
        assert response.status_code == (400 if kind == "after" else 404), number


@pytest.fixture(scope="module")
def existing(fuzz_client):
    """A run, a study and a sequence number to find (they stay queued: the fuzz app has no workers)."""
    run = fuzz_client.post("/api/runs", json={"dataset": "synthetic"}).get_json()["id"]
    study = fuzz_client.post("/api/studies", json={"penalties": ["none"], "settings": {"dataset": "synthetic"}})
    return {"run": run, "study": study.get_json()["id"], "after": 12}


def test_ping_with_a_non_finite_time(fuzz_server):
    ws = Client.connect(fuzz_server.ws_url)
    ws.send('{"type": "ping", "time": NaN}')
    replies = [json.loads(ws.receive(timeout=5)) for _ in range(2)]
    assert [r.get("field") for r in replies if r["type"] == "error"] == ["time"]
    ws.close()


def test_deeply_nested_body(fuzz_client):
    depth = 20000
    response = fuzz_client.post("/api/runs", data="[" * depth + "]" * depth, content_type="application/json")
    assert response.status_code == 400


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory):
    from app import create_app

    app = create_app({"DATABASE": str(tmp_path_factory.mktemp("wsfuzz") / "db.sqlite"), "WORKERS": 0})
    app.extensions["normlab"].start()
    server = LiveServer(app)
    yield server
    server.stop()


messages = st.fixed_dictionaries({"type": st.sampled_from(["subscribe", "unsubscribe", "rate", "ping", "other"]) | any_json},
                                 optional={"runs": any_json | st.dictionaries(texts, numbers | any_json, max_size=3),
                                           "time": numbers | any_json, "max_frames_per_second": numbers | any_json})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(message=messages)
@example(message={"type": "ping", "time": 10**400})  # each killed the socket's handler once
@example(message={"type": "rate", "max_frames_per_second": -(10**400)})
def test_any_socket_message_gets_an_answer_and_the_socket_survives(fuzz_server, message):
    ws = Client.connect(fuzz_server.ws_url)
    try:
        ws.send(json.dumps(message, allow_nan=True))
        ws.send(json.dumps({"type": "ping", "time": 1}))
        replies = []
        while not replies or replies[-1] != {"type": "pong", "time": 1}:
            raw = ws.receive(timeout=5)
            assert raw is not None, f"no answer to {message!r}"
            replies.append(json.loads(raw))
        for reply in replies:
            if reply["type"] == "error":
                assert isinstance(reply["error"], str) and reply["error"]
    finally:
        ws.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(zero=st.sampled_from(DIGIT_ZEROS))
def test_run_ids_in_other_scripts_are_refused_on_the_socket(fuzz_server, zero):
    run = fuzz_server.app.extensions["normlab"].store.create_run({}, "fuzz")  # a row is all a subscribe needs
    ws = Client.connect(fuzz_server.ws_url)
    try:
        ws.send(json.dumps({"type": "subscribe", "runs": {spelled(run, zero): -1}}))
        ws.send(json.dumps({"type": "ping", "time": 1}))
        replies = []
        while not replies or replies[-1] != {"type": "pong", "time": 1}:
            raw = ws.receive(timeout=5)
            assert raw is not None
            replies.append(json.loads(raw))
        refused = any(r["type"] == "error" and r.get("field") == "runs" for r in replies)
        assert refused == (zero != ord("0")), replies
    finally:
        ws.close()


VALID_KEY = b"MDEyMzQ1Njc4OWFiY2RlZg=="
header_values = st.binary(max_size=40).filter(lambda b: b"\r" not in b and b"\n" not in b)
header_names = (st.text("-!#$%&'*+.^_`|~0123456789abcdefXYZ", min_size=1, max_size=12).map(str.encode)
                | st.binary(min_size=1, max_size=12).filter(lambda b: not set(b) & set(b":\r\n \t")))
handshakes = st.fixed_dictionaries({
    "Host": st.sampled_from([b"127.0.0.1", b"localhost:1", b"evil.example", b""]) | st.none(),
    "Upgrade": st.sampled_from([b"websocket", b"WebSocket", b"h2c", b"websocket, h2c", b""]) | st.none() | header_values,
    "Connection": st.sampled_from([b"Upgrade", b"keep-alive, Upgrade", b"close", b"upgrade,upgrade"]) | st.none()
                  | header_values,
    "Sec-WebSocket-Key": st.sampled_from([VALID_KEY, b"abc", VALID_KEY[:-1], b"A" * 30 + b"==", VALID_KEY + b", " + VALID_KEY])
                         | st.none() | header_values,
    "Sec-WebSocket-Version": st.sampled_from([b"13", b"8", b"", b"13, 8", b"0013", b"9" * 30]) | st.none() | header_values,
    "more": st.lists(st.tuples(header_names, header_values), max_size=3),
})


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(handshake=handshakes)
@example(handshake={"Host": b"127.0.0.1", "Upgrade": b"websocket", "Connection": b"Upgrade",  # each a 500 once
                    "Sec-WebSocket-Key": VALID_KEY, "Sec-WebSocket-Version": b"8", "more": []})
@example(handshake={"Host": b"127.0.0.1", "Upgrade": b"websocket", "Connection": b"Upgrade",
                    "Sec-WebSocket-Key": None, "Sec-WebSocket-Version": b"13", "more": []})
@example(handshake={"Host": b"127.0.0.1", "Upgrade": b"websocket", "Connection": b"Upgrade",
                    "Sec-WebSocket-Key": VALID_KEY, "Sec-WebSocket-Version": b"13", "more": [(b"X-A", b"\x00")]})
def test_any_handshake_gets_an_answer_below_500_and_the_server_goes_on(fuzz_server, handshake):
    lines = [name.encode() + b": " + value for name, value in handshake.items() if name != "more" and value is not None]
    lines += [name + b": " + value for name, value in handshake["more"]]
    with socket.create_connection(("127.0.0.1", fuzz_server.port), timeout=5) as conn:
        conn.sendall(b"GET /ws HTTP/1.1\r\n" + b"".join(line + b"\r\n" for line in lines) + b"\r\n")
        status_line = conn.makefile("rb").readline()
    assert status_line.startswith(b"HTTP/1.1 "), status_line
    assert int(status_line.split()[1]) < 500, status_line
    with urllib.request.urlopen(fuzz_server.url + "/api/status", timeout=5) as response:
        assert response.status == 200
