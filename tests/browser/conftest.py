"""Browser tests: a real normlab server per test module, driven by Playwright and Debian's chromium.

Never run ``playwright install`` here: the browser is /usr/bin/chromium.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .support import CHROMIUM, LiveServer


def pytest_collection_modifyitems(config, items):
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        skip = pytest.mark.skip(reason="Debian's chromium is not installed (apt-get install -y chromium)")
        for item in items:
            if "tests/browser" in str(item.fspath).replace("\\", "/"):
                item.add_marker(skip)


@pytest.fixture(scope="session")
def base_url():
    """Tests use the live server's own URL. (This also replaces pytest-playwright's fallback
    ``base_url``, an instance-method fixture that pytest 9 warns about, and warnings are errors.)"""
    return None


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"],
    }


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    server = LiveServer(tmp_path_factory.mktemp("normlab") / "db.sqlite")
    try:
        yield server
    finally:
        server.close()


EXPECTED_HTTP_ERROR = "Failed to load resource: the server responded with a status of 4"


@pytest.fixture
def allowed_console_errors():
    """Substrings of console errors a test expects (append to it)."""
    return []


@pytest.fixture
def watched(page, allowed_console_errors):
    """The page, with uncaught script errors and console errors (CSP violations among them) collected;
    the test fails if any appear. Chromium's own log line for an HTTP 4xx answer is not one: tests
    provoke those on purpose (a refused value is a 400)."""
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))

    def on_console(message):
        if message.type != "error" or message.text.startswith(EXPECTED_HTTP_ERROR):
            return
        if not any(allowed in message.text for allowed in allowed_console_errors):
            problems.append(f"console error: {message.text}")

    page.on("console", on_console)
    page.set_default_timeout(20000)
    yield page
    assert not problems, "\n".join(problems)
