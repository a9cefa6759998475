"""Part 3 of the dashboard bench: how fast a finished run's page becomes interactive.

A finished run of --page-epochs epochs (20: 6 260 batch points) is opened at `/runs/<id>` in a
fresh browser context (cold HTTP cache), --loads times, and once more per load in the same
context (warm cache). "Interactive" = the batch chart holds every point, a Plotly draw of it
containing the last step has completed, and after that the main thread has gone 1 s without a
long task (> 50 ms): the time is the later of that draw and the end of the last long task
(TTI-like), performance.now() in the page (0 = navigation start). Then the "log scale" checkbox is
clicked and the time to the redraw it causes is measured, with a check that the y axis became
logarithmic. Target: ≤ 1 000 ms. Plotly.js alone is also loaded into a blank page of the same
origin (cold, then cached) to show its share.
"""
from __future__ import annotations

import statistics
import time
import urllib.request

from dashboard_browser import Browser, stats_url
from dashboard_cpu import NOISY_CORES, CpuMeter, log, wait_quiet
from dashboard_stats import fmt_list
from served import BATCHES_PER_EPOCH, SEED_RUN, ServeProcess, http, wait_finished

TARGET_MS = 1000

PAGE_FACTS = """
() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const res = (part) => performance.getEntriesByType("resource").find((e) => e.name.includes(part));
  const r = (e) => e ? { start: e.startTime, end: e.responseEnd, size: e.transferSize, body: e.decodedBodySize } : null;
  const B = window.__bench;
  const el = document.getElementById("batch-chart");
  return {
    html: nav.responseEnd, dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd,
    plotly: r(res("plotly.min.js")), metrics: r(res("/metrics")), script: r(res("run_page.js")),
    ready: B.ready, idle: B.idle, points: Number(el.dataset.points), draws: Number(el.dataset.draws || 0),
    renderer: el.dataset.renderer,
    react: B.react.map((x) => [x[0], x[2], x[3], x[4]]),
    longtasks: B.longtasks,
  };
}
"""


QUIET_MS = 1000  # "interactive": no long task (> 50 ms) for this long after the full curve is drawn


def measure_load(page, url: str, total: int) -> dict:
    page.goto(url, wait_until="commit")
    try:
        page.wait_for_function("() => window.__bench.ready !== null && window.__bench.idle !== null", polling=50,
                               timeout=120_000)
        # TTI-like: wait until the main thread has had no long task for QUIET_MS (after the full draw).
        page.wait_for_function(f"""() => {{
          const B = window.__bench, now = performance.now();
          const end = B.longtasks.reduce((m, t) => Math.max(m, t[0] + t[1]), 0);
          return now - Math.max(B.ready, end) >= {QUIET_MS};
        }}""", polling=100, timeout=120_000)
    except Exception:
        diag = page.evaluate("""() => ({bench: window.__bench && {...window.__bench, react: window.__bench.react.slice(-6)},
          points: document.getElementById('batch-chart') && document.getElementById('batch-chart').dataset.points})""")
        raise RuntimeError(f"page {url} not ready: {diag}; page errors: {page.errors}") from None
    facts = page.evaluate(PAGE_FACTS)
    # TTI: the end of the last long task before the quiet window, or the full draw if later.
    facts["tti"] = max([facts["ready"]] + [s + d for s, d in facts["longtasks"]])
    facts["drawn_all"] = max(r[1] + r[2] for r in facts["react"])  # every chart's last draw done
    # A control must respond: tick "log scale", wait for the redraw it causes.
    n_batch = sum(1 for r in facts["react"] if r[0] == "batch-chart")
    page.click("#log-y")
    page.wait_for_function(
        f"() => window.__bench.react.filter(r => r[0] === 'batch-chart').length > {n_batch} && "
        "document.getElementById('batch-chart')._fullLayout.yaxis.type === 'log'", polling=20, timeout=30_000)
    facts["click"] = page.evaluate("""() => {
      const B = window.__bench; const t = B.clicks.filter(c => c[1] === 'log-y').pop()[0];
      const r = B.react.find(r => r[0] === 'batch-chart' && r[2] >= t);
      return { click: t, redraw_start: r[2] - t, redraw_end: r[2] + r[3] - t, draw_ms: r[3],
               log: document.getElementById('batch-chart')._fullLayout.yaxis.type };
    }""")
    return facts


def plotly_alone_ms(browser: Browser, server_url: str, pid: int) -> tuple[dict, dict]:
    """Load only Plotly.js into a blank page of the server's origin, in a fresh context, then again (cached)."""
    wait_quiet(pid)
    context, page = browser.page()
    out = []
    for _ in range(2):
        page.goto(server_url + "/api/status")
        out.append(page.evaluate("""() => new Promise((resolve) => {
          const t0 = performance.now();
          const s = document.createElement("script");
          s.src = "/static/vendor/plotly.min.js";
          s.onload = () => {
            const t1 = performance.now();
            setTimeout(() => {  // long-task entries are delivered a little later
              const tasks = window.__bench.longtasks.filter((t) => t[0] >= t0);
              resolve({ total: t1 - t0, longest: Math.max(0, ...tasks.map((t) => t[1])) });
            }, 200);
          };
          document.head.appendChild(s);
        })"""))
    context.close()
    return out[0], out[1]


def bench_page_load(args, browser: Browser, server: ServeProcess) -> list[str]:
    """Part 3: train the run, time its page's loads (cold, then warm), report."""
    settings = {**SEED_RUN, "epochs": args.page_epochs}
    total = args.page_epochs * BATCHES_PER_EPOCH
    log(f"3: training the {args.page_epochs}-epoch run (no browser)")
    run = http(server.url + "/api/runs", settings)
    wait_finished(server.url, run["id"])
    t0 = time.perf_counter()
    with urllib.request.urlopen(f"{server.url}/api/runs/{run['id']}/metrics", timeout=60) as r:
        metrics_bytes = len(r.read())
    metrics_ms = (time.perf_counter() - t0) * 1000
    plotly_alone = [plotly_alone_ms(browser, server.url, server.pid) for _ in range(3)]
    loads = timed_loads(args.loads, browser, server, stats_url(server.url, f"/runs/{run['id']}"), total)
    out = [f"3. Finished run page /runs/<id>: {args.page_epochs} epochs, {total} batch points; {args.loads} loads, each in a fresh "
           f"context (cold cache) then reloaded (warm cache); ms from navigation start (performance.now())",
           f"  GET /metrics from Python: {metrics_bytes / 1e6:.2f} MB in {metrics_ms:.0f} ms",
           "  plotly.min.js alone on a blank same-origin page (ms: fetch → script run; its longest task), cold then warm: "
           + "; ".join(f"{c['total']:.0f} ({c['longest']:.0f}) → {w['total']:.0f} ({w['longest']:.0f})" for c, w in plotly_alone)]
    for kind in ("cold", "warm"):
        out += load_lines(kind, loads[kind])
    return out


def timed_loads(n: int, browser: Browser, server: ServeProcess, url: str, total: int) -> dict[str, list[dict]]:
    """``n`` loads of the page, each in a fresh context (cold), then reloaded there (warm): their facts."""
    loads: dict[str, list[dict]] = {"cold": [], "warm": []}
    for i in range(n):
        log(f"3: load {i + 1}/{n}")
        context, page = browser.page(want=total)
        for kind in ("cold", "warm"):
            quiet = wait_quiet(server.pid)
            meter = CpuMeter(server.pid).__enter__()
            facts = measure_load(page, url, total)
            c = meter.stop()
            facts["others"] = c["others"] / c["wall"]
            facts["quiet"] = quiet
            if facts["points"] != total:  # data-points: every batch point is in the chart
                raise RuntimeError(f"page holds {facts['points']} points, expected {total}")
            if page.errors:
                raise RuntimeError(f"page errors: {page.errors}")
            loads[kind].append(facts)
        context.close()
    return loads


def load_lines(kind: str, L: list[dict]) -> list[str]:
    """The figures of the cold or the warm loads: the verdict, then where the time went."""
    def med(fn):
        vals = [v for v in (fn(f) for f in L) if v is not None]
        return statistics.median(vals) if vals else float("nan")

    tti = [f["tti"] for f in L]
    ready = [f["ready"] for f in L]
    out = [f"  {kind}: interactive (full curve drawn, then {QUIET_MS} ms without a long task): median "
           f"{statistics.median(tti):5.0f} ms, max {max(tti):5.0f} ms (loads: {fmt_list(tti, '.0f')})  "
           f"target ≤ {TARGET_MS} ms  {'PASS' if max(tti) <= TARGET_MS else 'MISS'}"]
    out.append(f"    other processes during each load (cores): {fmt_list([f['others'] for f in L])}"
               + ("" if all(f["others"] <= NOISY_CORES for f in L) else "  NOISY")
               + "".join(f" [{f['quiet']}]" for f in L if f["quiet"]))
    out.append(f"    full curve drawn: median {statistics.median(ready):5.0f} ms, max {max(ready):5.0f} ms · next task ran "
               f"{med(lambda f: f['idle'] - f['ready']):.0f} ms later · every chart's last draw done "
               f"{med(lambda f: f['drawn_all']):.0f} ms")
    out.append(
        "    breakdown (medians, ms): html {:.0f} · plotly.js response end {:.0f} ({:.1f} MB, {:.1f} MB over the wire) · "
        "DOMContentLoaded {:.0f} · /metrics {:.0f} → {:.0f} ({:.2f} MB)".format(
            med(lambda f: f["html"]), med(lambda f: f["plotly"] and f["plotly"]["end"]),
            (L[0]["plotly"] or {}).get("body", 0) / 1e6, med(lambda f: f["plotly"] and f["plotly"]["size"]) / 1e6,
            med(lambda f: f["dcl"]), med(lambda f: f["metrics"] and f["metrics"]["start"]),
            med(lambda f: f["metrics"] and f["metrics"]["end"]), (L[0]["metrics"] or {}).get("body", 0) / 1e6))
    charts: dict[str, list[float]] = {}
    for f in L:
        for r in f["react"]:
            charts.setdefault(r[0], []).append(r[2])
    out.append("    Plotly.react per chart before the click (count/load, median ms, max ms): " + "; ".join(
        f"{name} {len(v) / len(L):.1f}, {statistics.median(v):.0f}, {max(v):.0f}" for name, v in charts.items()))
    long_total = [sum(d for s, d in f["longtasks"] if s < f["tti"]) for f in L]
    longest = [max((d for s, d in f["longtasks"] if s < f["tti"]), default=0) for f in L]
    first_long = [f["longtasks"][0] if f["longtasks"] else (0, 0) for f in L]
    out.append(f"    long tasks before interactive: total median {statistics.median(long_total):.0f} ms, longest median "
               f"{statistics.median(longest):.0f} ms; first long task median start {statistics.median(x[0] for x in first_long):.0f} "
               f"ms, duration {statistics.median(x[1] for x in first_long):.0f} ms; renderer {L[0]['renderer']}")
    clicks = [f["click"]["redraw_end"] for f in L]
    ok = all(f["click"]["log"] == "log" for f in L)
    out.append(f"    click on 'log scale' → its redraw done: median {statistics.median(clicks):.0f} ms, max {max(clicks):.0f} ms "
               f"(the draw itself median {statistics.median([f['click']['draw_ms'] for f in L]):.0f} ms); "
               f"y axis became log: {'yes' if ok else 'NO'}")
    return out

