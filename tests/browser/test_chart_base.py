"""The chart base (static/js/charts/): when charts draw. Decimation, the quantile fit and escaping
are tested in test_modules.py, test_insight_modules.py and test_plotly_labels.py."""
from __future__ import annotations

import pytest

# A light page with Plotly.js, a frame counter, and `make(id, options, top)`: a chart of the base
# (one line) in a container placed `top` px down the page, whose draws are logged in `draws` as
# [container id, animation frame]. `settle()` waits until no chart has a draw pending.
PAGE = """async () => {
  await new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = "/static/vendor/plotly.min.js";
    script.onload = resolve;
    script.onerror = reject;
    document.head.append(script);
  });
  const base = await import("/static/js/charts/base.js");
  const schedule = await import("/static/js/charts/schedule.js");
  let frame = 0;
  const tick = () => { frame += 1; requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
  const draws = [];
  const react = Plotly.react;
  Plotly.react = (gd, ...rest) => { draws.push([gd.id, frame]); return react(gd, ...rest); };
  class Line extends base.Chart {
    traces() { return [{ type: "scatter", x: [1, 2, 3], y: this.ys || [1, 2, 3] }]; }
    layout() { return this.baseLayout(); }
  }
  const charts = [];
  const make = (id, options = {}, top = 0) => {
    const el = document.createElement("div");
    el.id = id;
    el.style.cssText = `position: absolute; left: 0; top: ${top}px; width: 300px; height: 200px`;
    document.body.append(el);
    const chart = new Line(el, options);
    charts.push(chart);
    return chart;
  };
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const settle = async () => {
    await sleep(100);
    while (charts.some((c) => c.scheduled || c.drawing)) await sleep(20);
  };
  window.T = { base, schedule, draws, make, sleep, settle, frame: () => frame };
}"""


@pytest.fixture
def page(watched, live_server):
    watched.set_viewport_size({"width": 800, "height": 600})
    watched.goto(live_server.url + "/api/status")
    watched.evaluate(PAGE)
    return watched


def test_charts_draw_one_per_animation_frame_in_the_order_they_were_made(page):
    draws = page.evaluate("""async () => {
        const { make, settle, draws } = window.T;
        for (const id of ["a", "b", "c", "d"]) make(id);
        await settle();
        return draws;
    }""")
    assert [d[0] for d in draws] == ["a", "b", "c", "d"]
    frames = [d[1] for d in draws]
    assert len(set(frames)) == 4, draws  # never two in one frame


def test_a_chart_off_screen_draws_only_when_scrolled_near_unless_told_to(page):
    out = page.evaluate("""async () => {
        const { make, settle, draws } = window.T;
        make("near", {}, 0);
        make("far", {}, 5000);
        make("eager", { offScreen: true }, 9000);
        await settle();
        const before = draws.map((d) => d[0]);
        document.getElementById("far").scrollIntoView();
        await settle();
        return { before, after: draws.map((d) => d[0]), far: document.getElementById("far").dataset };
    }""")
    assert sorted(out["before"]) == ["eager", "near"]
    assert out["after"][2:] == ["far"] and out["far"]["draws"] == "1"


def test_held_charts_wait_for_the_data_and_then_draw_once(page):
    out = page.evaluate("""async () => {
        const { make, settle, draws, sleep, schedule } = window.T;
        let release;
        schedule.holdDraws(new Promise((resolve) => { release = resolve; }));
        const chart = make("held");
        chart.ys = [3, 2, 1];
        chart.schedule();
        chart.schedule();
        await sleep(300);
        const whileHeld = draws.length;
        release();
        await settle();
        return { whileHeld, draws: draws.map((d) => d[0]), y: [...document.getElementById("held").data[0].y] };
    }""")
    assert out == {"whileHeld": 0, "draws": ["held"], "y": [3, 2, 1]}


def test_a_per_epoch_chart_redraws_at_most_once_a_second_and_a_shorter_wait_wins(page):
    out = page.evaluate("""async () => {
        const { make, settle, draws, sleep } = window.T;
        const chart = make("epochs", { pace: "epoch" });
        await settle();
        const first = chart.lastDrawEnd;
        for (let i = 0; i < 10; i++) {  // news every 100 ms for a second: one more draw, a second after the first
          chart.ys = [i, i, i];
          chart.schedule();
          await sleep(100);
        }
        await settle();
        const paced = { draws: draws.length, apart: chart.lastDrawEnd - first };
        // A chart whose gap shrinks (e.g. the last run of a study ended) does not wait out the longer one.
        chart.drawGap = () => 60000;
        chart.ys = [7, 7, 7];
        chart.schedule();
        await sleep(200);
        const waiting = draws.length;
        chart.drawGap = () => 0;
        chart.schedule();
        await sleep(500);
        return { paced, waiting, done: draws.length };
    }""")
    assert out["paced"]["draws"] == 2 and out["paced"]["apart"] >= 1000, out
    assert out["waiting"] == 2 and out["done"] == 3, out
