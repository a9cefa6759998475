"""Host and Origin checks, the token, and security headers."""
import base64
import http.client
import ipaddress
import json
import re
import threading
from urllib.parse import unquote, urljoin, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from simple_websocket import Client
from werkzeug.serving import make_server

from app.exposure import access_settings, exposure_notice
from app.security import local_location

from .conftest import TINY, LiveServer


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


def test_bearer_scheme_is_case_insensitive(make_app):
    client = make_app(TOKEN="s3cret").test_client()
    for header in ("bearer s3cret", "BEARER s3cret", "Bearer   s3cret"):
        assert client.get("/api/runs", headers={"Authorization": header}).status_code == 200, header
    for header in ("Basic s3cret", "Bearers3cret", "Bearer", "bearer wrong"):
        assert client.get("/api/runs", headers={"Authorization": header}).status_code == 401, header


def test_token_redirect_keeps_the_rest_of_the_query(make_app):
    client = make_app(TOKEN="s3cret").test_client()
    response = client.get("/compare?runs=1,2&token=s3cret")
    assert response.status_code == 302 and response.headers["Location"] == "/compare?runs=1,2"
    response = client.get("/compare?a=1&token=s3cret&a=x%26y&b=%C3%A9")
    assert response.headers["Location"] == "/compare?a=1&a=x%26y&b=%C3%A9"
    assert client.get("/?token=s3cret").headers["Location"] == "/"
    assert client.get("/compare?runs=1,2").status_code == 200  # the cookie now carries the token


# A browser resolving a Location drops C0 controls and spaces around it and tabs and newlines
# anywhere, and reads "\" as "/" (WHATWG URL standard); urljoin does the rest.
def resolve_like_a_browser(location: str, base: str = "http://127.0.0.1:5000/") -> str:
    cleaned = location.strip("".join(map(chr, range(0x21))))
    return urljoin(base, re.sub("[\t\n\r]", "", cleaned).replace("\\", "/"))


ON_THIS_SERVER = re.compile(r"/(?!/)[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*(\?[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*)?")
# Paths as Werkzeug hands them over (decoded UTF-8, so no lone surrogates), with the tricky characters often.
PATHS = st.text(st.one_of(st.sampled_from("/\\\t\n\r\x00 .:@?#%"), st.characters(exclude_categories=("Cs",))))


@given(path=PATHS, query=st.lists(st.tuples(PATHS, PATHS), max_size=3))
@settings(max_examples=400, deadline=None)
def test_the_token_redirect_stays_on_this_server_whatever_the_path(path, query):
    location = local_location(path, query)
    assert ON_THIS_SERVER.fullmatch(location), location
    resolved = urlsplit(resolve_like_a_browser(location))
    assert (resolved.scheme, resolved.netloc) == ("http", "127.0.0.1:5000"), location
    assert unquote(urlsplit(location).path) == "/" + path.lstrip("/")  # the same page, leading slashes as one


def test_a_token_url_crafted_to_leave_the_server_redirects_on_it(make_app):
    server = LiveServer(make_app(TOKEN="s3cret"))
    try:
        for path in ("/%09/evil.example", "/%5Cevil.example", "/%5C%5Cevil.example", "/%2F%2Fevil.example",
                     "//evil.example", "///evil.example", "/%0D%0A/evil.example", "/%00//evil.example"):
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            connection.request("GET", f"{path}?token=s3cret")
            response = connection.getresponse()
            location = response.getheader("Location")
            connection.close()
            assert response.status == 302, path
            assert urlsplit(resolve_like_a_browser(location)).netloc == "127.0.0.1:5000", (path, location)
            assert not location.startswith(("//", "/\\")) and "\t" not in location, (path, location)
    finally:
        server.stop()


def test_wildcard_bind_allows_this_machines_addresses_and_says_which_urls_work(make_app):
    token, allowed, addresses = access_settings("0.0.0.0", None, ("lab.internal",))
    assert token and "lab.internal" in allowed and set(addresses) <= set(allowed)
    assert all(ipaddress.ip_address(a).version == 4 and not ipaddress.ip_address(a).is_loopback for a in addresses)
    notice = exposure_notice("0.0.0.0", 5123, token, addresses)
    assert f"http://127.0.0.1:5123/?token={token}" in notice and "--allow-host NAME" in notice
    for address in addresses:
        assert f"http://{address}:5123/?token={token}" in notice
    assert "http://[2001:db8::7]:80/?token=T" in exposure_notice("::", 80, "T", ("2001:db8::7",))
    assert "none" in exposure_notice("0.0.0.0", 80, "T", ())
    if not addresses:
        pytest.skip("this machine has no address beyond loopback to open the server at")
    # The URLs work: a server bound as `serve` binds it answers each address, and no other name.
    app = make_app(TOKEN=token, ALLOWED_HOSTS=allowed)
    server = make_server("0.0.0.0", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        for address in addresses:
            assert get_status(address, server.server_port, "/api/runs", token) == 200, address
        assert get_status(addresses[0], server.server_port, "/api/runs", token, host="evil.example") == 403
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def get_status(address: str, port: int, path: str, token: str, host: str | None = None) -> int:
    connection = http.client.HTTPConnection(address, port, timeout=10)
    connection.request("GET", path, headers={"Host": f"{host or address}:{port}", "Authorization": f"Bearer {token}"})
    status = connection.getresponse().status
    connection.close()
    return status
