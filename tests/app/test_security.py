"""Host and Origin checks, the token, and security headers."""
import base64
import http.client
import json

from simple_websocket import Client

from .conftest import TINY


def test_foreign_host_is_refused(client):
    response = client.get("/api/runs", headers={"Host": "evil.example:5000"})
    assert response.status_code == 403 and "not one this server answers to" in response.get_json()["error"]
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 403
    assert client.get("/api/runs", headers={"Host": "127.0.0.1:5000"}).status_code == 200


def test_allowed_host_setting(make_app):
    client = make_app(ALLOWED_HOSTS=("lab.internal",)).test_client()
    assert client.get("/api/runs", headers={"Host": "lab.internal:5000"}).status_code == 200


def test_cross_site_post_is_refused_and_same_site_accepted(client):
    response = client.post("/api/runs", json=TINY, headers={"Origin": "http://evil.example"})
    assert response.status_code == 403 and "another site" in response.get_json()["error"]
    response = client.post("/api/runs", json=TINY, headers={"Origin": "http://localhost"})
    assert response.status_code == 201
    assert client.get("/api/runs", headers={"Origin": "http://evil.example"}).status_code == 200


def test_a_plain_html_form_cannot_launch_a_run(client):
    for content_type, body in [("application/x-www-form-urlencoded", "hidden=8&epochs=1"),
                               ("text/plain", json.dumps(TINY)), ("multipart/form-data; boundary=x", "--x--")]:
        response = client.post("/api/runs", data=body, content_type=content_type)
        assert response.status_code == 400
    assert client.get("/api/runs").get_json() == []


def test_security_headers_on_pages_and_api(client):
    for path in ("/", "/api/runs"):
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-eval" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def handshake_status(server, origin):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("GET", "/ws", headers={
        "Host": f"127.0.0.1:{server.port}", "Upgrade": "websocket", "Connection": "Upgrade", "Origin": origin,
        "Sec-WebSocket-Key": base64.b64encode(b"0123456789abcdef").decode(), "Sec-WebSocket-Version": "13"})
    status = connection.getresponse().status
    connection.close()
    return status


def test_websocket_from_a_foreign_origin_is_refused(live_server):
    assert handshake_status(live_server, "http://evil.example") == 403
    assert handshake_status(live_server, f"http://127.0.0.1:{live_server.port + 1}") == 403
    assert handshake_status(live_server, live_server.url) == 101
    ws = Client.connect(live_server.ws_url, headers={"Origin": live_server.url})
    ws.send(json.dumps({"type": "ping"}))
    assert json.loads(ws.receive(timeout=5))["type"] == "hello"
    ws.close()


def test_token_is_required_when_set(make_app):
    client = make_app(TOKEN="s3cret").test_client()
    response = client.get("/api/runs")
    assert response.status_code == 401 and "token" in response.get_json()["error"]
    assert client.get("/api/runs", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/api/runs", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    assert client.get("/").status_code == 401
    assert client.get("/?token=wrong").status_code == 403
    response = client.get("/?token=s3cret")
    assert response.status_code == 302 and "HttpOnly" in response.headers["Set-Cookie"]
    assert client.get("/api/runs").status_code == 200  # the cookie now carries the token
