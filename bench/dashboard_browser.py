"""The benches' chromium: Playwright's headless browser with the bench's instrumentation, and a plain
chromium with no automation client attached, as a person opens the dashboard.

Every page the benches measure opens with ``?debug=stats``: the pages keep their counters
(``window.normlabStats``, ``data-draws`` and the like) only then, and the figures were always
taken with the counters kept.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from served import free_port, http

CHROMIUM = "/usr/bin/chromium"
# As tests/browser/conftest.py launches it.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def stats_url(server_url: str, path: str = "/") -> str:
    """A page of the server with its debug counters on."""
    return f"{server_url}{path}?debug=stats"


# Instrumentation from outside the page, added to every Playwright page: Plotly.react and
# Plotly.animate (the live chart's lines-only draws) wrapped to record each draw's duration and
# the last x (step) it was given, an independent check of the page's own drawLog; long tasks from
# a PerformanceObserver; clicks. ``want``: the step whose draw means "full curve drawn".
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


# Swap the page's Plotly draws for no-ops (the page still receives and handles every frame), and back.
PAUSE_DRAWS = """() => {
  window.__draws = window.__draws || { react: Plotly.react, animate: Plotly.animate };
  Plotly.react = Plotly.animate = () => Promise.resolve();
}"""
RESUME_DRAWS = """() => { if (window.__draws) Object.assign(Plotly, window.__draws); }"""

CHART_STATE = """(() => { const c = document.querySelector('#batch-chart');
  return c ? { points: Number(c.dataset.points || 0), draws: Number(c.dataset.draws || 0),
               lines: Number(c.dataset.linesOnlyDraws || 0), renderer: c.dataset.renderer } : null; })()"""


class Browser:
    """Headless chromium driven by Playwright, launched as the browser tests launch it."""

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

    def close(self) -> None:
        self.browser.close()
        self.pw.stop()


def open_dashboard(browser: Browser, url: str):
    """(context, page) of a fresh instrumented page on the dashboard, its socket open."""
    context, page = browser.page()
    page.goto(stats_url(url))
    page.wait_for_selector("#connection[data-state=open]")
    return context, page


class PlainChromium:
    """Chromium on the dashboard as a person opens it: no automation client attached while a run trains.

    Playwright keeps a DevTools session on its pages with the network domain on, so the browser
    copies every WebSocket frame to Playwright's driver (node), which parses it: work a person's
    browser does not do, on the same two cores as the run. Here chromium only listens on a
    DevTools port, and the bench attaches for one short evaluation at a time (is the page ready?
    what did it draw?) before and after the run, never during it."""

    def __init__(self, url: str, tmp: Path):
        self.port = free_port()
        self.profile = Path(tempfile.mkdtemp(prefix="chromium-", dir=tmp))
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", *CHROMIUM_ARGS, f"--remote-debugging-port={self.port}",
             f"--user-data-dir={self.profile}", "--window-size=1280,900", stats_url(url)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def evaluate(self, expression: str):
        """The value of ``expression`` in the page, from a DevTools session opened and closed for it."""
        from simple_websocket import Client

        target = next(t for t in http(f"http://127.0.0.1:{self.port}/json/list", timeout=5) if t.get("type") == "page")
        ws = Client.connect(target["webSocketDebuggerUrl"])
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
