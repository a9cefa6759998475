"""Part 1 of the dashboard bench: what watching a run costs it, against the same run from the CLI.

The same seed-sized run through `python -m app.cli train --json` (the "done" line's ``seconds``)
and in `normlab serve` (its own process) with no viewer ("served"), with one plain WebSocket
client ("socket": server-side streaming only), with a Playwright page on `/` that handles every
frame but draws nothing ("nodraw"), with that page drawing ("watched"), and with a chromium
started on `/` with no automation client attached during the run ("plain", see PlainChromium);
for the server the engine's own ``seconds``. The variants run in rotating order, one round after
another. Target: a run watched in a browser ≤ 1.1 × CLI, judged on the median of the per-round
plain/CLI ratios with its 90 % bootstrap interval (watched/CLI printed too). Per run, the CPU of
the server, its run processes, the browser (by process type) and everything else is printed, with
the share of the run its process waited for a CPU.
"""
from __future__ import annotations

import json
import statistics
import threading
import time
from pathlib import Path

from dashboard_browser import CHART_STATE, PAUSE_DRAWS, Browser, PlainChromium, open_dashboard
from dashboard_cpu import NOISY_CORES, CpuMeter, cpu_line, log, noisy, wait_quiet
from dashboard_stats import bootstrap_median_ci, fmt_list, paired_ratios
from served import BATCHES_PER_EPOCH, SEED_RUN, ServeProcess, follow_run, http, run_cli, wait_finished

TARGET = 1.10  # a watched run's time / the CLI's, at most
VARIANTS = ("cli", "served", "socket", "nodraw", "watched", "plain")
NAMES = {"cli": "CLI (app.cli train --json):     ", "served": "dashboard, no browser:          ",
         "socket": "dashboard, one socket client:   ", "nodraw": "dashboard page, drawing nothing:",
         "watched": "dashboard, watched by chromium: ", "plain": "dashboard, chromium, no driver:  "}
# Ratios that split the cost of watching, printed after the verdict: (numerator, denominator, what).
SPLITS = (("served", "cli", "server overhead alone"),
          ("socket", "served", "streaming to one viewer (server side)"),
          ("nodraw", "socket", "the page receiving and handling frames"),
          ("watched", "nodraw", "the page drawing"),
          ("watched", "socket", "the browser's CPU competing with training"),
          ("watched", "served", "watching, all of it"),
          ("plain", "served", "watching, all of it, no automation attached"),
          ("watched", "plain", "the automation client (Playwright) attached to the page"))


def cli_run(settings: dict) -> float:
    """The engine's seconds of one `normlab train --json` run."""
    flags = [arg for key, value in settings.items() for arg in (f"--{key.replace('_', '-')}", str(value))]
    out = run_cli("train", "--json", *flags, timeout=7200)
    done = json.loads(out.stdout.strip().splitlines()[-1])
    if done.get("event") != "done":
        raise RuntimeError(f"CLI run did not finish: {done}")
    return float(done["seconds"])


def plain_run(server: ServeProcess, settings: dict, tmp: Path, meter: CpuMeter) -> tuple[float, str]:
    """A run watched by a PlainChromium on /: (engine seconds, note on what the page drew)."""
    viewer = PlainChromium(server.url, tmp)
    try:
        viewer.wait_for("document.querySelector('#connection')?.dataset.state === 'open' && "
                        "Number(document.querySelector('#batch-chart')?.dataset.draws || 0) >= 1")
        time.sleep(0.5)  # as dashboard_run: the page's start-up is not part of watching a run
        before = viewer.evaluate(CHART_STATE)
        meter.__enter__()
        run = http(server.url + "/api/runs", settings)
        finished = wait_finished(server.url, run["id"])
        meter.stop()
        total = settings["epochs"] * BATCHES_PER_EPOCH
        try:
            viewer.wait_for(f"Number(document.querySelector('#batch-chart').dataset.points) >= {total}", timeout=60)
            after = viewer.evaluate(CHART_STATE)
            note = (f"plain page drew {after['points']} points ({after['renderer']}) in "
                    f"{after['draws'] - before['draws']} draws, {after['lines'] - before['lines']} lines-only")
        except RuntimeError as exc:  # report, do not hide
            note = f"plain page did NOT get every point: {exc}"
    finally:
        viewer.close()
    return float(finished["result"]["seconds"]), note


def page_note(page, total: int, draws: bool) -> str:
    """What a watching Playwright page drew of the run (it must hold every batch point)."""
    if not draws:
        return "page handled every frame, drew nothing"
    try:
        page.wait_for_function(f"() => Number(document.querySelector('#batch-chart').dataset.points) >= {total}",
                               timeout=60_000, polling=200)
        points = page.eval_on_selector("#batch-chart", "el => Number(el.dataset.points)")
        note = f"page drew {points} points ({page.eval_on_selector('#batch-chart', 'el => el.dataset.renderer')})"
    except Exception as exc:  # report, do not hide
        note = f"page did NOT get every point: {exc}"
    return note + (f"; page errors: {page.errors[:3]}" if page.errors else "")


def dashboard_run(server: ServeProcess, settings: dict, browser: Browser | None, meter: CpuMeter | None = None,
                  socket_viewer: bool = False, draws: bool = True):
    """Launch a run (watched by a fresh page on / when browser is given, or by a plain WebSocket client);
    (engine seconds, note, context). ``meter`` is started just before the launch (after the page has
    loaded) and stopped when the run ends. ``draws=False``: the page's Plotly draws are no-ops, so it
    receives and handles every frame but draws nothing."""
    context = page = viewer = None
    if browser is not None:
        context, page = open_dashboard(browser, server.url)
        page.wait_for_function("() => Number(document.querySelector('#batch-chart').dataset.draws || 0) >= 1")
        page.wait_for_timeout(500)  # let the page settle: its start-up is not part of watching a run
        if not draws:
            page.evaluate(PAUSE_DRAWS)
    if meter is not None:
        meter.__enter__()
    run = http(server.url + "/api/runs", settings)
    got: list[int] = []
    if socket_viewer:
        viewer = threading.Thread(target=follow_run, daemon=True,
                                  args=(server.url, run["id"], lambda e: got.extend(e.get("batch", {}).get("seq", []))))
        viewer.start()
    finished = wait_finished(server.url, run["id"])
    if meter is not None:
        meter.stop()
    note = ""
    if viewer is not None:
        viewer.join(60)
        note = f"socket client got {len(got)} batch points"
    if page is not None:
        note = page_note(page, settings["epochs"] * BATCHES_PER_EPOCH, draws)
    return float(finished["result"]["seconds"]), note, context


def timed_variant(variant: str, server: ServeProcess, settings: dict, browser: Browser, tmp: Path,
                  meter: CpuMeter) -> tuple[float, str]:
    """One run of one variant, ``meter`` around the run itself: (engine seconds, note)."""
    if variant == "cli":
        with meter:
            return cli_run(settings), ""
    if variant == "plain":
        return plain_run(server, settings, tmp, meter)
    seconds, note, context = dashboard_run(server, settings, browser if variant in ("watched", "nodraw") else None,
                                           meter, socket_viewer=variant == "socket", draws=variant != "nodraw")
    if context is not None:
        context.close()
    return seconds, note


def bench_overhead(args, browser: Browser, tmp: Path) -> tuple[list[str], ServeProcess]:
    """Part 1: --pairs rounds of every variant in rotating order; the report and the server (part 3 reuses it)."""
    settings = {**SEED_RUN, "epochs": args.epochs}
    server = ServeProcess(tmp / "serve.sqlite", tmp / "serve.log", executor=args.executor,
                          blas_threads=args.server_blas_threads, extra=tuple(args.serve_flags.split()))
    log("warm-up: CLI and dashboard, 1 epoch each")
    cli_run({**settings, "epochs": 1})
    dashboard_run(server, {**settings, "epochs": 1}, browser)[2].close()
    times: dict[str, list[float]] = {v: [] for v in VARIANTS}
    waited: dict[str, list[float]] = {v: [] for v in VARIANTS}  # share of the run its process waited for a CPU
    lines = []
    for r in range(args.pairs):
        shift = r % len(args.variants)
        for v in args.variants[shift:] + args.variants[:shift]:
            log(f"round {r + 1}/{args.pairs}: {v}")
            quiet = wait_quiet(server.pid)
            meter = CpuMeter(server.pid)
            seconds, note = timed_variant(v, server, settings, browser, tmp, meter)
            c = meter.result
            times[v].append(seconds)
            if v != "cli":
                waited[v].append(c["runs_waited"] / seconds)
            notes = "; ".join(x for x in (note, quiet) if x)
            lines.append(f"  round {r + 1} {v:8s} {seconds:7.2f} s   {cpu_line(c)}{noisy(c)}" + (f"   [{notes}]" if notes else ""))
    return overhead_report(args, times, lines, waited), server


def verdict_lines(times: dict[str, list[float]], viewer: str, med: dict[str, float]) -> list[str]:
    """The target's verdict for one kind of watching page: viewer/CLI, median of per-round ratios."""
    pair = paired_ratios(times, viewer, "cli")
    centre = statistics.median(pair)
    low, high = bootstrap_median_ci(pair)
    verdict = "PASS" if centre <= TARGET else "MISS"
    strength = ("the whole interval is within the target" if high <= TARGET else
                f"the interval reaches past {TARGET}: more rounds would narrow it" if centre <= TARGET else "")
    return [f"  {viewer} / CLI, median of per-round ratios: {centre:.3f}×  90 % interval {low:.3f}–{high:.3f}  "
            f"target ≤ {TARGET}×  {verdict}" + (f" ({strength})" if strength else ""),
            f"    per round: {fmt_list(pair, '.3f')}; ratio of the medians {med[viewer] / med['cli']:.3f}×"]


def overhead_report(args, times: dict[str, list[float]], lines: list[str], waited: dict[str, list[float]]) -> list[str]:
    """Part 1's figures: medians per variant, the verdicts, the ratios that split the cost, each run's CPU."""
    med = {v: statistics.median(times[v]) for v in args.variants}
    out = [f"1. Live-watched run vs CLI: synthetic, 20 000 examples, hidden 200, batch 64, {args.epochs} epochs "
           f"({args.epochs * BATCHES_PER_EPOCH} batch events); engine seconds; {args.pairs} rounds, order rotated"
           + (f"; the server with {args.server_blas_threads} BLAS thread(s), the CLI as set above" if args.server_blas_threads else "")
           + (f"; normlab serve {args.serve_flags}" if args.serve_flags else "")]
    out += [f"  {NAMES[v]} median {med[v]:7.2f} s  (runs: {fmt_list(times[v])})" for v in args.variants]
    for viewer in ("plain", "watched"):  # the verdict: a person's browser; then the one Playwright drives
        if {"cli", viewer} <= set(args.variants):
            out += verdict_lines(times, viewer, med)
    for num, den, what in SPLITS:
        if {num, den} <= set(args.variants):
            pair = paired_ratios(times, num, den)
            out.append(f"  {num} / {den}: median of per-round ratios {statistics.median(pair):.3f}× "
                       f"(per round: {fmt_list(pair, '.3f')})  {what}")
    shares = [f"{v} {statistics.median(waited[v]):.1%} ({min(waited[v]):.1%}–{max(waited[v]):.1%})"
              for v in args.variants if waited[v]]
    if shares:
        out.append("  the run process waited for a CPU (runnable, not running; /proc schedstat), share of the run, "
                   "median (range): " + ", ".join(shares))
    out += [f"  per run (CPU seconds during the run; 'others' = everything on the machine not ours, i.e. other sessions; "
            f"NOISY: others > {NOISY_CORES} cores):", *lines]
    return out
