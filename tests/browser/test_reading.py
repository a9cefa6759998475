"""Charts and pages that read the same everywhere: the per-epoch chart's accuracy axis and legend, axes
of empty and log charts, |w| on a log axis with the sparsity threshold, one way to write numbers, a
short keyboard path past the charts, a 390 px screen, a footer that follows the socket."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from engine.formats import fmt_lambda, fmt_percent, fmt_points

from .support import TINY, WATCHABLE

SETTINGS = {**TINY, "epochs": 4, "penalty": "l1", "lam": 1e-3}


@pytest.fixture(scope="module")
def l1_run(live_server):
    run = live_server.launch(**SETTINGS)
    return live_server.wait_for_status(run["id"], {"completed"})


def test_the_per_epoch_chart_fits_its_accuracy_axis_and_names_its_line_styles(watched, live_server, l1_run):
    page = watched
    page.goto(f"{live_server.url}/runs/{l1_run['id']}")
    chart = page.locator("#epoch-chart")
    expect(chart).to_have_attribute("data-points", str(SETTINGS["epochs"]))
    page.wait_for_function("() => +document.querySelector('#epoch-chart').dataset.draws >= 1")
    accs = live_server.api("GET", f"/api/runs/{l1_run['id']}/metrics")[1]["epoch"]["test_accuracy"]
    low, high = chart.evaluate("gd => gd._fullLayout.yaxis2.range")
    assert low <= min(accs) and max(accs) <= high  # every accuracy shown…
    assert high - low < max(0.2, 2 * (max(accs) - min(accs)) + 0.02)  # …on an axis fitted to them, not 0–100 %
    legend = " | ".join(chart.evaluate("gd => [...gd.querySelectorAll('.legendtext')].map(n => n.textContent)"))
    for style in ("train loss (data + penalty)", "its penalty part", "test accuracy (right axis)"):
        assert style in legend, legend
    page.get_by_label("accuracy axis from 0 to 100 %").check()
    page.wait_for_function("() => document.querySelector('#epoch-chart')._fullLayout.yaxis2.range[0] === 0")
    assert chart.evaluate("gd => gd._fullLayout.yaxis2.range") == [0, 1.02]


def test_empty_charts_draw_a_blank_frame_and_log_axes_label_only_round_values(watched, live_server, l1_run):
    page = watched
    live_server.wait_idle()
    page.goto(live_server.url + "/?runs_status=failed")  # nothing live, nothing ticked
    page.wait_for_function("() => +document.querySelector('#epoch-chart').dataset.draws >= 1")
    for chart in ("#batch-chart", "#epoch-chart"):
        axis = page.locator(chart).evaluate("gd => [gd._fullLayout.yaxis.range, gd._fullLayout.yaxis.showticklabels]")
        assert axis == [[0, 1], False], (chart, axis)  # not Plotly's −1 … 6

    # A log loss axis: a few labels, each a whole number that reads as its value (10⁻³, 2, 0.5, 2.6),
    # in order; not Plotly's bare digits for the minor ticks ("5 6 7 8 9 10⁻³ 2 3 …").
    page.goto(f"{live_server.url}/runs/{l1_run['id']}")
    page.get_by_label("log scale").check()
    page.wait_for_function("() => document.querySelector('#batch-chart')._fullLayout.yaxis.type === 'log'")
    page.wait_for_timeout(300)
    labels = page.locator("#batch-chart").evaluate("gd => [...gd.querySelectorAll('.ytick text')].map(n => n.textContent.trim())")
    values = [read_label(t) for t in labels]
    assert 2 <= len(values) <= 8 and values == sorted(values) and len(set(values)) == len(values), labels


SUPER = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")


def read_label(text: str) -> float:
    """A tick label's value: "10⁻³" is 1e-3, "0.5" is 0.5 ("−" is a minus)."""
    text = text.replace("\u2212", "-")
    if text.startswith("10") and len(text) > 2 and not text[2:].isdigit():
        return 10 ** int(text[2:].translate(SUPER))
    return float(text)


def test_the_histogram_shows_abs_w_on_a_log_axis_with_the_sparsity_threshold(watched, live_server, l1_run):
    page = watched
    page.goto(f"{live_server.url}/runs/{l1_run['id']}")
    hist = page.locator("#hist-W1")
    hist.scroll_into_view_if_needed()
    expect(hist).to_have_attribute("data-points", "80")
    page.select_option("#hist-view", "abs")
    expect(hist).to_have_attribute("data-view", "abs")
    expect(hist).to_have_attribute("data-points", "32")
    page.wait_for_function("() => document.querySelector('#hist-W1')._fullLayout?.xaxis?.ticktext?.includes('10⁻³')")
    drawn = hist.evaluate("gd => ({x: gd.data[0].x.length, total: gd.data[0].y.reduce((a, b) => a + (b || 0), 0),"
                          " line: gd._fullLayout.shapes[0].x0, note: gd._fullLayout.annotations.map(a => a.text)})")
    epoch = live_server.api("GET", f"/api/runs/{l1_run['id']}/metrics")[1]["epoch"]
    w1 = next(w for w in epoch["weights"][-1] if w["name"] == "W1")
    assert drawn["x"] == 32 and drawn["total"] == sum(w1["log_histogram"]) == w1["shape"][0] * w1["shape"][1]
    assert drawn["line"] == pytest.approx(-3)  # log10 of the sparsity threshold
    assert "sparsity threshold 10⁻³" in drawn["note"]
    expect(page.locator("#hist-W2")).to_have_attribute("data-view", "abs")  # one switch for both layers


def test_numbers_are_written_alike_on_the_pages_and_in_the_servers_text(watched, live_server):
    page = watched
    page.goto(live_server.url + "/api/status")
    values = [0.71651, 0.9, 1e-4, 3.16e-5, 0.01, 60000.0, -0.0183, 0.0]
    got = page.evaluate("""async (values) => { const f = await import('/static/js/format.js');
        return values.map(v => [f.fmtAccuracy(v), f.fmtLambda(v), f.fmtPoints(v)]); }""", values)
    assert got == [[fmt_percent(v), fmt_lambda(v), fmt_points(v)] for v in values]
    plurals = page.evaluate("""async () => { const f = await import('/static/js/format.js');
        return [f.plural(1, 'epoch'), f.plural(2, 'epoch'), f.plural(1, 'batch', 'batches'), f.plural(3, 'batch', 'batches')]; }""")
    assert plurals == ["1 epoch", "2 epochs", "1 batch", "3 batches"]


def test_the_keyboard_path_past_the_charts_is_short(watched, live_server, l1_run):
    page = watched
    page.goto(f"{live_server.url}/?runs_status=completed")
    page.locator(f'#runs-table tr[data-run="{l1_run["id"]}"] input[type="checkbox"]').check()
    expect(page.locator("#batch-chart")).to_have_attribute("data-points", re.compile(r"[1-9]"))
    page.wait_for_function("() => document.querySelectorAll('#batch-chart .modebar-btn').length > 0")
    page.locator("#compare-button").focus()
    stops = []
    for _ in range(30):
        page.keyboard.press("Tab")
        here = page.evaluate("() => document.activeElement.id || document.activeElement.className")
        if page.evaluate("() => !!document.activeElement.closest('.runs')"):
            break
        stops.append(here)
    # The chart controls and one stop per chart: no mode bar button on the way.
    assert stops == ["smoothing", "log-y", "fit-quantiles", "batch-chart", "accuracy-full", "epoch-chart"], stops
    # Enter on a chart opens its mode bar for the keyboard; Escape closes it.
    page.locator("#batch-chart").focus()
    expect(page.locator("#batch-chart .modebar-btn").first).to_be_hidden()
    page.keyboard.press("Enter")
    expect(page.locator("#batch-chart .modebar-btn").first).to_be_visible()
    page.keyboard.press("Tab")
    assert page.evaluate("() => !!document.activeElement.closest('#batch-chart .modebar')")
    page.keyboard.press("Escape")
    expect(page.locator("#batch-chart .modebar-btn").first).to_be_hidden()


def test_a_390px_screen_shows_the_run_page_within_its_width(browser, live_server, l1_run):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    try:
        page.goto(f"{live_server.url}/runs/{l1_run['id']}")
        page.locator("#weight-figure").scroll_into_view_if_needed()
        expect(page.locator("#weight-grid")).to_have_attribute("data-images", str(SETTINGS["hidden"]))
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        inside = page.evaluate("""() => { const bar = document.querySelector('#weight-bar').getBoundingClientRect();
            const card = document.querySelector('#weight-figure').getBoundingClientRect();
            return bar.right <= card.right && bar.left >= card.left; }""")
        assert inside, "the colour bar runs out of its card"
        page.locator("#hist-W1").scroll_into_view_if_needed()
        page.wait_for_function("() => +document.querySelector('#hist-W1').dataset.draws >= 1")
        title = page.locator("#hist-W1 .g-xtitle text").bounding_box()
        chart = page.locator("#hist-W1").bounding_box()
        assert title["x"] >= chart["x"] and title["x"] + title["width"] <= chart["x"] + chart["width"]
    finally:
        page.close()


def test_the_footer_follows_the_socket(watched, live_server):
    page = watched
    live_server.wait_idle()
    page.goto(live_server.url + "/studies")
    expect(page.locator("#connection")).to_have_attribute("data-state", "open")
    expect(page.locator("#executor")).to_contain_text("queue: 0 of")
    _, status = live_server.api("GET", "/api/status")
    runs = [live_server.launch(**{**WATCHABLE, "epochs": 1000}) for _ in range(status["workers"] + 1)]  # one waits
    try:
        expect(page.locator("#executor")).to_contain_text("queue: 1 of", timeout=5000)  # not 15 s later
    finally:
        for run in reversed(runs):
            live_server.api("POST", f"/api/runs/{run['id']}/cancel")
    expect(page.locator("#executor")).to_contain_text("queue: 0 of", timeout=5000)
