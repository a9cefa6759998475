"""The new pages' own logic, run in the browser: outlier-ignoring y ranges, the weight colour scale,
histogram bins, λ lists and log ranges."""
from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def js(watched, live_server):
    """A light same-origin page from which the ES modules are imported."""
    watched.goto(live_server.url + "/api/status")

    def run(module: str, body: str, arg=None):
        return watched.evaluate(f"async (arg) => {{ const m = await import('/static/js/{module}.js'); {body} }}", arg)

    return run


def test_quantile_range_ignores_outliers(js):
    values = [float(v) for v in np.linspace(1.0, 2.0, 1000)] + [500.0, -300.0, None]
    low, high = js("charts/quantiles", "return m.quantileRange(arg);", values)
    q05, q95 = np.quantile([v for v in values if v is not None], [0.05, 0.95])
    pad = 0.1 * (q95 - q05)
    assert low == pytest.approx(q05 - pad, rel=1e-3) and high == pytest.approx(q95 + pad, rel=1e-3)
    # On a log axis the range is in log10 units and only positive values count.
    low, high = js("charts/quantiles", "return m.quantileRange(arg, {log: true});", [10.0] * 50 + [1000.0] * 50 + [0.0, -1.0])
    assert 0.5 < low < 1.0 and 3.0 < high < 3.5
    assert js("charts/quantiles", "return m.quantileRange([1]);") is None


def test_the_colour_scale_is_symmetric_and_shared(js):
    got = js("charts/weight_images", """
        const s = 0.5;
        return {
          ends: [m.colourIndex(-s, s), m.colourIndex(0, s), m.colourIndex(s, s), m.colourIndex(-9, s), m.colourIndex(9, s)],
          white: Array.from(m.LUT.slice(128 * 3, 128 * 3 + 3)),
          blue: Array.from(m.LUT.slice(0, 3)), red: Array.from(m.LUT.slice(255 * 3, 255 * 3 + 3)),
          shared: m.sharedScale([[[0.1, -0.4]], [[0.2, 0.3]], null]),
          p99: m.sharedScale([[Array.from({length: 1000}, (_, i) => (i + 1) / 1000)]], 'p99'),
          cols: [m.gridColumns(200), m.gridColumns(200, {wide: false}), m.gridColumns(1), m.gridColumns(16, {wide: false})],
        };
    """)
    assert got["ends"] == [0, 128, 255, 0, 255]
    assert all(c > 240 for c in got["white"])  # zero is (almost) white
    assert got["blue"][2] > got["blue"][0] and got["red"][0] > got["red"][2]  # negative blue, positive red
    assert got["shared"] == pytest.approx(0.4)  # the largest |w| over every run
    assert got["p99"] == pytest.approx(0.99, abs=0.002)
    assert got["cols"] == [20, 15, 1, 4]


def test_histogram_bins_are_the_engines(js):
    from engine.metrics import HIST_EDGES

    centres = js("charts/histogram", "return m.BIN_CENTRES;")
    assert centres == pytest.approx(list((HIST_EDGES[:-1] + HIST_EDGES[1:]) / 2))


@pytest.mark.parametrize("low,high,count", [(1e-5, 1e-1, 5), (1e-4, 0.05, 4), (3e-3, 3e-3, 1), (1e-3, 2.0, 7)])
def test_log_range_matches_the_server(js, low, high, count):
    from engine.studies import log_range

    got = js("lambdas", "return m.logRange(arg[0], arg[1], arg[2]);", [low, high, count])
    assert got == list(log_range(low, high, count))


def test_lambda_lists(js):
    parse = "return m.parseLambdaList(arg);"
    assert js("lambdas", parse, "1e-4, 1e-3;0.01  0.1") == {"values": [1e-4, 1e-3, 0.01, 0.1]}
    assert "not a number" in js("lambdas", parse, "1e-3, x")["error"]
    assert "above 0" in js("lambdas", parse, "0, 1e-3")["error"]
    assert "at most 10" in js("lambdas", parse, "11")["error"]
    assert "at least one" in js("lambdas", parse, " , ")["error"]
    assert "at most 20" in js("lambdas", parse, ",".join(["0.1"] * 21))["error"]


def test_the_insight_formats_and_the_shared_importance_scale(js):
    got = js("format", """return {
        signed: [m.fmtSignedPoints(0.0123), m.fmtSignedPoints(-0.004), m.fmtSignedPoints(0), m.fmtSignedPoints(null)],
        interval: [m.fmtPointsInterval([-0.0128, 0.0012]), m.fmtPointsInterval([-0.0128, 0.0012], {unit: "", digits: 1}),
                   m.fmtPointsInterval(null), m.fmtPointsInterval([null, 0.1])],
        p: [m.fmtP(0.0412), m.fmtP(0.00004), m.fmtP(1), m.fmtP(null)],
    };""")
    assert got["signed"] == ["+1.23 pp", "−0.40 pp", "±0.00 pp", "—"]
    assert got["interval"] == ["−1.28 to +0.12 pp", "−1.3 to +0.1", "—", "—"]
    assert got["p"] == ["0.041", "< 0.0001", "1", "—"]
    # One log10 range for images side by side: zeros and missing runs left out, at most 6 decades.
    ranges = js("charts/input_importance", """return [
        m.importanceRange([[0.5, 2, 0], null, [8]]), m.importanceRange([[1e-12, 1]]), m.importanceRange([[0, 0]]),
        m.importanceRange([[3, 3]])];""")
    assert ranges[0] == pytest.approx([np.log10(0.5), np.log10(8)])
    assert ranges[1] == pytest.approx([-6, 0])
    assert ranges[2] is None
    assert ranges[3] == pytest.approx([np.log10(3) - 0.1, np.log10(3)])


def test_a_second_watcher_of_an_element_already_near_the_view_hears_of_it(js):
    """A chart watches its container; data loaded when that container is near (onceNearView on the
    same element, later) must not wait for the next scroll."""
    got = js("charts/schedule", """
        const el = document.createElement("div");
        el.style.cssText = "width: 100px; height: 100px";
        document.body.prepend(el);
        const first = await new Promise((resolve) => m.watchNearView(el, resolve));
        const second = await Promise.race([new Promise((resolve) => m.onceNearView(el, () => resolve("called"))),
                                           new Promise((resolve) => setTimeout(() => resolve("never"), 1000))]);
        return [first, second];
    """)
    assert got == [True, "called"]
