"""Watching runs live: a reload or a dropped socket mid-run loses nothing and repeats nothing; cancel works."""
from __future__ import annotations

from playwright.sync_api import expect

from .support import WATCHABLE, total_steps

# Long enough that a reload lands mid-run.
LONG = {**WATCHABLE, "epochs": 250}  # several seconds: long enough to reload and reconnect mid-run


def stored_last_seq(live_server, run_id: int) -> int:
    return live_server.api("GET", f"/api/runs/{run_id}/metrics")[1]["last_seq"]


def test_reload_mid_run_continues_the_curves_without_gap_or_duplicate(watched, live_server):
    page = watched
    live_server.wait_idle()
    run = live_server.launch(**LONG)
    page.goto(live_server.url + "/")
    page.wait_for_function("() => +document.querySelector('#batch-chart').dataset.points > 100")

    page.reload()
    assert live_server.run(run["id"])["status"] == "running", "the run ended before the reload"
    page.wait_for_function("() => +document.querySelector('#batch-chart').dataset.points > 0")
    assert live_server.run(run["id"])["status"] == "running"

    row = page.locator(f'#runs-table tr[data-run="{run["id"]}"]')
    expect(row).to_have_attribute("data-status", "completed", timeout=40000)
    expect(page.locator("#batch-chart")).to_have_attribute("data-points", str(total_steps(LONG)))
    expect(page.locator("#epoch-chart")).to_have_attribute("data-points", str(LONG["epochs"]))
    expect(row).to_have_attribute("data-last-seq", str(stored_last_seq(live_server, run["id"])))


def test_a_dropped_socket_reconnects_and_gets_exactly_the_rest(watched, live_server, allowed_console_errors):
    page = watched
    # When the page closes its socket, flask-sock under Werkzeug still writes an HTTP response after
    # the close handshake, which Chromium logs as an invalid frame. And simple_websocket answers the
    # page's close from its reader thread while the handler thread may be sending a frame (the two do
    # not share a lock), so a frame can follow the close reply, which Chromium logs as "Data frame
    # received after close". The page is not at fault in either case, and reconnects.
    allowed_console_errors.extend(["Invalid frame header", "Data frame received after close"])
    live_server.wait_idle()
    run = live_server.launch(**LONG)
    page.goto(live_server.url + "/")
    page.wait_for_function("() => +document.querySelector('#batch-chart').dataset.points > 100")
    page.evaluate("() => window.normlab.stream.ws.close()")
    expect(page.locator("#connection")).not_to_have_attribute("data-state", "open", timeout=2000)
    expect(page.locator("#connection")).to_have_attribute("data-state", "open", timeout=10000)
    assert live_server.run(run["id"])["status"] == "running", "the run ended before the reconnect"

    row = page.locator(f'#runs-table tr[data-run="{run["id"]}"]')
    expect(row).to_have_attribute("data-status", "completed", timeout=40000)
    expect(page.locator("#batch-chart")).to_have_attribute("data-points", str(total_steps(LONG)))
    expect(row).to_have_attribute("data-last-seq", str(stored_last_seq(live_server, run["id"])))


def test_cancel_from_the_table(watched, live_server):
    page = watched
    live_server.wait_idle()
    run = live_server.launch(**{**WATCHABLE, "epochs": 1000})
    page.goto(live_server.url + "/")
    row = page.locator(f'#runs-table tr[data-run="{run["id"]}"]')
    expect(row).to_have_attribute("data-status", "running")
    page.wait_for_function("() => +document.querySelector('#batch-chart').dataset.points > 0")
    row.get_by_role("button", name=f"Cancel run {run['id']}").click()
    expect(row).to_have_attribute("data-status", "cancelled", timeout=10000)
    assert live_server.run(run["id"])["status"] == "cancelled"
    expect(row.get_by_role("button", name=f"Delete run {run['id']}")).to_be_visible()
    expect(row.get_by_role("button", name=f"Cancel run {run['id']}")).to_have_count(0)
    # The live row says so before it goes.
    expect(page.locator(f'#live-list .live-row[data-run="{run["id"]}"] .status')).to_have_text("cancelled")
