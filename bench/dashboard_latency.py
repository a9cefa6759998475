"""Part 2 of the dashboard bench: how long a batch event takes to reach the live chart.

The server runs in this process (create_app + werkzeug in a thread), with its threads kept off
the run's core as `normlab serve` keeps them, and ``lab.hub.publish`` is wrapped to stamp
time.time() on every batch event (bench-only instrumentation from outside the product). A
Playwright page on `/` watches the run; batch k (its step) is drawn at the first entry of the
page's ``normlabStats.drawLog`` whose count for the run is ≥ k. The delay is draw time − publish
time (one machine, one wall clock), split at the frame's arrival in the page (``frameLog``).
Also: frames per second, Chrome's main-thread metrics, the time the worker thread spends in
store writes, and, from one more watched run under Chrome's sampling profiler (not timed;
--no-profile skips it), the page's main-thread time by script. Targets: p95 ≤ 250 ms, ≤ 20
frames/s per client.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from pathlib import Path

from dashboard_browser import Browser, open_dashboard
from dashboard_cpu import CpuMeter, log, wait_quiet
from dashboard_latency_report import latency_lines
from served import BATCHES_PER_EPOCH, SEED_RUN, http, wait_finished

COLLECT = """() => ({frames: normlabStats.frameLog, draws: normlabStats.drawLog, react: window.__bench.react})"""
MAIN_THREAD = ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration")


def bench_latency(args, browser: Browser, tmp: Path) -> list[str]:
    """Part 2: an in-process server, instrumented; a watched run; its report."""
    from app import create_app

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request log lines in the output
    app = create_app({"DATABASE": str(tmp / "latency.sqlite"), "EXECUTOR": args.executor})
    lab = app.extensions["normlab"]
    published, writes = instrument(lab)
    lab.start()
    try:
        with threads_kept_off(lab.executor.reserved_cores()), serving(app) as url:
            watched = watch_run(args, browser, url, lab, writes)
            watched["profile"] = profiled_run(browser, url, lab, watched["settings"]) if args.profile else []
    finally:
        lab.shutdown()
    return latency_lines(args, published[watched["run_id"]], watched)


def instrument(lab) -> tuple[dict[int, list[tuple[int, int, float]]], list[tuple[float, int]]]:
    """Stamp every batch event as the server publishes it (run → [(step, seq, time.time())]), and time
    the store writes the worker thread makes ([(seconds, events)])."""
    from engine.events import BatchEvent

    published: dict[int, list[tuple[int, int, float]]] = {}
    writes: list[tuple[float, int]] = []
    publish, record = lab.hub.publish, lab.store.record

    def stamped_publish(run_id, event):
        if isinstance(event, BatchEvent):
            published.setdefault(run_id, []).append((event.step, event.seq, time.time()))
        return publish(run_id, event)

    def timed_record(run_id, events, *a, **k):
        t0 = time.perf_counter()
        try:
            return record(run_id, events, *a, **k)
        finally:
            writes.append((time.perf_counter() - t0, len(events)))

    lab.hub.publish = stamped_publish  # instance attributes: the Recorder looks them up on each call
    lab.store.record = timed_record
    return published, writes


@contextlib.contextmanager
def threads_kept_off(cores: list[int]):
    """This process's threads kept off ``cores`` (app.executors.process.keep_threads_off), as
    `normlab serve` keeps the server's, and given every core back afterwards: later parts start
    servers as child processes, which would inherit the restriction."""
    from app.executors.process import keep_threads_off, set_thread_cores, usable_cores

    before = usable_cores()
    keep_threads_off(cores)
    try:
        yield
    finally:
        set_thread_cores(before)


@contextlib.contextmanager
def serving(app):
    """The app served by werkzeug's threaded server in a thread of this process; its URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def wait_run(lab, run_id: int, every: float, on_wait=lambda: None, timeout: float = 3600) -> None:
    """Until the run has ended in the store, calling ``on_wait`` every ``every`` s."""
    deadline = time.monotonic() + timeout
    while lab.store.get_run(run_id)["status"] in ("queued", "running"):
        time.sleep(every)
        on_wait()
        if time.monotonic() > deadline:
            raise RuntimeError(f"run {run_id} did not finish in {timeout} s")


def wait_all_points(page, total: int) -> None:
    page.wait_for_function(f"() => Number(document.querySelector('#batch-chart').dataset.points) >= {total}",
                           polling=100, timeout=60_000)


def watch_run(args, browser: Browser, url: str, lab, writes: list) -> dict:
    """A warm-up run, then a run watched by a fresh page: what the page logged and what it cost."""
    settings = {**SEED_RUN, "epochs": args.latency_epochs}
    total = args.latency_epochs * BATCHES_PER_EPOCH
    log("2: warm-up run (1 epoch)")
    wait_finished(url, http(url + "/api/runs", {**settings, "epochs": 1})["id"])
    context, page = open_dashboard(browser, url)
    frames, draws, reacts = {}, {}, {}

    def collect() -> None:  # the page keeps its logs bounded (2 000 entries): collect them as we go
        got = page.evaluate(COLLECT)
        frames.update(((f[0], f[1], f[2]), f) for f in got["frames"])
        draws.update(((d[0], json.dumps(d[1], sort_keys=True)), d) for d in got["draws"])
        reacts.update(((r[0], r[2]), r) for r in got["react"])

    page.wait_for_timeout(500)
    quiet = wait_quiet()
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    metrics_before = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    writes.clear()
    meter = CpuMeter(runs_of=os.getpid()).__enter__()  # the server's run processes are this bench's children
    log(f"2: watched run ({args.latency_epochs} epochs)")
    run_id = http(url + "/api/runs", settings)["id"]
    wait_run(lab, run_id, 2.0, collect)
    wait_all_points(page, total)
    page.wait_for_timeout(500)
    collect()
    cpu = meter.stop()
    metrics_after = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    watched = {"settings": settings, "run_id": run_id, "frames": frames, "draws": draws, "reacts": reacts,
               "quiet": quiet, "cpu": cpu, "writes": list(writes), "errors": list(page.errors),
               "main_thread": {k: metrics_after.get(k, 0) - metrics_before.get(k, 0) for k in MAIN_THREAD},
               "renderer": page.eval_on_selector("#batch-chart", "el => el.dataset.renderer"),
               "engine_seconds": http(f"{url}/api/runs/{run_id}")["result"]["seconds"]}
    context.close()
    return watched


def profiled_run(browser: Browser, url: str, lab, settings: dict) -> list[str]:
    """Another watched run (not timed) under Chrome's sampling profiler: main-thread time by script."""
    log("2: profiled run (not timed)")
    context, page = open_dashboard(browser, url)
    page.wait_for_timeout(500)
    cdp = context.new_cdp_session(page)
    cdp.send("Profiler.enable")
    cdp.send("Profiler.setSamplingInterval", {"interval": 500})
    cdp.send("Profiler.start")
    run_id = http(url + "/api/runs", settings)["id"]
    wait_run(lab, run_id, 0.5)
    wait_all_points(page, settings["epochs"] * BATCHES_PER_EPOCH)
    profile = cdp.send("Profiler.stop")["profile"]
    context.close()
    return profile_lines(profile)


def profile_lines(profile: dict) -> list[str]:
    """Self time by script (Plotly.js as one) and the app's functions with the most of it."""
    frames = {n["id"]: n["callFrame"] for n in profile["nodes"]}
    samples, deltas = profile["samples"], profile["timeDeltas"]
    by_file: dict[str, float] = {}
    by_function: dict[str, float] = {}
    for i, node in enumerate(samples):
        dt_ms = (deltas[i + 1] if i + 1 < len(deltas) else 0) / 1000
        cf = frames[node]
        name, src = cf.get("functionName") or "(anonymous)", cf.get("url") or ""
        if src:
            key = "plotly.min.js" if "plotly" in src else src.rsplit("/", 1)[-1]
        elif name in ("(idle)", "(program)", "(garbage collector)"):
            key = {"(program)": "(program: native work, e.g. style, layout, paint)"}.get(name, name)
        else:
            key = f"(native {name})"
        by_file[key] = by_file.get(key, 0.0) + dt_ms
        if src and "plotly" not in src:
            fn = f"{src.rsplit('/', 1)[-1]}:{name}:{cf.get('lineNumber', 0) + 1}"
            by_function[fn] = by_function.get(fn, 0.0) + dt_ms
    busy = sum(v for k, v in by_file.items() if k != "(idle)")
    top = sorted(((v, k) for k, v in by_file.items() if k != "(idle)"), reverse=True)[:8]
    top_fn = sorted(((v, k) for k, v in by_function.items()), reverse=True)[:5]
    return [f"  profiled run (another watched run, not timed; page main thread, self time): busy {busy / 1000:.2f} s: "
            + "; ".join(f"{k} {v / 1000:.2f} s ({v / busy:.0%})" for v, k in top),
            "    app functions with most self time: " + "; ".join(f"{k} {v:.0f} ms" for v, k in top_fn)]
