"""A run's own page (/runs/<id>): settings, result and the full stored curve; live while it runs."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .support import TINY, WATCHABLE, total_steps

SETTINGS = {**TINY, "epochs": 4, "penalty": "l2", "lam": 0.01}


@pytest.fixture(scope="module")
def finished_run(live_server):
    run = live_server.launch(**SETTINGS)
    return live_server.wait_for_status(run["id"], {"completed"})


def test_finished_run_page_shows_settings_result_and_full_curve(watched, live_server, finished_run):
    page = watched
    rid = finished_run["id"]
    page.goto(f"{live_server.url}/runs/{rid}")
    expect(page.locator("h1")).to_contain_text(f"Run {rid}")
    expect(page.locator("#run-status")).to_have_text("completed")
    expect(page.locator('#run-settings dd[data-key="hidden"]')).to_have_text(str(SETTINGS["hidden"]))
    expect(page.locator('#run-settings dd[data-key="dataset"]')).to_have_text("synthetic")
    expect(page.locator('#run-settings dd[data-key="penalty"]')).to_have_text("l2")
    accuracy = finished_run["result"]["test_accuracy"]
    expect(page.locator('#run-result dd[data-key="test_accuracy"]')).to_have_text(f"{accuracy * 100:.2f} %")
    expect(page.locator("#batch-chart")).to_have_attribute("data-points", str(total_steps(SETTINGS)))
    expect(page.locator("#epoch-chart")).to_have_attribute("data-points", str(SETTINGS["epochs"]))
    expect(page.locator("#run-progress")).to_be_hidden()
    expect(page.locator("#run-actions").get_by_role("button", name="Cancel")).to_be_hidden()
    expect(page.locator("#confusion tbody tr")).to_have_count(10)


@pytest.mark.parametrize("query", ["", "?renderer=svg", "?renderer=gl"], ids=["detected", "svg", "forced-gl"])
def test_the_batch_chart_draws_with_or_without_webgl(watched, live_server, finished_run, query):
    """With WebGL (scattergl) or without (SVG scatter: no context, or a CSP without 'unsafe-eval'),
    the curve is drawn and Plotly's "WebGL is not supported" notice never stays on the page."""
    page = watched
    page.goto(f"{live_server.url}/runs/{finished_run['id']}{query}")
    chart = page.locator("#batch-chart")
    expect(chart).to_have_attribute("data-points", str(total_steps(SETTINGS)))
    page.wait_for_function("() => +document.querySelector('#batch-chart').dataset.draws >= 1")
    expect(chart).to_have_attribute("data-renderer", re.compile("^(gl|svg)$"))
    if query == "?renderer=svg":
        expect(chart).to_have_attribute("data-renderer", "svg")
    page.wait_for_timeout(300)  # a failed WebGL draw falls back on the next animation frame
    expect(chart.locator(".no-webgl")).to_have_count(0)
    if chart.get_attribute("data-renderer") == "svg":
        # Two traces (raw and smoothed), each a drawn path.
        expect(chart.locator(".scatterlayer .trace path.js-line")).to_have_count(2)
    else:
        expect(chart.locator("canvas").first).to_be_attached()
    expect(chart.locator(".legend")).to_contain_text("L2")


def test_run_page_goes_on_live_while_the_run_runs(watched, live_server):
    page = watched
    live_server.wait_idle()
    run = live_server.launch(**WATCHABLE)
    page.goto(f"{live_server.url}/runs/{run['id']}")
    expect(page.locator("#run-progress")).to_be_visible()
    page.wait_for_function("() => +document.querySelector('#batch-chart').dataset.points > 0")
    try:
        expect(page.locator("#run-status")).to_have_text("completed", timeout=40000)
    except AssertionError as exc:
        server_side = live_server.run(run["id"])
        raise AssertionError(f"{exc}\nthe API says: status {server_side['status']}, progress {server_side['progress']}; "
                             f"chart points {page.get_attribute('#batch-chart', 'data-points')}, "
                             f"socket {page.get_attribute('#connection', 'data-state')}") from None
    expect(page.locator("#batch-chart")).to_have_attribute("data-points", str(total_steps(WATCHABLE)))
    expect(page.locator("#run-progress")).to_be_hidden()
    expect(page.locator('#run-result dd[data-key="test_accuracy"]')).to_have_text(re.compile(r"\d+\.\d\d %"))
