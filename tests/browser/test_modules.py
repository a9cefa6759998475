"""The page's own logic, run in the browser: EMA smoothing, view downsampling, stream cursor handling."""
from __future__ import annotations

import random

import pytest


@pytest.fixture
def js(watched, live_server):
    """A light same-origin page from which the ES modules are imported."""
    watched.goto(live_server.url + "/api/status")

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
    view = js("charts", """
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


def test_a_chart_draws_at_once_the_first_time_even_one_that_redraws_once_a_second(js):
    """Per-epoch charts wait a second between draws; the first draw, right after a page's
    load (performance.now() near 0), must not wait for a previous draw that never was."""
    waited = js("charts", """
        await new Promise((resolve, reject) => {
          const script = document.createElement("script");
          script.src = "/static/vendor/plotly.min.js";
          script.onload = resolve;
          script.onerror = reject;
          document.head.append(script);
        });
        const el = document.createElement("div");
        el.style.cssText = "width: 400px; height: 300px";
        document.body.append(el);
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
    assert waited < 600, f"the chart's first draw came {waited:.0f} ms after its data"
