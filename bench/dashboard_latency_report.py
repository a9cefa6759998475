"""Part 2's figures from what the latency run recorded: publish → drawn delays, their split at the
frame's arrival, the frame rate, the batch chart's draws and where the CPU went."""
from __future__ import annotations

import os
import statistics

from dashboard_cpu import browser_by_type, noisy
from dashboard_stats import maxn, pct
from served import BATCHES_PER_EPOCH

TARGET_P95_MS = 250
MAX_FRAMES_PER_SECOND = 20


STEP, SEQ = 0, 1  # fields of a published (step, seq, time) stamp


def waits(published: list[tuple[int, int, float]], marks: list[tuple[float, int]], by: int) -> list[float]:
    """For each published (step, seq, time s) in order, ms until the first of ``marks`` (time ms, count)
    whose count reaches its step (``by=STEP``: points drawn) or its sequence number (``by=SEQ``: frames
    handled); it stops at the first event no mark reaches."""
    out, j = [], 0
    for stamp in published:
        while j < len(marks) and marks[j][1] < stamp[by]:
            j += 1
        if j == len(marks):
            break
        out.append(marks[j][0] - stamp[2] * 1000)
    return out


def spread(values: list[float]) -> str:
    return f"p50 {pct(values, 50):.0f} · p95 {pct(values, 95):.0f} · max {maxn(values):.0f} ms"


def origin_of_stamp(executor: str) -> tuple[float, str]:
    """(ms the engine's event may be older than its stamp, what the stamp is)."""
    if executor != "process":
        return 0.0, "batch event in the engine (its thread publishes it)"
    # The stamp is taken when the server publishes the event it received from the run process.
    # The child sends at least every PIPE_BATCH_SECONDS, so an event is at most that much older.
    from app.executors.remote import PIPE_BATCH_SECONDS

    pipe_ms = PIPE_BATCH_SECONDS * 1000
    return pipe_ms, (f"batch event published by the server (it comes from the run process in batches sent at least "
                     f"every {pipe_ms:.0f} ms: the engine's own event is up to {pipe_ms:.0f} ms older, added in the verdict)")


def latency_lines(args, published: list[tuple[int, int, float]], w: dict) -> list[str]:
    """Part 2's report from the stamps and what ``watch_run`` recorded (``w``)."""
    key, run_id = str(w["run_id"]), w["run_id"]
    pub = sorted(published)
    draw_list = sorted((d[0], d[1].get(key, 0)) for d in w["draws"].values() if key in d[1])
    react_list = sorted((r[1], r[4] or 0) for r in w["reacts"].values() if r[0] == "batch-chart")
    lat = waits(pub, draw_list, STEP)
    missing = len(pub) - len(lat)
    lat_check = waits(pub, react_list, STEP)
    arrive = waits(pub, sorted((f[0], f[3]) for f in w["frames"].values() if f[1] == run_id), SEQ)
    after_arrival = [d - a for d, a in zip(lat, arrive)]
    steady = [d for (step, _s, _t), d in zip(pub, lat) if step > BATCHES_PER_EPOCH]
    pipe_ms, origin = origin_of_stamp(args.executor)
    return [f"2. Latency, {origin} → its point drawn (normlabStats.drawLog), server in the bench "
            f"process (its threads on cores {','.join(map(str, sorted(os.sched_getaffinity(0))))}, as normlab serve's), "
            f"executor {args.executor}, {args.latency_epochs} epochs watched on / ({len(pub)} batch events, "
            f"engine {w['engine_seconds']:.2f} s, renderer {w['renderer']})",
            f"  all points:        p50 {pct(lat, 50):6.0f} ms · p95 {pct(lat, 95):6.0f} ms · max {maxn(lat):6.0f} ms  "
            f"target p95 (+ {pipe_ms:.0f} ms) ≤ {TARGET_P95_MS} ms  "
            f"{'PASS' if pct(lat, 95) + pipe_ms <= TARGET_P95_MS else 'MISS'}"
            + (f"  ({missing} points never drawn!)" if missing else ""),
            f"  after epoch 1:     p50 {pct(steady, 50):6.0f} ms · p95 {pct(steady, 95):6.0f} ms · max {maxn(steady):6.0f} ms "
            f"(step 1: {lat[0]:.0f} ms, as the page learns of the run, GETs /metrics, subscribes)",
            f"  split: publish → frame handled by the page {spread(arrive)}; frame handled → drawn {spread(after_arrival)}",
            f"  check (Plotly.react/animate wrapper: last step passed to a completed draw): {spread(lat_check)}",
            frame_line(w["frames"], run_id), draw_line(draw_list, w["reacts"]), cpu_line(args, w),
            *page_lines(w)]


def frame_line(frames: dict, run_id: int) -> str:
    """Frames the page handled for the run: rate, the most in any 1 s window, sequence numbers per frame."""
    times = sorted(f[0] for f in frames.values() if f[1] == run_id)
    intervals = [b - a for a, b in zip(times, times[1:])]
    span = (times[-1] - times[0]) / 1000 if len(times) > 1 else float("nan")
    most = max((sum(1 for u in times if t <= u < t + 1000) for t in times), default=0)
    sizes = [f[3] - f[2] + 1 for f in frames.values() if f[1] == run_id]
    return (f"  frames: {len(times)} in {span:.1f} s = {(len(times) - 1) / span:.1f}/s average, at most "
            f"{most} in any 1 s window, min interval {min(intervals):.0f} ms, p5 {pct(intervals, 5):.0f} ms; sequence "
            f"numbers per frame median {statistics.median(sizes):.0f}, mean {statistics.mean(sizes):.1f}, max {max(sizes)}  "
            f"target ≤ {MAX_FRAMES_PER_SECOND}/s  {'PASS' if most <= MAX_FRAMES_PER_SECOND else 'MISS'}")


def draw_line(draw_list: list[tuple[float, int]], reacts: dict) -> str:
    """The batch chart's draws: rate, and full (Plotly.react) against lines-only (Plotly.animate)."""
    times = [t for t, _ in draw_list]
    rate = (len(times) - 1) / ((times[-1] - times[0]) / 1000) if len(times) > 1 else float("nan")
    kinds = []
    for kind, label, tag in (("full", "Plotly.react", "full"), ("lines-only", "Plotly.animate", "lines")):
        ms = [r[3] for r in reacts.values() if r[0] == "batch-chart" and r[5] == tag]
        if ms:
            kinds.append(f"{kind} ({label}) {len(ms)}, median {statistics.median(ms):.0f} ms, "
                         f"p95 {pct(ms, 95):.0f} ms, max {max(ms):.0f} ms")
    return f"  batch-chart draws: {len(times)} = {rate:.1f}/s; " + "; ".join(kinds)


def cpu_line(args, w: dict) -> str:
    cpu, quiet = w["cpu"], w["quiet"]
    by = browser_by_type(cpu)
    return (f"  cpu-s during the run: wall {cpu['wall']:.1f} s · bench process (server"
            f"{'' if args.executor == 'process' else ' + training'}) {cpu['bench']:.1f} · run processes {cpu['runs']:.1f} · "
            f"browser {cpu['browser']:.1f} ({by}) · others {cpu['others']:.1f} (= {cpu['others'] / cpu['wall']:.2f} cores) · "
            f"steal {cpu['steal']:.1f}{noisy(cpu)}" + (f" [{quiet}]" if quiet else ""))


def page_lines(w: dict) -> list[str]:
    """Store writes, the page's main thread, Plotly's draws per chart, the profile, page errors."""
    writes, reacts, cpu = w["writes"], w["reacts"], w["cpu"]
    written = sum(s for s, _ in writes)
    task = w["main_thread"]["TaskDuration"]
    per_chart: dict[str, list[float]] = {}
    for r in reacts.values():
        per_chart.setdefault(r[0], []).append(r[3])
    batch_react = sum(r[3] for r in reacts.values() if r[0] == "batch-chart") / 1000
    out = [f"  store writes (in the worker thread; with the process executor not in the training): {len(writes)}, "
           f"{written:.3f} s in all ({written / w['engine_seconds']:.1%} of the run), "
           f"longest {max((s for s, _ in writes), default=0) * 1000:.0f} ms",
           f"  page main thread (Chrome Performance.getMetrics) during the run: tasks {task:.2f} s "
           f"(= {task / cpu['wall']:.0%} of the wall time)",
           f"  Plotly draws during the run: {sum(r[3] for r in reacts.values()) / 1000:.2f} s in all "
           f"({batch_react:.2f} s the batch chart); per chart "
           + "; ".join(f"{k} {len(v)}× median {statistics.median(v):.0f} ms" for k, v in per_chart.items()),
           *w["profile"]]
    if w["errors"]:
        out.append(f"  page errors: {w['errors'][:3]}")
    return out
