"""bench_scale.py's browser measurements: how soon a page is usable, in Chromium (Playwright), with the
database bench_scale.py made (10 000 runs).

"Interactive" is measured, not guessed from requests: from the navigation's start (performance
timeOrigin) to the first moment when
  * what the page is for is drawn (per page below), checked every animation frame, and
  * no long task (a main-thread task over 50 ms: PerformanceObserver "longtask") is running: if one
    runs at that moment, the time moves to its end, and again if another runs then.
Long tasks are collected for a second after the page became ready, then the figure is worked out.
"Warm load": the page was loaded once before (HTTP cache, compiled scripts), as a person returning to
it sees it; each figure is the median of REPEATS reloads.

  dashboard      the runs table's rows are drawn (#runs-table not aria-busy, rows in its body) and the
                 Launch button is enabled
  study page     all 300 runs are in its table and the accuracy trade-off chart has drawn
  compare page   every run's weight images are drawn and its table filled (the charts below them draw
                 when scrolled to)
"""
from __future__ import annotations

import statistics
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from bench_scale import Bench, Figure

CHROMIUM = "/usr/bin/chromium"
REPEATS = 5
SETTLE_MS = 1000

READY = {
    "dashboard": """() => { const t = document.querySelector('#runs-table');
        return t && t.getAttribute('aria-busy') === 'false' && t.tBodies[0].rows.length > 0
            && !document.querySelector('#launch-button').disabled; }""",
    "study": """() => { const runs = document.querySelectorAll('#study-runs tbody tr').length;
        return runs > 0 && runs === +document.querySelector('#study-page').dataset.runs
            && +(document.querySelector('#tradeoff-accuracy').dataset.draws || 0) >= 1; }""",
    "compare": """() => { const grids = [...document.querySelectorAll('.weight-grid')];
        return grids.length > 0 && grids.every((g) => +g.dataset.images > 0)
            && document.querySelectorAll('#compare-table tbody tr').length === grids.length; }""",
}

# Before any page script: collect long tasks, and note when the page's READY condition first holds.
INIT = """(isReady) => {
  window.__longTasks = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__longTasks.push([e.startTime, e.startTime + e.duration]);
  }).observe({ type: 'longtask' });
  const check = () => {
    try { if (isReady()) { window.__readyAt = performance.now(); return; } } catch (err) { /* not yet */ }
    requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
}"""


def interactive_at(ready_at: float, long_tasks: list[list[float]]) -> float:
    """The first time from ``ready_at`` on when no long task runs (each [start, end] in ms)."""
    t = ready_at
    moved = True
    while moved:
        moved = False
        for start, end in long_tasks:
            if start <= t < end:
                t, moved = end, True
    return t


def measure_page(bench: Bench, path: str, kind: str) -> tuple[float, float, int]:
    """Median seconds to interactive and to ready over REPEATS warm loads of ``path``, and the
    long tasks of the last load."""
    from playwright.sync_api import sync_playwright

    script = f"({INIT})({READY[kind]})"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.add_init_script(script)
            url = f"http://127.0.0.1:{bench.port}{path}"
            page.goto(url)  # the cold load fills the cache
            page.wait_for_function("() => window.__readyAt !== undefined", timeout=60000)
            interactive, ready, tasks = [], [], 0
            for _ in range(REPEATS):
                page.reload()
                page.wait_for_function("() => window.__readyAt !== undefined", timeout=60000)
                page.wait_for_timeout(SETTLE_MS)
                ready_at, long_tasks = page.evaluate("() => [window.__readyAt, window.__longTasks]")
                ready.append(ready_at / 1000)
                interactive.append(interactive_at(ready_at, long_tasks) / 1000)
                tasks = len(long_tasks)
        finally:
            browser.close()
    return statistics.median(interactive), statistics.median(ready), tasks


def measurements(targets: dict[str, float], figure: type[Figure]) -> dict[str, Callable[[Bench], list[Figure]]]:
    """The three pages, each a measurement for bench_scale.py's MEASUREMENTS (``figure``: its Figure)."""
    def measure(bench: Bench, path: str, kind: str, name: str) -> list[Figure]:
        interactive, ready, tasks = measure_page(bench, path, kind)
        return [figure(f"{name}: interactive after a warm load (median of {REPEATS})", interactive, targets[kind],
                       f"drawn at {ready * 1000:.0f} ms; {tasks} long tasks in the last load")]

    def dashboard(bench: Bench) -> list[Figure]:
        return measure(bench, "/", "dashboard", f"dashboard ({bench.fixture.runs} runs)")

    def study(bench: Bench) -> list[Figure]:
        study_id, runs = bench.fixture.studies[0]
        return measure(bench, f"/studies/{study_id}", "study", f"study page ({runs} runs)")

    def compare(bench: Bench) -> list[Figure]:
        ids = ",".join(map(str, bench.fixture.compare))
        return measure(bench, f"/compare?runs={ids}", "compare", f"compare page ({len(bench.fixture.compare)} runs)")

    return {"dashboard_browser": dashboard, "study_browser": study, "compare_browser": compare}
