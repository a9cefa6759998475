"""Property-based: arbitrary JSON at every endpoint and socket message never gives a 500 or stores bad settings."""
import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from simple_websocket import Client

from engine import RunConfig
from engine.config import CHOICES

from .conftest import LiveServer

SETTING_NAMES = [f for f in RunConfig.__dataclass_fields__]
scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=30)
           | st.sampled_from([c for choices in CHOICES.values() for c in choices]))
any_json = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
                        max_leaves=12)
# Bodies that look like run settings, so the validation is reached field by field.
settings_like = st.dictionaries(st.sampled_from(SETTING_NAMES + ["label", "lam_l1", "penalties", "lams", "seeds"]),
                                any_json, max_size=6)
bodies = settings_like | any_json
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def fuzz_client(tmp_path_factory):
    from app import create_app

    app = create_app({"DATABASE": str(tmp_path_factory.mktemp("fuzz") / "db.sqlite"), "WORKERS": 0,
                      "QUEUE_LIMIT": 100_000})
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
@given(run_id=st.integers(min_value=0, max_value=2**63), after=st.text(max_size=30),
       action=st.sampled_from(["GET metrics", "POST cancel", "POST rerun", "DELETE", "GET"]))
def test_any_id_and_query(fuzz_client, run_id, after, action):
    method, _, suffix = action.partition(" ")
    path = f"/api/runs/{run_id}" + (f"/{suffix}" if suffix else "")
    response = fuzz_client.open(path, method=method, query_string={"after": after} if suffix == "metrics" else None)
    check_answer(response)


def test_ping_with_a_non_finite_time(fuzz_server):
    ws = Client.connect(fuzz_server.ws_url)
    ws.send('{"type": "ping", "time": NaN}')
    replies = [json.loads(ws.receive(timeout=5)) for _ in range(2)]
    assert {"type": "pong", "time": None} in replies
    ws.close()


def test_deeply_nested_body(fuzz_client):
    depth = 20000
    response = fuzz_client.post("/api/runs", data="[" * depth + "]" * depth, content_type="application/json")
    assert response.status_code == 400


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory):
    from app import create_app

    server = LiveServer(create_app({"DATABASE": str(tmp_path_factory.mktemp("wsfuzz") / "db.sqlite"), "WORKERS": 0}))
    yield server
    server.stop()


messages = st.fixed_dictionaries({"type": st.sampled_from(["subscribe", "unsubscribe", "rate", "ping", "other"]) | any_json},
                                 optional={"runs": any_json | st.dictionaries(st.text(max_size=8), any_json, max_size=3),
                                           "time": any_json, "max_frames_per_second": any_json})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(message=messages)
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
