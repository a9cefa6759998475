"""Watching runs live: a reload or a dropped socket mid-run loses nothing and repeats nothing; cancel works."""
from __future__ import annotations

import contextlib
import json

from playwright.sync_api import expect

from .support import WATCHABLE, total_steps

# Long enough that a reload lands mid-run.
LONG = {**WATCHABLE, "epochs": 250}  # several seconds: long enough to reload and reconnect mid-run


def stored_last_seq(live_server, run_id: int) -> int:
    return live_server.api("GET", f"/api/runs/{run_id}/metrics")[1]["last_seq"]


@contextlib.contextmanager
def long_run_watched(page, live_server, path: str, ready: str):
    """A LONG run, launched and watched on ``path`` until ``ready`` holds in the page; cancelled after."""
    live_server.wait_idle()
    run = live_server.launch(**LONG)
    page.goto(live_server.url + path)
    page.wait_for_function(ready)
    try:
        yield run
    finally:
        live_server.api("POST", f"/api/runs/{run['id']}/cancel")


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


def test_per_epoch_charts_redraw_at_most_once_a_second_while_the_batch_chart_keeps_up(watched, live_server):
    """Each Plotly draw costs the browser tens of milliseconds, taken from training on a small
    machine; per-epoch charts of a run doing dozens of epochs a second draw once a second."""
    page = watched
    with long_run_watched(page, live_server, "/", "() => +document.querySelector('#epoch-chart').dataset.points > 5") as run:
        draws = "() => [+document.querySelector('#batch-chart').dataset.draws, +document.querySelector('#epoch-chart').dataset.draws]"
        batch_before, epoch_before = page.evaluate(draws)
        epochs_before = int(page.get_attribute("#epoch-chart", "data-points"))
        page.wait_for_timeout(3000)
        batch_after, epoch_after = page.evaluate(draws)
        epochs_after = int(page.get_attribute("#epoch-chart", "data-points"))
        assert live_server.run(run["id"])["status"] == "running", "the run ended inside the 3 s window"
    assert epochs_after - epochs_before > 10, "too few epochs in the window to tell"
    assert epoch_after - epoch_before <= 4 < batch_after - batch_before, (batch_before, batch_after, epoch_before, epoch_after)


def test_the_live_batch_chart_spans_the_whole_run_and_mostly_redraws_only_its_lines(watched, live_server):
    """The run's start event tells the page its last step; the live x axis reaches it from the
    start, so the lines grow into the axes and most draws redraw only them (Plotly.animate)."""
    page = watched
    ready = "() => +document.querySelector('#batch-chart').dataset.linesOnlyDraws > 10"
    with long_run_watched(page, live_server, "/?renderer=svg&debug=stats", ready) as run:
        x_range = page.evaluate("() => document.querySelector('#batch-chart')._fullLayout.xaxis.range")
        assert live_server.run(run["id"])["status"] == "running", "the run ended before the check"
    assert x_range == [0, total_steps(LONG)]


def test_the_page_asks_for_eight_frames_a_second_and_draws_them_as_they_come(watched, live_server):
    """Drawing less often leaves more CPU to training on a small machine; the page asks the server
    for 8 frames a second (README, "rate") and its batch chart draws as they come."""
    page = watched
    sent = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
    with long_run_watched(page, live_server, "/?debug=stats", "() => +document.querySelector('#batch-chart').dataset.points > 100") as run:
        state = "() => [+document.querySelector('#batch-chart').dataset.draws, Date.now()]"
        draws_before, start = page.evaluate(state)
        page.wait_for_timeout(2000)
        draws_after, end = page.evaluate(state)
        assert live_server.run(run["id"])["status"] == "running", "the run ended inside the 2 s window"
    assert {"type": "rate", "max_frames_per_second": 8} in [json.loads(m) for m in sent]
    # when the page handled each frame (one entry per run per frame; one run here). A busy page may
    # handle two frames close together; the server's spacing is tested in tests/app/test_ws.py.
    got = [t for t in page.evaluate("() => normlabStats.frameLog.map((f) => f[0])") if start <= t <= end]
    assert 8 <= len(got) <= 2 * 8 + 2, got
    assert draws_after - draws_before >= len(got) // 2, (draws_after - draws_before, len(got))


COUNTERS = """() => [typeof window.normlabStats, document.querySelectorAll('[data-draw-ms]').length,
                     document.querySelectorAll('[data-lines-only-draws]').length]"""


def test_only_a_page_opened_with_debug_stats_keeps_counters(watched, live_server):
    """Measurement stays out of the product: frames and draws are counted (window.normlabStats,
    data-draw-ms, data-lines-only-draws) only on a page opened with ?debug=stats."""
    page = watched
    live_server.wait_idle()
    run = live_server.launch(**{**WATCHABLE, "epochs": 1000})  # cancelled below
    try:
        page.goto(live_server.url + "/?renderer=svg")
        page.wait_for_function("() => +document.querySelector('#batch-chart').dataset.draws > 5")
        plain = page.evaluate(COUNTERS)
        page.goto(live_server.url + "/?renderer=svg&debug=stats")
        page.wait_for_function("() => +document.querySelector('#batch-chart').dataset.linesOnlyDraws > 0")
        counted = page.evaluate(COUNTERS)
        frames = page.evaluate("() => window.normlabStats.frames")
        assert live_server.run(run["id"])["status"] == "running", "the run ended before the check"
    finally:
        live_server.api("POST", f"/api/runs/{run['id']}/cancel")
    assert plain == ["undefined", 0, 0]
    assert counted[0] == "object" and counted[1] >= 1 and counted[2] == 1 and frames > 0, (counted, frames)
