"""The page's own logic, run in the browser: EMA smoothing, view downsampling, stream cursor handling."""
from __future__ import annotations

import random

import pytest


@pytest.fixture
def js(watched, live_server):
    """A light same-origin page from which the ES modules are imported (with the debug counters on)."""
    watched.goto(live_server.url + "/api/status?debug=stats")

    def run(module: str, body: str, arg=None):
        return watched.evaluate(
            f"async (arg) => {{ const m = await import('/static/js/{module}.js'); {body} }}", arg)

    return run


def tensorboard_smooth(values, weight):
    """TensorBoard's debiased EMA, written out in Python as the reference."""
    last, out, count = 0.0, [], 0
    for y in values:
        last = last * weight + (1 - weight) * y
        count += 1
        out.append(last / (1 - weight ** count) if weight else last)
    return out


@pytest.mark.parametrize("weight", [0.0, 0.6, 0.99])
def test_smoothing_is_tensorboards_debiased_ema(js, weight):
    values = [random.Random(1).uniform(0, 3) for _ in range(50)]
    got = js("smoothing", "return m.smooth(arg.values, arg.weight);", {"values": values, "weight": weight})
    assert got == pytest.approx(tensorboard_smooth(values, weight), rel=1e-12)
    assert got[0] == pytest.approx(values[0])  # debiased: no pull towards 0 at the start


def test_smoothing_passes_nan_through_without_breaking_the_average(js):
    got = js("smoothing", "const s = new m.Smoother(0.5); return [1, NaN, 1].map(v => s.push(v)).map(String);")
    assert got == ["1", "NaN", "1"]


def test_downsampling_keeps_each_buckets_extremes_and_bounds_the_view(js):
    n = 50_000
    rng = random.Random(2)
    ys = [rng.uniform(0, 1) for _ in range(n)]
    ys[12_345] = 9.0   # a spike
    ys[40_000] = -4.0  # a dip
    view = js("charts/decimate", """
        const d = new m.MinMaxDecimator(1000);
        const xs = arg.ys.map((_, i) => i + 1);
        let v = d.view(xs.slice(0, 30000), arg.ys.slice(0, 30000));   // grows, then more arrive
        v = d.view(xs, arg.ys);
        return {x: v.x, y: v.y};
    """, {"ys": ys})
    assert len(view["x"]) <= 1000
    assert max(view["y"]) == 9.0 and min(view["y"]) == -4.0
    assert view["x"] == sorted(view["x"])
    assert view["x"][0] == 1 and view["x"][-1] == n  # the run's first and latest point are kept
    assert view["y"][0] == ys[0] and view["y"][-1] == ys[-1]


def test_frames_overlapping_what_is_held_are_trimmed_and_gaps_resubscribe(js):
    got = js("stream", """
        const s = new m.Stream("ws://127.0.0.1:9/never");
        const sent = [], seen = [];
        s.send = (msg) => { sent.push(msg); return true; };
        s.on("chunk", (id, chunk) => seen.push([id, chunk.first_seq, chunk.last_seq, chunk.batch ? chunk.batch.seq : null]));
        s.subscribe(7, 9);
        const frame = (first, last) => ({type: "frame", runs: [{run: 7, first_seq: first, last_seq: last,
            batch: {seq: Array.from({length: last - first + 1}, (_, i) => first + i),
                    step: Array.from({length: last - first + 1}, (_, i) => first + i)}}]});
        s.onMessage(JSON.stringify(frame(10, 12)));   // contiguous
        s.onMessage(JSON.stringify(frame(11, 14)));   // overlaps: only 13, 14 are new
        s.onMessage(JSON.stringify(frame(5, 8)));     // all held already
        s.runs.get("7").resyncAt = -1e9;  // as if the last request was long ago
        s.onMessage(JSON.stringify(frame(20, 22)));   // a gap: dropped, and ask again from 14
        s.onMessage(JSON.stringify(frame(15, 16)));   // the answer
        return {sent, seen, last: s.lastSeq(7)};
    """)
    assert got["seen"] == [[7, 10, 12, [10, 11, 12]], [7, 13, 14, [13, 14]], [7, 15, 16, [15, 16]]]
    assert got["sent"][0] == {"type": "subscribe", "runs": {"7": 9}}
    assert got["sent"][-1] == {"type": "subscribe", "runs": {"7": 14}}
    assert got["last"] == 16


def plotly_and_chart_box(width: int) -> str:
    """Page code that loads Plotly.js, then makes `el`, a chart container `width` px wide."""
    return f"""
        await new Promise((resolve, reject) => {{
          const script = document.createElement("script");
          script.src = "/static/vendor/plotly.min.js";
          script.onload = resolve;
          script.onerror = reject;
          document.head.append(script);
        }});
        const el = document.createElement("div");
        el.style.cssText = "width: {width}px; height: 300px";
        document.body.append(el);
    """


def test_a_chart_draws_at_once_the_first_time_even_one_that_redraws_once_a_second(js):
    """Per-epoch charts wait a second between draws; the first draw, right after a page's
    load (performance.now() near 0), must not wait for a previous draw that never was."""
    waited = js("charts/epoch", plotly_and_chart_box(400) + """
        const realNow = performance.now.bind(performance);
        performance.now = () => 0;  // as if the page had only just loaded
        const chart = new m.EpochChart(el);
        chart.ensure(1, { label: "a", color: "#123456" });
        chart.append(1, { epoch: [1], train_loss: [1.5], penalty: [0.1], test_accuracy: [0.5] });
        const start = realNow();
        await new Promise((resolve) => setTimeout(resolve, 200));
        performance.now = realNow;
        while (!el.dataset.draws && realNow() - start < 5000) await new Promise((r) => setTimeout(r, 10));
        return realNow() - start;
    """)
    # Waiting for the redraw gap would put the first draw a second or more after the data; a busy
    # machine delays a prompt draw by a few hundred ms at most.
    assert waited < 900, f"the chart's first draw came {waited:.0f} ms after its data (the gap is 1000 ms)"


# A light page with Plotly.js and one SVG batch chart fed like a live run: `feed(ms, lastStep)`
# appends 16 steps every 50 ms for `ms` milliseconds or until `lastStep`. After each draw, `bad` gets any drawn point the axes
# do not show and any draw that did not end at the latest step the chart had when it began.
LIVE_BATCH_CHART = plotly_and_chart_box(800) + """
    const chart = new m.BatchChart(el, { renderer: "svg" });
    chart.ensure(1, { label: "L2 λ=0.01", color: "#4e79a7" });
    const bad = [];
    let step = 0;
    const render = chart.render.bind(chart);
    chart.render = async (Plotly) => {
      const had = step;  // the draw takes the data the chart has now; more may come while it runs
      await render(Plotly);
      const full = el._fullLayout, [x0, x1] = full.xaxis.range, [y0, y1] = full.yaxis.range;
      for (const points of el.calcdata) {  // what Plotly drew, point by point
        const last = points[points.length - 1].x;
        if (last !== had) bad.push(`drew up to ${last}, had ${had}`);
        for (const { x, y } of points) {
          if (x < x0 || x > x1 || y < y0 || y > y1) { bad.push(`(${x}, ${y}) outside x ${x0}..${x1}, y ${y0}..${y1}`); break; }
        }
      }
    };
    const lines = () => Number(el.dataset.linesOnlyDraws || 0);  // a debug counter (?debug=stats)
    const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
    const feed = async (ms, lastStep = Infinity) => {
      const end = performance.now() + ms;
      while (performance.now() < end && step < lastStep) {
        const steps = [], loss = [];
        for (let i = 0; i < 16; i++) {
          step += 1;
          steps.push(step);
          loss.push(0.3 + 2 * Math.exp(-step / 150) + 0.2 * Math.sin(step * 1.7));
        }
        chart.append(1, { step: steps, loss });
        await sleep(50);
      }
    };
    const settle = async () => {
      await sleep(150);
      while (chart.drawing || chart.scheduled) await sleep(20);
    };
"""


def test_a_live_batch_chart_redraws_only_its_lines_yet_shows_every_point_inside_its_axes(js):
    """Between full draws the live chart redraws only its lines (Plotly.animate without a redraw,
    a third of the main-thread time); its x axis runs ahead of the latest step so the lines can grow
    into it, a point that would fall outside the axes brings a full draw, and once the stream stops
    the axes fit the data again."""
    out = js("charts/batch", LIVE_BATCH_CHART + """
        await feed(3000);
        await settle();
        const live = { lines: lines(), draws: chart.rev, x1: el._fullLayout.xaxis.range[1], step };
        await sleep(2600);  // the stream stopped: one full draw fits the axes to the data
        await settle();
        return { live, bad, step, x1: el._fullLayout.xaxis.range[1],
                 autorange: [el._fullLayout.xaxis.autorange, el._fullLayout.yaxis.autorange],
                 lines: lines(), draws: chart.rev };
    """)
    live = out["live"]
    assert out["bad"] == []
    assert live["lines"] >= 5 and live["draws"] - live["lines"] >= 2, live  # both kinds of draw happened
    assert live["step"] < live["x1"] <= 1.34 * live["step"] + 2, live  # room to grow into while live
    assert out["autorange"] == [True, True] and out["x1"] == out["step"], out  # then fitted to the data
    assert out["draws"] == live["draws"] + 1 and out["lines"] == live["lines"], out


def test_a_live_batch_chart_keeps_the_users_zoom_while_points_stream_in(js, watched):
    """A zoom by mouse holds while the run goes on (through lines-only and full draws alike); a
    double click gives the view back to the live chart, which follows the latest step again."""
    page = watched
    js("charts/batch", LIVE_BATCH_CHART + """
        window.T = { el, feed, settle, bad, chart, lines, step: () => step };
        await feed(800);
        await settle();
    """)
    area = page.locator(".nsewdrag").first.bounding_box()  # the plot area, where a drag zooms
    x, y = area["x"] + area["width"] * 0.2, area["y"] + area["height"] * 0.2
    page.evaluate("() => { window.T.feeding = window.T.feed(2500); }")  # longer than the gap between full draws
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 150, y + 100, steps=5)
    page.mouse.up()
    ranges = "() => [[...window.T.el._fullLayout.xaxis.range], [...window.T.el._fullLayout.yaxis.range]]"
    zoomed = page.evaluate(ranges)
    out = page.evaluate("""async () => {
        await window.T.feeding;
        await window.T.settle();
        const last = window.T.el.calcdata[1];
        return { lines: window.T.lines(), drawn: last[last.length - 1].x, step: window.T.step() };
    }""")
    assert page.evaluate(ranges) == zoomed and zoomed[0][1] < out["step"] / 2, (zoomed, out)
    assert out["drawn"] == out["step"] and out["lines"] > 0, out  # the data kept coming, and was drawn
    page.evaluate("() => { window.T.bad.length = 0; }")  # points outside the zoomed view were meant to be
    page.mouse.dblclick(x + 50, y + 50)  # Plotly's "reset axes"
    follow = page.evaluate("""async () => {
        await window.T.feed(600);
        await window.T.settle();
        return { x1: window.T.el._fullLayout.xaxis.range[1], step: window.T.step(), bad: window.T.bad };
    }""")
    assert follow["step"] <= follow["x1"] <= 1.34 * follow["step"] + 2 and follow["bad"] == [], follow


def test_a_live_batch_chart_whose_last_step_is_known_spans_the_whole_run_from_the_start(js):
    """Given the step a run ends at (its start event's total_steps), the live x axis reaches it
    at once: no full draw for the lines outgrowing the axis, and no jump when the run ends."""
    out = js("charts/batch", LIVE_BATCH_CHART + """
        chart.setLastStep(1, 480);
        const ranges = [];
        const react = Plotly.react;
        Plotly.react = async (...args) => { const r = await react(...args); ranges.push([...el._fullLayout.xaxis.range]); return r; };
        await feed(10000, 480);
        await settle();
        await sleep(2600);  // the stream stopped
        await settle();
        return { ranges, bad, step, lines: lines() };
    """)
    ranges = out["ranges"]
    assert out["step"] == 480 and out["bad"] == [] and out["lines"] > 0, out
    # The first draw (one append: not yet a stream) fits the data; every later one spans the run.
    assert ranges[0][1] == 16 and all(r == [0, 480] for r in ranges[1:]) and len(ranges) >= 2, ranges
