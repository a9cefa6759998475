"""Where the CPU went during a timed window (server, its run processes, browser, this bench, everything
else), waiting for a quiet machine before one, and progress lines stamped with the machine's load.

The dashboard benches share two cores with whatever else runs on the machine; these make that
competition visible beside each figure rather than guessed.
"""
from __future__ import annotations

import os
import resource
import sys
import time

import procfs

NOISY_CORES = 0.5  # a run during which other processes used more than this is marked NOISY
QUIET = {"cores": 0.3, "max_wait": 300.0}  # set from the command line


def log(message: str) -> None:
    """A progress line on stderr, with the time and load average to match slow rounds to load."""
    print(f"[{time.strftime('%H:%M:%S')} load {procfs.loadavg()}] {message}", file=sys.stderr, flush=True)


def chromium_cpu() -> dict[int, tuple[str, float]]:
    """pid → (process type, CPU seconds) of this process's chromium descendants (browser, renderer, gpu...)."""
    out: dict[int, tuple[str, float]] = {}
    for pid in procfs.descendants(os.getpid()):
        words = procfs.command_line(pid)
        if not words or b"chromium" not in words[0]:
            continue
        kind = next((w.split(b"=", 1)[1].decode() for w in words if w.startswith(b"--type=")), "browser")
        out[pid] = (kind, procfs.cpu_seconds(pid))
    return out


def browser_cpu_since(before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]) -> dict[str, float]:
    """CPU seconds per chromium process type between two ``chromium_cpu`` readings (processes that
    ended meanwhile are not counted)."""
    used: dict[str, float] = {}
    for pid, (kind, cpu) in after.items():
        used[kind] = used.get(kind, 0.0) + cpu - before.get(pid, (kind, 0.0))[1]
    return used


class CpuMeter:
    """CPU used during a window: server process, its run processes, browser, this bench (+ waited
    children, e.g. CLI runs), Playwright's driver, and the rest of the machine."""

    def __init__(self, server_pid: int | None = None, runs_of: int | None = None):
        self.server_pid = server_pid
        self.runs_of = runs_of or server_pid  # whose Python child processes are the run processes

    def snapshot(self) -> dict:
        own = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        busy, steal = procfs.machine_cpu()
        runs = procfs.python_descendants(self.runs_of) if self.runs_of else []
        return {"wall": time.monotonic(), "busy": busy, "steal": steal,
                "bench": own.ru_utime + own.ru_stime, "cli": kids.ru_utime + kids.ru_stime,
                "server": procfs.cpu_seconds(self.server_pid) if self.server_pid else 0.0,
                "runs": sum(procfs.cpu_seconds(p) for p in runs),
                "runs_waited": sum(procfs.waited_for_cpu(p) for p in runs),
                "browser": chromium_cpu(),
                "driver": sum(procfs.cpu_seconds(p) for p in procfs.descendants(os.getpid())
                              if procfs.command_name(p) == "node")}

    def __enter__(self):
        self.before = self.snapshot()
        return self

    def stop(self) -> dict:
        a, b = self.before, self.snapshot()
        d = {k: b[k] - a[k] for k in ("wall", "busy", "steal", "bench", "cli", "server", "runs", "runs_waited", "driver")}
        d["browser_by_type"] = browser_cpu_since(a["browser"], b["browser"])
        d["browser"] = sum(d["browser_by_type"].values())
        d["others"] = max(0.0, d["busy"] - d["bench"] - d["cli"] - d["server"] - d["runs"] - d["browser"] - d["driver"])
        self.result = d
        return d

    def __exit__(self, *exc):
        self.stop()


def browser_by_type(c: dict) -> str:
    return ", ".join(f"{k} {v:.1f}" for k, v in sorted(c["browser_by_type"].items(), key=lambda kv: -kv[1]) if v >= 0.05)


def cpu_line(c: dict) -> str:
    w, by = c["wall"], browser_by_type(c)
    parts = [f"wall {w:5.1f} s", f"server {c['server']:5.1f}",
             f"its run processes {c['runs']:5.1f} (waited {c['runs_waited']:.2f} s for a CPU)",
             f"cli {c['cli']:5.1f}", f"bench {c['bench']:4.1f}",
             f"browser {c['browser']:5.1f}" + (f" ({by})" if by else ""),
             f"others {c['others']:5.1f} (= {c['others'] / w:.2f} cores)", f"steal {c['steal']:.1f}"]
    return "cpu-s: " + " · ".join(parts)


def noisy(c: dict) -> str:
    return "  NOISY" if c["others"] / c["wall"] > NOISY_CORES else ""


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
