"""Part 4 of the dashboard bench: what drawing costs a run, paired within one run.

A dashboard page watches one long served run (--paired-epochs) while its charts alternately draw
and do not (Plotly.react and .animate swapped for no-ops by the bench; frames are still received
and handled) in --window s windows. The training rate (batch events per second, from a plain
WebSocket client's frame arrivals) of adjacent windows is compared, so drift in the machine's
speed (±25 % over seconds to minutes on a small shared machine) hits both sides of each pair;
part 1 can only see the cost through the spread of whole runs. (Freezing the page through CDP
would leave out its frame handling too, but headless chromium does not freeze a visible page.)
"""
from __future__ import annotations

import statistics
import threading
import time
from pathlib import Path

from dashboard_browser import PAUSE_DRAWS, RESUME_DRAWS, Browser, open_dashboard
from dashboard_cpu import browser_cpu_since, chromium_cpu, wait_quiet
from dashboard_stats import fmt_list, pct
from served import BATCHES_PER_EPOCH, SEED_RUN, ServeProcess, follow_run, http, wait_finished


def step_timeline(url: str, run_id: int, timeline: list) -> None:
    """Append (arrival time, batch events so far) for every frame of the run."""
    def on_entry(entry: dict) -> None:
        seqs = entry.get("batch", {}).get("seq", [])
        timeline.append((time.monotonic(), (timeline[-1][1] if timeline else 0) + len(seqs)))

    follow_run(url, run_id, on_entry)


def steps_at(timeline: list, t: float) -> float:
    """Batch events received by time t, interpolated between frames."""
    before = (timeline[0][0], 0)
    for when, count in timeline:
        if when >= t:
            span = when - before[0]
            return before[1] + (count - before[1]) * ((t - before[0]) / span if span > 0 else 1.0)
        before = (when, count)
    return float(before[1])


def alternate(page, viewer: threading.Thread, window: float) -> list[tuple[str, float, float, float]]:
    """Drawing and not drawing in turns of ``window`` s while the run lasts: (state, start, end, browser CPU-s)."""
    windows = []
    state = "live"
    while viewer.is_alive():
        page.evaluate(RESUME_DRAWS if state == "live" else PAUSE_DRAWS)
        before, start = chromium_cpu(), time.monotonic()
        time.sleep(window)
        after, end = chromium_cpu(), time.monotonic()
        windows.append((state, start, end, sum(browser_cpu_since(before, after).values())))
        state = "frozen" if state == "live" else "live"
    page.evaluate(RESUME_DRAWS)
    return windows


def bench_paired(args, browser: Browser, tmp: Path) -> list[str]:
    """Part 4: one long served run, the page drawing and not in turns; the report."""
    server = ServeProcess(tmp / "paired.sqlite", tmp / "paired.log", executor=args.executor)
    try:
        context, page = open_dashboard(browser, server.url)
        page.wait_for_function("() => Number(document.querySelector('#batch-chart').dataset.draws || 0) >= 1")
        wait_quiet(server.pid)
        run = http(server.url + "/api/runs", {**SEED_RUN, "epochs": args.paired_epochs})
        timeline: list = []
        viewer = threading.Thread(target=step_timeline, args=(server.url, run["id"], timeline), daemon=True)
        viewer.start()
        while not timeline or timeline[-1][1] < BATCHES_PER_EPOCH:  # the first epoch is start-up
            time.sleep(0.01)
        windows = alternate(page, viewer, args.window)
        finished = wait_finished(server.url, run["id"])
        context.close()
    finally:
        server.stop()
    return paired_report(args, timeline, windows, finished["result"]["seconds"])


def paired_report(args, timeline: list, windows: list, engine_seconds: float) -> list[str]:
    """Training rate and browser CPU per window, and the drawing / not-drawing ratio of adjacent pairs."""
    rates = [(state, (steps_at(timeline, b) - steps_at(timeline, a)) / (b - a), cpu / (b - a))
             for state, a, b, cpu in windows if b <= timeline[-1][0] - 0.2]  # the run's tail is not a full window
    pairs = [(rates[i], rates[i + 1]) for i in range(0, len(rates) - 1, 2)]
    slowdowns = [frozen[1] / live[1] for live, frozen in pairs if live[0] == "live" and live[1] > 0]
    if not slowdowns:
        return ["4. Paired: the run ended before a pair of windows was complete; use more --paired-epochs"]
    def of(state: str, i: int) -> list[float]:  # i: 1 training rate, 2 browser cores
        return [r[i] for r in rates if r[0] == state]

    live_rate, frozen_rate = of("live", 1), of("frozen", 1)
    return [
        f"4. The watching page's cost on training, paired within one run: synthetic seed-size run, {args.paired_epochs} "
        f"epochs (engine {engine_seconds:.1f} s), page on / alternately drawing and not every "
        f"{args.window:g} s; {len(slowdowns)} pairs",
        f"  training rate, batches/s: page drawing median {statistics.median(live_rate):.0f}, "
        f"not drawing median {statistics.median(frozen_rate):.0f}",
        f"  time per batch, drawing / not: median of pairs {statistics.median(slowdowns):.3f}× "
        f"(p25 {pct(slowdowns, 25):.3f}, p75 {pct(slowdowns, 75):.3f}; all {fmt_list(sorted(slowdowns), '.2f')}); "
        f"whole windows {statistics.mean(frozen_rate) / statistics.mean(live_rate):.3f}×",
        f"  browser CPU (all chromium processes): drawing {statistics.median(of('live', 2)):.2f} cores, "
        f"not drawing {statistics.median(of('frozen', 2)):.2f} cores (medians of windows)",
    ]
