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


# Records every Plotly.react call's chart id, in order (Plotly.js sets window.Plotly when it runs).
RECORD_DRAWS = """
(() => {
  window.__draws = [];
  let P;
  Object.defineProperty(window, "Plotly", {
    configurable: true,
    get() { return P; },
    set(v) {
      if (v && typeof v.react === "function" && !v.__recorded) {
        const react = v.react;
        v.react = function (gd, ...rest) { window.__draws.push(gd.id); return react.call(this, gd, ...rest); };
        v.__recorded = true;
      }
      P = v;
    },
  });
})();
"""


def test_run_page_asks_once_draws_the_batch_chart_first_and_full_and_the_rest_when_scrolled_to(
        watched, live_server, finished_run):
    """Page speed (issue 3): the stored curves are requested once (the page's preload is the request
    the script uses), no chart is drawn empty first, the loss per batch draws before anything else,
    and charts below the fold (and the first-layer weights) wait until they are scrolled to."""
    page = watched
    page.set_viewport_size({"width": 1280, "height": 720})
    page.add_init_script(RECORD_DRAWS)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    rid = finished_run["id"]
    total = total_steps(SETTINGS)
    page.goto(f"{live_server.url}/runs/{rid}?debug=stats")
    expect(page.locator("#batch-chart")).to_have_attribute("data-draws", "1")
    expect(page.locator("#epoch-chart")).to_have_attribute("data-draws", "1")
    page.wait_for_timeout(500)  # anything else that would draw (or fetch) at load has had its frames

    assert [u for u in requests if "/metrics" in u] == [f"{live_server.url}/api/runs/{rid}/metrics?after=-1"]
    assert page.locator('head link[rel=preload][as=fetch][crossorigin]').get_attribute("href") == f"/api/runs/{rid}/metrics?after=-1"
    draws = page.evaluate("() => window.__draws")
    assert draws == ["batch-chart", "epoch-chart"], draws
    # The first and only draw holds every batch point.
    assert page.evaluate("() => window.normlabStats.drawLog.map(([, drawn]) => drawn)") == [{str(rid): total}]
    expect(page.locator("#batch-chart")).to_have_attribute("data-draws", "1")
    expect(page.locator("#epoch-chart")).to_have_attribute("data-draws", "1")
    # Below the fold: the data is in (data-points), nothing is drawn or fetched yet.
    for chart in ("#parts-batch-chart", "#norm1-chart", "#hist-W1"):
        assert page.get_attribute(chart, "data-draws") is None, chart
    expect(page.locator("#parts-batch-chart")).to_have_attribute("data-points", str(total))
    assert not [u for u in requests if "/api/runs/" in u and u.endswith("/weights")]
    expect(page.locator("#weight-grid")).to_have_attribute("data-images", "0")

    # Scrolled to, each chart draws once, with its data; the weights are fetched and drawn.
    for chart in ("#parts-batch-chart", "#parts-epoch-chart", "#norm1-chart", "#norm2-chart", "#sparsity-chart",
                  "#hist-W1", "#hist-W2", "#confusion-heatmap"):
        page.locator(chart).scroll_into_view_if_needed()
        expect(page.locator(chart)).to_have_attribute("data-draws", "1")
    expect(page.locator("#parts-batch-chart")).to_have_attribute("data-points", str(total))
    assert page.locator("#parts-epoch-chart").evaluate("gd => gd.data[0].x.length") == SETTINGS["epochs"]
    expect(page.locator("#confusion-heatmap")).to_have_attribute("data-cells", "100")
    page.locator("#weight-figure").scroll_into_view_if_needed()
    expect(page.locator("#weight-grid")).to_have_attribute("data-images", str(SETTINGS["hidden"]))
    assert len([u for u in requests if "/api/runs/" in u and u.endswith("/weights")]) == 1
    assert len([u for u in requests if "/metrics" in u]) == 1
    assert page.evaluate("() => window.__draws.filter(id => id === 'batch-chart').length") == 1
