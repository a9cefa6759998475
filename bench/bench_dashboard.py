"""Dashboard benchmark: the three performance targets of the dashboard, measured side by side.

Run by hand (never by CI), with Debian's chromium and the Python Playwright package:

    .venv/bin/python bench/bench_dashboard.py [--epochs 20] [--pairs 4] [--loads 5] [--only 1 --only 3]
    .venv/bin/python bench/bench_dashboard.py --only 4 --paired-epochs 200

1. Overhead of watching. The same seed-sized run (synthetic data, 20 000 examples, hidden 200,
   batch 64, --epochs epochs) through `python -m app.cli train --json` (the "done" line's
   `seconds`), and in `normlab serve` (its own process) with no viewer, with one plain WebSocket
   client (server-side streaming cost only), with a headless chromium page on `/` that handles
   every frame but draws nothing (Plotly.react and .animate no-ops: "nodraw"), with that page watching it
   live ("watched", driven by Playwright), and with a chromium started on `/` with no automation
   client attached during the run ("plain", see PlainChromium): the engine's own `seconds` (GET
   /api/runs/<id>). The variants (--variants) are run in rotating order, --pairs rounds. Target:
   a run watched in a browser ≤ 1.05 × CLI, judged on the median of the per-round plain/CLI
   ratios (watched/CLI printed too), with its 90 % bootstrap interval: this machine's speed
   drifts by ±25 % over seconds to minutes, which pairing runs of one round cancels and the
   ratio of whole-run medians does not. Per run, CPU seconds of the server, of
   the browser (by chromium process type) and of everything else on the machine (from /proc) are
   printed, so CPU competition is visible rather than guessed; before each timed run the bench
   waits (up to --quiet-wait s) until other processes use < --quiet cores, and marks a run NOISY
   when they used > 0.5 cores during it.
2. Latency. The server runs in this process (create_app + werkzeug in a thread) and
   `lab.hub.publish` is wrapped to stamp time.time() on every batch event (bench-only
   instrumentation). A chromium page on `/` watches the run; for batch k (its step) the draw
   time is the first entry of `normlabStats.drawLog` whose count for the run is ≥ k. The delay
   is draw time − publish time (one machine, one wall clock). Frames per second per client come
   from `normlabStats.frameLog`; the delay is also split at the frame's arrival in the page, and
   Chrome's main-thread metrics (CDP Performance.getMetrics), the time the training thread spends
   in store writes (lab.store.record wrapped) and, from one more watched run under Chrome's
   sampling profiler (not timed; --no-profile skips it), the page's main-thread time by script.
   Targets: p95 ≤ 250 ms, ≤ 20 frames/s.
3. Finished run page. A finished 20-epoch run (6 260 batch points) is opened at `/runs/<id>` in a
   fresh browser context (cold HTTP cache), --loads times, and once more per load in the same
   context (warm cache). "Interactive" = the batch chart holds all 6 260 points (data-points), a
   Plotly draw of it containing the last step has completed, and after that the main thread has
   gone 1 s without a long task (> 50 ms): the time is the later of that draw and the end of the
   last long task (TTI-like), performance.now() in the page (0 = navigation start). Then the
   "log scale" checkbox is clicked and the time to the redraw it causes is measured, with a
   check that the y axis became logarithmic. Target: ≤ 1 000 ms. Plotly.js alone is also loaded
   into a blank page of the same origin (cold, then cached) to show its share.

4. The cost of drawing, paired within one run (--paired-epochs, default 60): a dashboard page
   watches one long served run while its charts alternately draw and do not (Plotly.react and
   .animate swapped for no-ops by the bench; frames are still received and handled) in --window s windows; the
   training rate (batch events per second, from a plain WebSocket client's frame arrivals) of
   adjacent windows is compared, so drift in the machine's speed hits both sides of each pair.

The server's runs train where `normlab serve` trains them by default, in a child process of the
server (`--executor process`); `--executor thread` measures the in-process executor instead. With
the process executor the server's CPU is printed apart from its run processes' ("its run processes").

Page-side instrumentation (an init script, bench only): Plotly.react and Plotly.animate (the live
chart's lines-only draws) are wrapped to record each draw's duration and the last x (step) it was given, an independent check of drawLog; long tasks
are recorded with a PerformanceObserver.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import logging
import os
import platform
import random
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
# As tests/browser/conftest.py launches it.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
BATCHES_PER_EPOCH = 313  # ceil(20 000 / 64)
SEED_RUN = {"penalty": "none", "dataset": "synthetic", "train_size": 20000, "batch_size": 64, "hidden": 200,
            "lr": 0.1, "seed": 0, "activation": "sigmoid", "dtype": "float32"}
CLK_TCK = os.sysconf("SC_CLK_TCK")
BLAS_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def child_env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT)}

INIT_SCRIPT = r"""
(() => {
  const B = (window.__bench = { react: [], longtasks: [], ready: null, idle: null, clicks: [], want: 0 });
  let P;
  Object.defineProperty(window, "Plotly", {
    configurable: true, enumerable: true,
    get() { return P; },
    set(v) {
      if (v && typeof v.react === "function" && !v.__benchWrapped) {
        // Full draws (Plotly.react) and the live chart's lines-only draws (Plotly.animate, whose
        // frame carries the data) alike: [chart id, Date.now(), start, duration, last x, kind].
        const wrap = (fn, kind, dataOf) => function (gd, arg, ...rest) {
          const t0 = performance.now();
          let lastX = null;
          for (const trace of dataOf(arg) || []) {
            const xs = trace && trace.x;
            if (xs && xs.length && (lastX === null || xs[xs.length - 1] > lastX)) lastX = xs[xs.length - 1];
          }
          const out = fn.call(this, gd, arg, ...rest);
          Promise.resolve(out).then(() => {
            const t1 = performance.now();
            B.react.push([gd.id, Date.now(), t0, t1 - t0, lastX, kind]);
            if (gd.id === "batch-chart" && B.want && lastX !== null && lastX >= B.want && B.ready === null) {
              B.ready = t1;
              setTimeout(() => { B.idle = performance.now(); }, 0);
            }
          }, () => {});
          return out;
        };
        v.react = wrap(v.react, "full", (data) => data);
        v.animate = wrap(v.animate, "lines", (frame) => frame && frame.data);
        v.__benchWrapped = true;
      }
      P = v;
    },
  });
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) B.longtasks.push([e.startTime, e.duration]);
    }).observe({ type: "longtask", buffered: true });
  } catch (e) { /* not supported */ }
  document.addEventListener("click", (e) => B.clicks.push([performance.now(), e.target && e.target.id]), true);
})();
"""


# -- small helpers ---------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(url: str, body: dict | None = None, method: str | None = None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data, {"Content-Type": "application/json"} if data else {}, method=method)
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.load(r)


def maxn(values):
    return max(values) if values else float("nan")


def pct(values, q):
    """Nearest-rank percentile."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(q / 100 * len(s) + 0.5)) - 1))
    return s[k]


def fmt_list(values, spec=".2f"):
    return ", ".join(format(v, spec) for v in values)


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')} load {loadavg()}] {message}", file=sys.stderr, flush=True)


# -- CPU accounting from /proc -----------------------------------------------------------------
def proc_cpu(pid: int) -> float:
    """utime + stime of one process, seconds (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def waited_for_cpu(pid: int) -> float:
    """Seconds the threads of one process have spent runnable but not running (/proc schedstat)."""
    total = 0
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            total += int((task / "schedstat").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        pass
    return total / 1e9


def descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def chromium_cpu() -> dict[int, tuple[str, float]]:
    """pid → (process type, CPU seconds) of this process's chromium descendants (browser, renderer, gpu...)."""
    out: dict[int, tuple[str, float]] = {}
    for pid in descendants(os.getpid()):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").split()  # chromium rewrites its title
        except OSError:
            continue
        if not cmd or b"chromium" not in cmd[0]:
            continue
        kind = next((a.split(b"=", 1)[1].decode() for a in cmd if a.startswith(b"--type=")), "browser")
        out[pid] = (kind, proc_cpu(pid))
    return out


def machine_cpu() -> tuple[float, float]:
    """(busy, steal) CPU seconds of the whole machine since boot."""
    f = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (f + [0] * 8)[:8]
    return (user + nice + system + irq + softirq) / CLK_TCK, steal / CLK_TCK


class CpuMeter:
    """CPU used during a window: server process, browser, this bench (+ waited children), the rest."""

    def __init__(self, server_pid: int | None = None, runs_of: int | None = None):
        self.server_pid = server_pid
        self.runs_of = runs_of or server_pid  # whose Python child processes are the run processes

    def run_pids(self) -> list[int]:
        return [p for p in descendants(self.runs_of) if _is_python(p)] if self.runs_of else []

    def snapshot(self) -> dict:
        own = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        busy, steal = machine_cpu()
        return {"wall": time.monotonic(), "busy": busy, "steal": steal,
                "bench": own.ru_utime + own.ru_stime, "cli": kids.ru_utime + kids.ru_stime,
                "server": proc_cpu(self.server_pid) if self.server_pid else 0.0,
                "runs": sum(proc_cpu(p) for p in self.run_pids()),
                "runs_waited": sum(waited_for_cpu(p) for p in self.run_pids()),
                "browser": chromium_cpu(),
                "driver": sum(proc_cpu(p) for p in descendants(os.getpid()) if _is_node(p))}

    def __enter__(self):
        self.before = self.snapshot()
        return self

    def stop(self) -> dict:
        a, b = self.before, self.snapshot()
        browser: dict[str, float] = {}
        for pid, (kind, cpu) in b["browser"].items():  # per process: ones that ended meanwhile are not counted
            browser[kind] = browser.get(kind, 0.0) + cpu - a["browser"].get(pid, (kind, 0.0))[1]
        d = {k: b[k] - a[k] for k in ("wall", "busy", "steal", "bench", "cli", "server", "runs", "runs_waited", "driver")}
        d["browser"] = sum(browser.values())
        d["browser_by_type"] = browser
        d["others"] = max(0.0, d["busy"] - d["bench"] - d["cli"] - d["server"] - d["runs"] - d["browser"] - d["driver"])
        self.result = d
        return d

    def __exit__(self, *exc):
        self.stop()


def _is_python(pid: int) -> bool:
    try:
        return b"python" in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0", 1)[0]
    except OSError:
        return False


def _is_node(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() == "node"
    except OSError:
        return False


def cpu_line(c: dict) -> str:
    w = c["wall"]
    by = ", ".join(f"{k} {v:.1f}" for k, v in sorted(c["browser_by_type"].items(), key=lambda kv: -kv[1]) if v >= 0.05)
    parts = [f"wall {w:5.1f} s", f"server {c['server']:5.1f}",
             f"its run processes {c['runs']:5.1f} (waited {c['runs_waited']:.2f} s for a CPU)",
             f"cli {c['cli']:5.1f}", f"bench {c['bench']:4.1f}",
             f"browser {c['browser']:5.1f}" + (f" ({by})" if by else ""),
             f"others {c['others']:5.1f} (= {c['others'] / w:.2f} cores)", f"steal {c['steal']:.1f}"]
    return "cpu-s: " + " · ".join(parts)


NOISY_CORES = 0.5  # a run during which other processes used more than this is marked NOISY
QUIET = {"cores": 0.3, "max_wait": 300.0}  # set from the command line


def wait_quiet(server_pid: int | None = None) -> str:
    """Wait (up to QUIET["max_wait"] s) until other processes use < QUIET["cores"] over 2 s; a note on what happened."""
    if QUIET["cores"] <= 0:
        return ""
    started = time.monotonic()
    while True:
        meter = CpuMeter(server_pid).__enter__()
        time.sleep(2.0)
        c = meter.stop()
        others = c["others"] / c["wall"]
        waited = time.monotonic() - started
        if others < QUIET["cores"]:
            return f"quiet after {waited:.0f} s" if waited > 3 else ""
        if waited >= QUIET["max_wait"]:
            return f"never quiet: others {others:.2f} cores after {waited:.0f} s"


def noisy(c: dict) -> str:
    return "  NOISY" if c["others"] / c["wall"] > NOISY_CORES else ""


# -- the server in its own process ----------------------------------------------------------------
class ServeProcess:
    """`python -m app.cli serve --no-preload` on a fresh database."""

    def __init__(self, db: Path, logfile: Path, blas_threads: int | None = None, executor: str = "process"):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(logfile, "wb")
        env = child_env()
        if blas_threads:
            env.update({var: str(blas_threads) for var in BLAS_VARS})
        self.proc = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--db", str(db), "--port", str(self.port),
                                      "--no-preload", "--executor", executor], cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                http(self.url + "/api/status")
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not start; see {logfile}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def wait_finished(url: str, run_id: int, timeout: float = 3600) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        run = http(f"{url}/api/runs/{run_id}")
        if run["status"] not in ("queued", "running"):
            if run["status"] != "completed":
                raise RuntimeError(f"run {run_id} ended {run['status']}: {run.get('reason')}")
            return run
        if time.monotonic() > deadline:
            raise RuntimeError(f"run {run_id} still {run['status']} after {timeout} s")
        time.sleep(0.2)


# -- the browser -----------------------------------------------------------------------------------
class Browser:
    def __init__(self):
        from playwright.sync_api import sync_playwright

        self.pw = sync_playwright().start()
        self.browser = self.pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        self.version = self.browser.version

    def page(self, want: int = 0):
        """A fresh context (empty cache) and page with the instrumentation; ``want``: the step whose draw
        means "full curve drawn" (0: none)."""
        context = self.browser.new_context(viewport={"width": 1280, "height": 900})
        context.add_init_script(INIT_SCRIPT.replace("want: 0", f"want: {int(want)}"))
        page = context.new_page()
        page.set_default_timeout(120_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.errors = errors
        return context, page

    def close(self):
        self.browser.close()
        self.pw.stop()


class PlainChromium:
    """Chromium on the dashboard as a person opens it: no automation client attached while a run trains.

    Playwright keeps a DevTools session on its pages with the network domain on, so the browser
    copies every WebSocket frame to Playwright's driver (node), which parses it: work a person's
    browser does not do, on the same two cores as the run. Here chromium only listens on a
    DevTools port, and the bench attaches for one short evaluation at a time (is the page ready?
    what did it draw?) before and after the run, never during it."""

    def __init__(self, url: str, tmp: Path):
        from simple_websocket import Client

        self._client = Client
        self.port = free_port()
        self.profile = Path(tempfile.mkdtemp(prefix="chromium-", dir=tmp))
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", *CHROMIUM_ARGS, f"--remote-debugging-port={self.port}",
             f"--user-data-dir={self.profile}", "--window-size=1280,900", url + "/"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def evaluate(self, expression: str):
        """The value of ``expression`` in the page, from a DevTools session opened and closed for it."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list", timeout=5) as answer:
            target = next(t for t in json.load(answer) if t.get("type") == "page")
        ws = self._client.connect(target["webSocketDebuggerUrl"])
        try:
            ws.send(json.dumps({"id": 1, "method": "Runtime.evaluate",
                                "params": {"expression": expression, "returnByValue": True}}))
            while True:
                message = json.loads(ws.receive(timeout=10) or "{}")
                if message.get("id") == 1:
                    return message.get("result", {}).get("result", {}).get("value")
        finally:
            ws.close()

    def wait_for(self, expression: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self.evaluate(expression):
                    return
            except (OSError, StopIteration, ValueError, ConnectionError):
                pass  # chromium still starting
            if time.monotonic() > deadline:
                raise RuntimeError(f"plain chromium: still not {expression!r} after {timeout} s")
            time.sleep(0.3)

    def close(self) -> None:
        try:
            os.killpg(self.proc.pid, 15)
            self.proc.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
        for _ in range(20):  # chromium's children leave after it; their profile files with them
            try:
                shutil.rmtree(self.profile)
                break
            except OSError:
                time.sleep(0.2)


def open_dashboard(browser: Browser, url: str):
    context, page = browser.page()
    page.goto(url + "/")
    page.wait_for_selector("#connection[data-state=open]")
    return context, page


# -- 1. overhead of watching ------------------------------------------------------------------------
def cli_run(settings: dict) -> float:
    cmd = [sys.executable, "-m", "app.cli", "train", "--json"]
    for key, value in settings.items():
        cmd += [f"--{key.replace('_', '-')}", str(value)]
    env = child_env()
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=7200)
    if out.returncode != 0:
        raise RuntimeError(f"CLI run failed ({out.returncode}): {out.stderr[-2000:]}")
    done = json.loads(out.stdout.strip().splitlines()[-1])
    if done.get("event") != "done":
        raise RuntimeError(f"CLI run did not finish: {done}")
    return float(done["seconds"])


def follow_run(url: str, run_id: int, on_batch: Callable[[list[int]], None]) -> None:
    """A viewer without a browser: subscribe from the start and hand each frame's batch sequence
    numbers to ``on_batch`` until the run's final event."""
    from simple_websocket import Client

    ws = Client.connect(url.replace("http://", "ws://") + "/ws")
    try:
        ws.send(json.dumps({"type": "subscribe", "runs": {str(run_id): -1}}))
        deadline = time.monotonic() + 3600
        while time.monotonic() < deadline:
            raw = ws.receive(timeout=1)
            if raw is None:
                continue
            message = json.loads(raw)
            for entry in message.get("runs", []) if message.get("type") == "frame" else []:
                on_batch(entry.get("batch", {}).get("seq", []))
                if "final" in entry:
                    return
    finally:
        ws.close()


def socket_watch(url: str, run_id: int, got: list) -> None:
    """Collect every batch sequence number of the run in ``got``."""
    follow_run(url, run_id, got.extend)


PAUSE_DRAWS = """() => {
  window.__draws = window.__draws || { react: Plotly.react, animate: Plotly.animate };
  Plotly.react = Plotly.animate = () => Promise.resolve();
}"""
RESUME_DRAWS = """() => { if (window.__draws) Object.assign(Plotly, window.__draws); }"""


CHART_STATE = """(() => { const c = document.querySelector('#batch-chart');
  return c ? { points: Number(c.dataset.points || 0), draws: Number(c.dataset.draws || 0),
               lines: Number(c.dataset.linesOnlyDraws || 0), renderer: c.dataset.renderer } : null; })()"""


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
    if socket_viewer:
        got: list[int] = []
        viewer = threading.Thread(target=socket_watch, args=(server.url, run["id"], got), daemon=True)
        viewer.start()
    finished = wait_finished(server.url, run["id"])
    if meter is not None:
        meter.stop()
    note = ""
    if viewer is not None:
        viewer.join(60)
        note = f"socket client got {len(got)} batch points"
    if page is not None and not draws:
        note = "page handled every frame, drew nothing"
    elif page is not None:
        total = settings["epochs"] * BATCHES_PER_EPOCH
        try:
            page.wait_for_function(f"() => Number(document.querySelector('#batch-chart').dataset.points) >= {total}",
                                   timeout=60_000, polling=200)
            points = page.eval_on_selector("#batch-chart", "el => Number(el.dataset.points)")
            note = f"page drew {points} points ({page.eval_on_selector('#batch-chart', 'el => el.dataset.renderer')})"
        except Exception as exc:  # report, do not hide
            note = f"page did NOT get every point: {exc}"
        if page.errors:
            note += f"; page errors: {page.errors[:3]}"
    return float(finished["result"]["seconds"]), note, context


VARIANTS = ("cli", "served", "socket", "nodraw", "watched", "plain")


def bench_overhead(args, browser: Browser, tmp: Path) -> tuple[list[str], ServeProcess]:
    settings = {**SEED_RUN, "epochs": args.epochs}
    server = ServeProcess(tmp / "serve.sqlite", tmp / "serve.log", args.server_blas_threads, args.executor)
    meter_pid = server.proc.pid
    log("warm-up: CLI and dashboard, 1 epoch each")
    cli_run({**settings, "epochs": 1})
    _, _, ctx = dashboard_run(server, {**settings, "epochs": 1}, browser)
    ctx.close()
    variants = args.variants
    times: dict[str, list[float]] = {v: [] for v in VARIANTS}
    waited: dict[str, list[float]] = {v: [] for v in VARIANTS}  # share of the run its process waited for a CPU
    lines = []
    for r in range(args.pairs):
        order = variants[r % len(variants):] + variants[:r % len(variants)]
        for v in order:
            log(f"round {r + 1}/{args.pairs}: {v}")
            quiet = wait_quiet(meter_pid)
            meter = CpuMeter(meter_pid)
            ctx = None
            if v == "cli":
                meter.__enter__()
                seconds, note = cli_run(settings), ""
                meter.stop()
            elif v == "plain":
                seconds, note = plain_run(server, settings, tmp, meter)
            else:
                seconds, note, ctx = dashboard_run(server, settings, browser if v in ("watched", "nodraw") else None,
                                                   meter, socket_viewer=v == "socket", draws=v != "nodraw")
            c = meter.result
            if ctx is not None:
                ctx.close()
            times[v].append(seconds)
            if v != "cli":
                waited[v].append(c["runs_waited"] / seconds)
            notes = "; ".join(x for x in (note, quiet) if x)
            lines.append(f"  round {r + 1} {v:8s} {seconds:7.2f} s   {cpu_line(c)}{noisy(c)}" + (f"   [{notes}]" if notes else ""))
    return overhead_report(args, times, lines, waited), server


def paired_ratios(times: dict[str, list[float]], num: str, den: str) -> list[float]:
    """Per-round ratios num/den: each pairs two runs minutes apart, so the machine's drift hits both."""
    return [a / b for a, b in zip(times[num], times[den])]


def bootstrap_median_ci(values: list[float], level: float = 0.90, draws: int = 10_000) -> tuple[float, float]:
    """A percentile bootstrap interval for the median (seeded, so a report can be re-derived)."""
    rng = random.Random(0)
    meds = sorted(statistics.median(rng.choices(values, k=len(values))) for _ in range(draws))
    tail = (1 - level) / 2
    return meds[int(tail * draws)], meds[int((1 - tail) * draws) - 1]


def verdict_lines(times: dict[str, list[float]], viewer: str, med: dict[str, float]) -> list[str]:
    """The target's verdict for one kind of watching page: viewer/CLI, median of per-round ratios."""
    pair = paired_ratios(times, viewer, "cli")
    centre = statistics.median(pair)
    low, high = bootstrap_median_ci(pair)
    verdict = "PASS" if centre <= 1.05 else "MISS"
    strength = ("the whole interval is within the target" if high <= 1.05 else
                "the interval reaches past 1.05: more rounds would narrow it" if centre <= 1.05 else "")
    return [f"  {viewer} / CLI, median of per-round ratios: {centre:.3f}×  90 % interval {low:.3f}–{high:.3f}  "
            f"target ≤ 1.05×  {verdict}" + (f" ({strength})" if strength else ""),
            f"    per round: {fmt_list(pair, '.3f')}; ratio of the medians {med[viewer] / med['cli']:.3f}×"]


def overhead_report(args, times: dict[str, list[float]], lines: list[str], waited: dict[str, list[float]]) -> list[str]:
    """Part 1's verdict. The target is judged on the median of per-round watched/CLI ratios with
    its 90 % bootstrap interval: single runs here drift by ±25 % within minutes, so the ratio of
    whole-run medians mostly measures the machine."""
    names = {"cli": "CLI (app.cli train --json):     ", "served": "dashboard, no browser:          ",
             "socket": "dashboard, one socket client:   ", "nodraw": "dashboard page, drawing nothing:",
             "watched": "dashboard, watched by chromium: ",
             "plain": "dashboard, chromium, no driver:  "}
    med = {v: statistics.median(times[v]) for v in args.variants}
    out = [f"1. Live-watched run vs CLI: synthetic, 20 000 examples, hidden 200, batch 64, {args.epochs} epochs "
           f"({args.epochs * BATCHES_PER_EPOCH} batch events); engine seconds; {args.pairs} rounds, order rotated"
           + (f"; the server with {args.server_blas_threads} BLAS thread(s), the CLI as set above" if args.server_blas_threads else "")]
    out += [f"  {names[v]} median {med[v]:7.2f} s  (runs: {fmt_list(times[v])})" for v in args.variants]
    for viewer in ("plain", "watched"):  # the verdict: a person's browser; then the one Playwright drives
        if {"cli", viewer} <= set(args.variants):
            out += verdict_lines(times, viewer, med)
    for num, den, what in (("served", "cli", "server overhead alone"),
                           ("socket", "served", "streaming to one viewer (server side)"),
                           ("nodraw", "socket", "the page receiving and handling frames"),
                           ("watched", "nodraw", "the page drawing"),
                           ("watched", "socket", "the browser's CPU competing with training"),
                           ("watched", "served", "watching, all of it"),
                           ("plain", "served", "watching, all of it, no automation attached"),
                           ("watched", "plain", "the automation client (Playwright) attached to the page")):
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


# -- 3. finished run page load ------------------------------------------------------------------------
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
    server_url, pid = server.url, server.proc.pid
    settings = {**SEED_RUN, "epochs": args.page_epochs}
    total = args.page_epochs * BATCHES_PER_EPOCH
    log("3: training the 20-epoch run (no browser)")
    run = http(server_url + "/api/runs", settings)
    wait_finished(server_url, run["id"])
    url = f"{server_url}/runs/{run['id']}"
    t0 = time.perf_counter()
    with urllib.request.urlopen(f"{server_url}/api/runs/{run['id']}/metrics", timeout=60) as r:
        metrics_bytes = len(r.read())
    metrics_ms = (time.perf_counter() - t0) * 1000
    plotly_alone = [plotly_alone_ms(browser, server_url, pid) for _ in range(3)]
    loads = {"cold": [], "warm": []}
    for i in range(args.loads):
        log(f"3: load {i + 1}/{args.loads}")
        context, page = browser.page(want=total)
        for kind in ("cold", "warm"):
            quiet = wait_quiet(pid)
            meter = CpuMeter(pid).__enter__()
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

    out = [f"3. Finished run page /runs/<id>: {args.page_epochs} epochs, {total} batch points; {args.loads} loads, each in a fresh "
           f"context (cold cache) then reloaded (warm cache); ms from navigation start (performance.now())",
           f"  GET /metrics from Python: {metrics_bytes / 1e6:.2f} MB in {metrics_ms:.0f} ms",
           "  plotly.min.js alone on a blank same-origin page (ms: fetch → script run; its longest task), cold then warm: "
           + "; ".join(f"{c['total']:.0f} ({c['longest']:.0f}) → {w['total']:.0f} ({w['longest']:.0f})" for c, w in plotly_alone)]
    for kind in ("cold", "warm"):
        L = loads[kind]

        def med(fn):
            vals = [v for v in (fn(f) for f in L) if v is not None]
            return statistics.median(vals) if vals else float("nan")

        tti = [f["tti"] for f in L]
        ready = [f["ready"] for f in L]
        out.append(f"  {kind}: interactive (full curve drawn, then {QUIET_MS} ms without a long task): median "
                   f"{statistics.median(tti):5.0f} ms, max {max(tti):5.0f} ms (loads: {fmt_list(tti, '.0f')})  "
                   f"target ≤ 1000 ms  {'PASS' if max(tti) <= 1000 else 'MISS'}")
        out.append(f"    other processes during each load (cores): {fmt_list([f['others'] for f in L])}"
                   + ("" if all(f["others"] <= NOISY_CORES for f in L) else "  NOISY")
                   + "".join(f" [{f['quiet']}]" for f in L if f["quiet"]))
        out.append(f"    full curve drawn: median {statistics.median(ready):5.0f} ms, max {max(ready):5.0f} ms · next task ran "
                   f"{med(lambda f: f['idle'] - f['ready']):.0f} ms later · every chart's last draw done {med(lambda f: f['drawn_all']):.0f} ms")
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


# -- 2. latency, server in this process --------------------------------------------------------------
def bench_latency(args, browser: Browser, tmp: Path) -> list[str]:
    from werkzeug.serving import make_server

    from app import create_app
    from engine.events import BatchEvent

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request log lines in the output
    app = create_app({"DATABASE": str(tmp / "latency.sqlite"), "EXECUTOR": args.executor})
    lab = app.extensions["normlab"]
    published: dict[int, list[tuple[int, int, float]]] = {}  # run → [(step, seq, time.time())]
    original = lab.hub.publish

    def publish(run_id, event):
        if isinstance(event, BatchEvent):
            published.setdefault(run_id, []).append((event.step, event.seq, time.time()))
        return original(run_id, event)

    lab.hub.publish = publish  # instance attribute: the Recorder calls lab.hub.publish
    # Time the store writes the training thread makes (Recorder.flush → store.record, once per epoch).
    writes: list[tuple[float, int]] = []
    original_record = lab.store.record

    def record(run_id, events, *a, **k):
        t0 = time.perf_counter()
        try:
            return original_record(run_id, events, *a, **k)
        finally:
            writes.append((time.perf_counter() - t0, len(events)))

    lab.store.record = record
    with threads_kept_off(lab.executor.reserved_cores()):  # as `normlab serve` keeps its threads
        return latency_report(args, browser, lab, app, published, writes)


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


def latency_report(args, browser: Browser, lab, app, published: dict, writes: list) -> list[str]:
    """Part 2 proper: a watched run on the in-process server, its delays, frames and draws."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    out = []
    try:
        settings = {**SEED_RUN, "epochs": args.latency_epochs}
        total = args.latency_epochs * BATCHES_PER_EPOCH
        log("2: warm-up run (1 epoch)")
        wait_finished(url, http(url + "/api/runs", {**settings, "epochs": 1})["id"])
        context, page = open_dashboard(browser, url)
        # Logs are bounded in the page (2 000 entries): collect them as we go.
        frames, draws, reacts = {}, {}, {}

        def collect():
            got = page.evaluate("""() => ({frames: normlabStats.frameLog, draws: normlabStats.drawLog,
                                            react: window.__bench.react})""")
            for f in got["frames"]:
                frames[(f[0], f[1], f[2])] = f
            for d in got["draws"]:
                draws[(d[0], json.dumps(d[1], sort_keys=True))] = d
            for r in got["react"]:
                reacts[(r[0], r[2])] = r

        page.wait_for_timeout(500)
        quiet = wait_quiet()
        cdp = context.new_cdp_session(page)
        cdp.send("Performance.enable")
        metrics_before = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
        writes.clear()
        meter = CpuMeter(runs_of=os.getpid()).__enter__()  # the server's run processes are this bench's children
        log(f"2: watched run ({args.latency_epochs} epochs)")
        run_id = http(url + "/api/runs", settings)["id"]
        deadline = time.monotonic() + 3600
        while lab.store.get_run(run_id)["status"] in ("queued", "running"):
            time.sleep(2.0)
            collect()
            if time.monotonic() > deadline:
                raise RuntimeError("latency run did not finish")
        page.wait_for_function(f"() => Number(document.querySelector('#batch-chart').dataset.points) >= {total}",
                               polling=100, timeout=60_000)
        page.wait_for_timeout(500)
        collect()
        cpu = meter.stop()
        metrics_after = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
        main_thread = {k: metrics_after.get(k, 0) - metrics_before.get(k, 0)
                       for k in ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration")}
        renderer = page.eval_on_selector("#batch-chart", "el => el.dataset.renderer")
        engine_seconds = http(f"{url}/api/runs/{run_id}")["result"]["seconds"]
        errors = list(page.errors)
        context.close()
        profile_lines = profiled_run(browser, url, lab, settings, total) if args.profile else []
    finally:
        server.shutdown()
        server.server_close()
        lab.shutdown()

    key = str(run_id)
    pub = sorted(published[run_id])
    draw_list = sorted((d[0], d[1].get(key, 0)) for d in draws.values() if key in d[1])
    react_list = sorted((r[1], r[4] or 0) for r in reacts.values() if r[0] == "batch-chart")

    def delays(draw_points):
        res, j = [], 0
        for step, _seq, t in pub:
            while j < len(draw_points) and draw_points[j][1] < step:
                j += 1
            if j == len(draw_points):
                return res, len(pub) - len(res)
            res.append(draw_points[j][0] - t * 1000)
        return res, 0

    lat, missing = delays(draw_list)
    lat_check, _ = delays(react_list)
    # Split: publish → the page handled the frame holding it (frameLog, by sequence number), then → drawn.
    frame_seq = sorted((f[0], f[3]) for f in frames.values() if f[1] == run_id)
    arrive, j = [], 0
    for _step, seq, t in pub:
        while j < len(frame_seq) and frame_seq[j][1] < seq:
            j += 1
        arrive.append(frame_seq[j][0] - t * 1000 if j < len(frame_seq) else float("nan"))
    after_arrival = [d - a for d, a in zip(lat, arrive)]
    steady = [d for (step, _s, _t), d in zip(pub, lat) if step > BATCHES_PER_EPOCH]
    frame_times = sorted(f[0] for f in frames.values() if f[1] == run_id)
    intervals = [b - a for a, b in zip(frame_times, frame_times[1:])]
    span = (frame_times[-1] - frame_times[0]) / 1000 if len(frame_times) > 1 else float("nan")
    max_window = max((sum(1 for u in frame_times if t <= u < t + 1000) for t in frame_times), default=0)
    sizes = [f[3] - f[2] + 1 for f in frames.values() if f[1] == run_id]
    def draw_ms_of(kind: str) -> list[float]:
        return [r[3] for r in reacts.values() if r[0] == "batch-chart" and r[5] == kind]

    draw_times = [t for t, _ in draw_list]
    draw_rate = (len(draw_times) - 1) / ((draw_times[-1] - draw_times[0]) / 1000) if len(draw_times) > 1 else float("nan")
    if args.executor == "process":
        # The stamp is taken when the server publishes the event it received from the run process.
        # The child sends at least every PIPE_BATCH_SECONDS, so an event is at most that much older.
        from app.executors.remote import PIPE_BATCH_SECONDS
        pipe_ms = PIPE_BATCH_SECONDS * 1000
        origin = (f"batch event published by the server (it comes from the run process in batches sent at least every "
                  f"{pipe_ms:.0f} ms: the engine's own event is up to {pipe_ms:.0f} ms older, added in the verdict)")
    else:
        pipe_ms, origin = 0.0, "batch event in the engine (its thread publishes it)"
    out += [f"2. Latency, {origin} → its point drawn (normlabStats.drawLog), server in the bench "
            f"process (its threads on cores {','.join(map(str, sorted(os.sched_getaffinity(0))))}, as normlab serve's), "
            f"executor {args.executor}, {args.latency_epochs} epochs watched on / ({len(pub)} batch events, "
            f"engine {engine_seconds:.2f} s, renderer {renderer})",
            f"  all points:        p50 {pct(lat, 50):6.0f} ms · p95 {pct(lat, 95):6.0f} ms · max {maxn(lat):6.0f} ms  "
            f"target p95 (+ {pipe_ms:.0f} ms) ≤ 250 ms  {'PASS' if pct(lat, 95) + pipe_ms <= 250 else 'MISS'}"
            + (f"  ({missing} points never drawn!)" if missing else ""),
            f"  after epoch 1:     p50 {pct(steady, 50):6.0f} ms · p95 {pct(steady, 95):6.0f} ms · max {maxn(steady):6.0f} ms "
            f"(step 1: {lat[0]:.0f} ms, as the page learns of the run, GETs /metrics, subscribes)",
            f"  split: publish → frame handled by the page p50 {pct(arrive, 50):.0f} · p95 {pct(arrive, 95):.0f} · max "
            f"{maxn(arrive):.0f} ms; frame handled → drawn p50 {pct(after_arrival, 50):.0f} · p95 {pct(after_arrival, 95):.0f} · "
            f"max {maxn(after_arrival):.0f} ms",
            f"  check (Plotly.react/animate wrapper: last step passed to a completed draw): p50 {pct(lat_check, 50):.0f} · "
            f"p95 {pct(lat_check, 95):.0f} · max {maxn(lat_check):.0f} ms",
            f"  frames: {len(frame_times)} in {span:.1f} s = {(len(frame_times) - 1) / span:.1f}/s average, at most "
            f"{max_window} in any 1 s window, min interval {min(intervals):.0f} ms, p5 {pct(intervals, 5):.0f} ms; sequence "
            f"numbers per frame median {statistics.median(sizes):.0f}, mean {statistics.mean(sizes):.1f}, max {max(sizes)}  target ≤ 20/s  {'PASS' if max_window <= 20 else 'MISS'}",
            f"  batch-chart draws: {len(draw_times)} = {draw_rate:.1f}/s; " + "; ".join(
                f"{kind} ({label}) {len(ms)}, median {statistics.median(ms):.0f} ms, p95 {pct(ms, 95):.0f} ms, max {max(ms):.0f} ms"
                for kind, label, ms in (("full", "Plotly.react", draw_ms_of("full")), ("lines-only", "Plotly.animate", draw_ms_of("lines")))
                if ms),
            f"  cpu-s during the run: wall {cpu['wall']:.1f} s · bench process (server"
            f"{'' if args.executor == 'process' else ' + training'}) {cpu['bench']:.1f} · run processes {cpu['runs']:.1f} · "
            f"browser {cpu['browser']:.1f} ({', '.join(f'{k} {v:.1f}' for k, v in cpu['browser_by_type'].items() if v >= 0.05)}) · "
            f"others {cpu['others']:.1f} (= {cpu['others'] / cpu['wall']:.2f} cores) · steal {cpu['steal']:.1f}{noisy(cpu)}"
            + (f" [{quiet}]" if quiet else ""),
            f"  store writes (in the worker thread; with the process executor not in the training): {len(writes)}, {sum(w for w, _ in writes):.3f} s in all "
            f"({sum(w for w, _ in writes) / engine_seconds:.1%} of the run), longest {max((w for w, _ in writes), default=0) * 1000:.0f} ms",
            f"  page main thread (Chrome Performance.getMetrics) during the run: tasks {main_thread['TaskDuration']:.2f} s "
            f"(= {main_thread['TaskDuration'] / cpu['wall']:.0%} of the wall time)"]
    batch_react = sum(r[3] for r in reacts.values() if r[0] == "batch-chart") / 1000
    all_react = sum(r[3] for r in reacts.values()) / 1000
    per_chart = {}
    for r in reacts.values():
        per_chart.setdefault(r[0], []).append(r[3])
    out.append(f"  Plotly draws during the run: {all_react:.2f} s in all ({batch_react:.2f} s the batch chart); per chart "
               + "; ".join(f"{k} {len(v)}× median {statistics.median(v):.0f} ms" for k, v in per_chart.items()))
    out += profile_lines
    if errors:
        out.append(f"  page errors: {errors[:3]}")
    return out


def profiled_run(browser: Browser, url: str, lab, settings: dict, total: int) -> list[str]:
    """Another watched run (not timed) under Chrome's sampling profiler: main-thread time by script."""
    log("2: profiled run (not timed)")
    context, page = open_dashboard(browser, url)
    page.wait_for_timeout(500)
    cdp = context.new_cdp_session(page)
    cdp.send("Profiler.enable")
    cdp.send("Profiler.setSamplingInterval", {"interval": 500})
    cdp.send("Profiler.start")
    run_id = http(url + "/api/runs", settings)["id"]
    while lab.store.get_run(run_id)["status"] in ("queued", "running"):
        time.sleep(0.5)
    page.wait_for_function(f"() => Number(document.querySelector('#batch-chart').dataset.points) >= {total}",
                           polling=100, timeout=60_000)
    profile = cdp.send("Profiler.stop")["profile"]
    context.close()
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


# -- main ----------------------------------------------------------------------------------------------
# -- 4. the watching browser's cost, paired within one run ---------------------------------------------
def step_timeline(url: str, run_id: int, timeline: list) -> None:
    """Append (arrival time, batch events so far) for every frame of the run."""
    def on_batch(seqs: list[int]) -> None:
        timeline.append((time.monotonic(), (timeline[-1][1] if timeline else 0) + len(seqs)))

    follow_run(url, run_id, on_batch)


def steps_at(timeline: list, t: float) -> float:
    """Batch events received by time t, interpolated between frames."""
    before = (timeline[0][0], 0)
    for when, count in timeline:
        if when >= t:
            span = when - before[0]
            return before[1] + (count - before[1]) * ((t - before[0]) / span if span > 0 else 1.0)
        before = (when, count)
    return float(before[1])


def bench_paired(args, browser: Browser, tmp: Path) -> list[str]:
    """One long served run watched by a dashboard page whose charts alternately draw and do not
    (Plotly.react and .animate swapped for no-ops: the page still receives and handles every frame), in
    windows of --window s. Adjacent windows are paired, so a machine whose speed drifts over
    seconds to minutes (this one: ±25 %) hits both sides alike; the ratio of their training rates
    is what drawing costs the run, which part 1 can only see through the spread of whole runs.
    (Freezing the page through CDP would leave out its frame handling too, but headless chromium
    does not freeze a visible page.)"""
    server = ServeProcess(tmp / "paired.sqlite", tmp / "paired.log", executor=args.executor)
    try:
        context, page = open_dashboard(browser, server.url)
        page.wait_for_function("() => Number(document.querySelector('#batch-chart').dataset.draws || 0) >= 1")
        wait_quiet(server.proc.pid)
        settings = {**SEED_RUN, "epochs": args.paired_epochs}
        run = http(server.url + "/api/runs", settings)
        timeline: list = []
        viewer = threading.Thread(target=step_timeline, args=(server.url, run["id"], timeline), daemon=True)
        viewer.start()
        while not timeline or timeline[-1][1] < BATCHES_PER_EPOCH:  # the first epoch is start-up
            time.sleep(0.01)
        windows = []  # (state, start, end, renderer CPU-s)
        state = "live"
        while viewer.is_alive():
            page.evaluate(RESUME_DRAWS if state == "live" else PAUSE_DRAWS)
            before, start = chromium_cpu(), time.monotonic()
            time.sleep(args.window)
            after, end = chromium_cpu(), time.monotonic()
            cpu = sum(c - before.get(pid, (kind, 0.0))[1] for pid, (kind, c) in after.items())
            windows.append((state, start, end, cpu))
            state = "frozen" if state == "live" else "live"
        page.evaluate(RESUME_DRAWS)
        finished = wait_finished(server.url, run["id"])
        context.close()
    finally:
        server.stop()
    rates = [(state, (steps_at(timeline, b) - steps_at(timeline, a)) / (b - a), cpu / (b - a))
             for state, a, b, cpu in windows if b <= timeline[-1][0] - 0.2]  # the run's tail is not a full window
    pairs = [(rates[i], rates[i + 1]) for i in range(0, len(rates) - 1, 2)]
    slowdowns = [frozen[1] / live[1] for live, frozen in pairs if live[0] == "live" and live[1] > 0]
    live_cpu = [r[2] for r in rates if r[0] == "live"]
    frozen_cpu = [r[2] for r in rates if r[0] == "frozen"]
    live_rate = [r[1] for r in rates if r[0] == "live"]
    frozen_rate = [r[1] for r in rates if r[0] == "frozen"]
    if not slowdowns:
        return ["4. Paired: the run ended before a pair of windows was complete; use more --paired-epochs"]
    return [
        f"4. The watching page's cost on training, paired within one run: synthetic seed-size run, {args.paired_epochs} "
        f"epochs (engine {finished['result']['seconds']:.1f} s), page on / alternately drawing and not every "
        f"{args.window:g} s; {len(slowdowns)} pairs",
        f"  training rate, batches/s: page drawing median {statistics.median(live_rate):.0f}, "
        f"not drawing median {statistics.median(frozen_rate):.0f}",
        f"  time per batch, drawing / not: median of pairs {statistics.median(slowdowns):.3f}× "
        f"(p25 {pct(slowdowns, 25):.3f}, p75 {pct(slowdowns, 75):.3f}; all {fmt_list(sorted(slowdowns), '.2f')}); "
        f"whole windows {statistics.mean(frozen_rate) / statistics.mean(live_rate):.3f}×",
        f"  browser CPU (all chromium processes): drawing {statistics.median(live_cpu):.2f} cores, "
        f"not drawing {statistics.median(frozen_cpu):.2f} cores (medians of windows)",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=20, help="epochs per run in part 1 (default 20, the seed's)")
    parser.add_argument("--pairs", type=int, default=4,
                        help="rounds of CLI / no viewer / socket client / browser in part 1, order rotated (default 4)")
    parser.add_argument("--variants", type=lambda v: [x for x in VARIANTS if x in v.split(",")],
                        default=list(VARIANTS), help="part 1's variants, comma-separated, from " + ",".join(VARIANTS)
                        + " (default all; cli,watched pairs the two the target compares back to back)")
    parser.add_argument("--latency-epochs", type=int, default=20, help="epochs of the watched run in part 2 (default 20)")
    parser.add_argument("--no-profile", dest="profile", action="store_false",
                        help="skip part 2's extra watched run under Chrome's profiler")
    parser.add_argument("--loads", type=int, default=5, help="page loads in part 3 (default 5)")
    parser.add_argument("--page-epochs", type=int, default=20, help="epochs of the finished run in part 3 (default 20: 6 260 points)")
    parser.add_argument("--blas-threads", type=int, help="BLAS threads for every run (CLI, server, in-process); "
                        "default: the library's own (all cores)")
    parser.add_argument("--server-blas-threads", type=int, help="BLAS threads for the `normlab serve` process of "
                        "parts 1 and 3 only (the CLI keeps the setting above): tries serving with fewer threads")
    parser.add_argument("--quiet", type=float, default=QUIET["cores"], help="before each timed run, wait until other "
                        "processes use fewer cores than this (2 s sample; 0: do not wait; default %(default)s)")
    parser.add_argument("--quiet-wait", type=float, default=QUIET["max_wait"], help="longest wait for quiet, s (default %(default)s)")
    parser.add_argument("--executor", choices=("process", "thread"), default="process",
                        help="where the server's runs train (default process, as `normlab serve`)")
    parser.add_argument("--paired-epochs", type=int, default=60, help="epochs of part 4's run (default 60)")
    parser.add_argument("--window", type=float, default=1.0, help="part 4's live / frozen window, s (default 1)")
    parser.add_argument("--only", choices=("1", "2", "3", "4"), action="append", help="run only these parts (repeatable)")
    args = parser.parse_args()
    parts = set(args.only or ("1", "2", "3", "4"))
    QUIET.update(cores=args.quiet, max_wait=args.quiet_wait)
    import numpy  # before threadpoolctl: it limits the pools of libraries already loaded

    blas_note = "library default (all cores)"
    if args.blas_threads:
        for var in BLAS_VARS:  # children inherit these; this process limits its pools with threadpoolctl
            os.environ[var] = str(args.blas_threads)
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=args.blas_threads)
        blas_note = f"{args.blas_threads} ({'/'.join(BLAS_VARS)} and threadpoolctl)"
    if not Path(CHROMIUM).exists():
        sys.exit(f"{CHROMIUM} is missing: apt-get install -y chromium")

    started = dt.datetime.now()
    cpu_model = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                      if l.startswith("model name")), platform.processor())
    browser = Browser()
    print(f"normlab dashboard benchmark, {started:%Y-%m-%d %H:%M}; {os.cpu_count()} cores ({cpu_model}); "
          f"Python {platform.python_version()}, NumPy {numpy.__version__}, chromium {browser.version} (headless, "
          f"{' '.join(CHROMIUM_ARGS)}); BLAS threads: {blas_note}; load average at start {loadavg()}", flush=True)

    def show(lines):
        print()
        print("\n".join(lines), flush=True)

    try:
        with tempfile.TemporaryDirectory(prefix="normlab-bench-") as tmp:
            tmp = Path(tmp)
            server = None
            try:
                if "1" in parts:
                    lines, server = bench_overhead(args, browser, tmp)
                    show(lines)
                if "2" in parts:  # its own server, in this process (the one above stays idle)
                    show(bench_latency(args, browser, tmp))
                if "3" in parts:
                    server = server or ServeProcess(tmp / "serve.sqlite", tmp / "serve.log", executor=args.executor)
                    show(bench_page_load(args, browser, server))
                if "4" in parts:
                    show(bench_paired(args, browser, tmp))
            finally:
                if server is not None:
                    server.stop()
    finally:
        browser.close()
    print(f"\nload average at end {loadavg()}; took {(dt.datetime.now() - started).total_seconds() / 60:.1f} min")


if __name__ == "__main__":
    main()
