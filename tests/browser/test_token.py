"""Token mode in a real browser: ?token=… lands on the same page of this server, never another."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from app.security import local_location

from .support import LiveServer

TOKEN = "s3cret-token"
# Paths as Werkzeug hands them over (decoded UTF-8, so no lone surrogates), with the tricky characters often.
PATHS = st.text(st.one_of(st.sampled_from("/\\\t\n\r\x00 .:@?#%"), st.characters(exclude_categories=("Cs",))))


@pytest.fixture(scope="module")
def token_server(tmp_path_factory):
    server = LiveServer(tmp_path_factory.mktemp("token") / "db.sqlite", TOKEN=TOKEN)
    try:
        yield server
    finally:
        server.close()


def test_a_token_link_opens_the_same_page_with_its_query(watched, token_server):
    page = watched
    page.goto(f"{token_server.url}/compare?runs=1,2&token={TOKEN}")
    assert page.url == f"{token_server.url}/compare?runs=1,2"
    expect(page.locator("#compare-missing")).to_contain_text("1")  # the page ran: no such runs yet


def test_a_token_link_crafted_to_leave_the_server_stays_on_it(watched, token_server):
    page = watched
    for path in ("/%09/evil.example", "/%5Cevil.example", "/%5C%5Cevil.example", "/%2F%2Fevil.example",
                 "/%0A/evil.example", "/%09%5C/evil.example"):
        try:
            page.goto(f"{token_server.url}{path}?token={TOKEN}")
        except PlaywrightError as exc:  # e.g. evil.example does not resolve here
            raise AssertionError(f"{path} led the browser elsewhere: {exc.message.splitlines()[0]}") from None
        assert urlsplit(page.url).netloc == urlsplit(token_server.url).netloc, (path, page.url)


@given(path=PATHS, value=PATHS)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_chromium_resolves_every_token_redirect_to_this_server(page, path, value):
    """Chromium's own URL parser, over arbitrary paths: the page is only a place to run it."""
    location = local_location(path, [("q", value)])
    origin = page.evaluate("(location) => new URL(location, 'http://127.0.0.1:5000/').origin", location)
    assert origin == "http://127.0.0.1:5000", location
