"""Dashboard benchmark: the dashboard's performance targets, measured side by side.

Run by hand (never by CI), with Debian's chromium and the Python Playwright package:

    .venv/bin/python bench/bench_dashboard.py [--epochs 20] [--pairs 4] [--loads 5] [--only 1 --only 3]
    .venv/bin/python bench/bench_dashboard.py --only 4 --paired-epochs 200

1. Overhead of watching (dashboard_overhead.py): a seed-sized run from the CLI against the same
   run served with no viewer, one socket client, a page drawing nothing, a Playwright page and a
   chromium with no automation client, rounds in rotating order. Target: watched ≤ 1.1 × CLI
   (median of per-round ratios, with its 90 % bootstrap interval).
2. Latency (dashboard_latency.py): batch event published → its point drawn in the live chart.
   Targets: p95 ≤ 250 ms, ≤ 20 frames/s per client.
3. Finished run page (dashboard_page_load.py): time until `/runs/<id>` of a 20-epoch run is
   interactive, cold and warm cache. Target: ≤ 1 000 ms.
4. The cost of drawing, paired within one run (dashboard_paired.py): training rate while the
   page draws against while it does not, in alternating windows.

The server's runs train where `normlab serve` trains them by default, in a child process of the
server (`--executor process`); `--executor thread` measures the in-process executor instead. Each
timed run waits for a quiet machine first (--quiet, --quiet-wait) and is marked NOISY when other
processes used more than half a core during it.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import procfs  # noqa: E402
from dashboard_browser import CHROMIUM, CHROMIUM_ARGS, Browser  # noqa: E402
from dashboard_cpu import QUIET  # noqa: E402
from dashboard_latency import bench_latency  # noqa: E402
from dashboard_overhead import VARIANTS, bench_overhead  # noqa: E402
from dashboard_page_load import bench_page_load  # noqa: E402
from dashboard_paired import bench_paired  # noqa: E402
from served import BLAS_VARS, ServeProcess  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=20, help="epochs per run in part 1 (default 20, the reference study's)")
    parser.add_argument("--pairs", type=int, default=4,
                        help="rounds of CLI / no viewer / socket client / browser in part 1, order rotated (default 4)")
    parser.add_argument("--variants", type=lambda v: [x for x in VARIANTS if x in v.split(",")],
                        default=list(VARIANTS), help="part 1's variants, comma-separated, from " + ",".join(VARIANTS)
                        + " (default all; cli,plain pairs the two the target compares back to back)")
    parser.add_argument("--latency-epochs", type=int, default=20, help="epochs of the watched run in part 2 (default 20)")
    parser.add_argument("--no-profile", dest="profile", action="store_false",
                        help="skip part 2's extra watched run under Chrome's profiler")
    parser.add_argument("--loads", type=int, default=5, help="page loads in part 3 (default 5)")
    parser.add_argument("--page-epochs", type=int, default=20, help="epochs of the finished run in part 3 (default 20: 6 260 points)")
    parser.add_argument("--blas-threads", type=int, help="BLAS threads for every run (CLI, server, in-process); "
                        "default: the library's own (all cores)")
    parser.add_argument("--server-blas-threads", type=int, help="BLAS threads for the `normlab serve` process of "
                        "parts 1 and 3 only (the CLI keeps the setting above): tries serving with fewer threads")
    parser.add_argument("--serve-flags", default="", help="more flags for `normlab serve` in parts 1 and 3, e.g. "
                        "'--workers 1' (a run on one core, one thread, the server's threads on the others)")
    parser.add_argument("--quiet", type=float, default=QUIET["cores"], help="before each timed run, wait until other "
                        "processes use fewer cores than this (2 s sample; 0: do not wait; default %(default)s)")
    parser.add_argument("--quiet-wait", type=float, default=QUIET["max_wait"], help="longest wait for quiet, s (default %(default)s)")
    parser.add_argument("--executor", choices=("process", "thread"), default="process",
                        help="where the server's runs train (default process, as `normlab serve`)")
    parser.add_argument("--paired-epochs", type=int, default=60, help="epochs of part 4's run (default 60)")
    parser.add_argument("--window", type=float, default=1.0, help="part 4's live / frozen window, s (default 1)")
    parser.add_argument("--only", choices=("1", "2", "3", "4"), action="append", help="run only these parts (repeatable)")
    return parser.parse_args(argv)


def limit_blas(threads: int | None) -> str:
    """Limit BLAS threads here and in every child process; a note on the setting."""
    if not threads:
        return "library default (all cores)"
    for var in BLAS_VARS:  # children inherit these; this process limits its pools with threadpoolctl
        os.environ[var] = str(threads)
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads)
    return f"{threads} ({'/'.join(BLAS_VARS)} and threadpoolctl)"


def run_parts(args, parts: set[str], browser: Browser, tmp: Path) -> None:
    """The chosen parts in order, each one's lines printed as it ends; part 3 reuses part 1's server."""
    def show(lines: list[str]) -> None:
        print()
        print("\n".join(lines), flush=True)

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


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    parts = set(args.only or ("1", "2", "3", "4"))
    QUIET.update(cores=args.quiet, max_wait=args.quiet_wait)
    import numpy  # before threadpoolctl: it limits the pools of libraries already loaded

    blas_note = limit_blas(args.blas_threads)
    if not Path(CHROMIUM).exists():
        sys.exit(f"{CHROMIUM} is missing: apt-get install -y chromium")
    started = dt.datetime.now()
    browser = Browser()
    print(f"normlab dashboard benchmark, {started:%Y-%m-%d %H:%M}; {os.cpu_count()} cores ({procfs.cpu_model()}); "
          f"Python {platform.python_version()}, NumPy {numpy.__version__}, chromium {browser.version} (headless, "
          f"{' '.join(CHROMIUM_ARGS)}); BLAS threads: {blas_note}; load average at start {procfs.loadavg()}", flush=True)
    try:
        with tempfile.TemporaryDirectory(prefix="normlab-bench-") as tmp:
            run_parts(args, parts, browser, Path(tmp))
    finally:
        browser.close()
    print(f"\nload average at end {procfs.loadavg()}; took {(dt.datetime.now() - started).total_seconds() / 60:.1f} min")


if __name__ == "__main__":
    main()
