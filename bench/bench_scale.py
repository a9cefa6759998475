"""Scale benchmark: the dashboard's server with 10 000 stored runs.

Run by hand (never by CI):

    .venv/bin/python bench/bench_scale.py [--runs 10000] [--repeats 30] [--only runs_page,study_page]

It makes a database of tiny synthetic runs through the store (a few real runs trained here,
their events replayed as every stored run's: real rows, with every batch and epoch row for the
runs a page draws curves of, and studies of up to 300 runs), starts `normlab serve` on it
(bench/served.py) and times what the pages ask the server for: GET /api/runs?limit=100 (the
first answer after start, then the median of many), the list with each filter, the dashboard's
requests, a 300-run study page's and the compare page's with 12 runs; then the same three pages
in Chromium (scale_browser.py: when each is interactive after a warm load, "interactive" defined
there). Each measurement is a function of a ``Bench`` (the server and what the database holds)
returning its figures, named in MEASUREMENTS.

Targets (the issue's): GET /api/runs?limit=100 ≤ 50 ms; the dashboard interactive within 1 s of a
warm load, a 300-run study page within 1.5 s, the compare page with 12 runs within 1 s (the
server's share of each is measured too, against the same targets).
"""
from __future__ import annotations

import argparse
import http.client
import random
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np

import scale_browser
from served import ROOT, ServeProcess

sys.path.insert(0, str(ROOT))

from app.store import NewRun, NewStudy, Store  # noqa: E402
from engine import RunConfig, train  # noqa: E402
from engine.data import synthetic_dataset  # noqa: E402
from engine.events import DoneEvent, Event  # noqa: E402
from engine.studies import StudySpec, log_range  # noqa: E402

TINY = {"dataset": "synthetic", "train_size": 300, "batch_size": 50, "epochs": 2, "hidden": 8}
RUNS_PAGE_TARGET = 0.050  # s, GET /api/runs?limit=100
DASHBOARD_TARGET = 1.0  # s, the dashboard's requests
STUDY_TARGET = 1.5  # s, a 300-run study page's requests
COMPARE_TARGET = 1.0  # s, the compare page's requests with 12 runs
BROWSER_CONNECTIONS = 6  # a browser's connections per host (HTTP/1.1)
DATASETS = ("mnist", "mnist", "mnist", "fashion-mnist", "synthetic")
LABEL_WORDS = ("baseline", "Größe", "λ probe", "wide", "try", "again", "sparse", "dense", "seed check", "50% lr")


# -- the database -----------------------------------------------------------------------------------

@dataclass
class Replays:
    """Events of real tiny runs, replayed as stored runs' events: completed ones, a diverged one and a cancelled one."""

    completed: list[list[Event]]
    failed: list[Event]
    cancelled: list[Event]


def train_replays() -> Replays:
    data = synthetic_dataset()

    def events(**settings) -> list[Event]:
        got: list[Event] = []
        stop = settings.pop("stop_after", None)
        final = train(RunConfig.from_dict({**TINY, **settings}), data, got.append,
                      (lambda: len(got) >= stop) if stop else None)
        return got if got[-1] is final else [*got, final]

    completed = [events(penalty=p, lam=lam, seed=s) for p, lam in (("none", 0), ("l1", 1e-3), ("l2", 1e-2))
                 for s in range(2)]
    return Replays(completed, events(lr=1000.0, activation="relu"), events(stop_after=5))


@dataclass
class Fixture:
    """What the database holds that the measurements need."""

    runs: int = 0
    studies: list[tuple[int, int]] = field(default_factory=list)  # (study id, its runs), largest first
    compare: list[int] = field(default_factory=list)  # 12 runs with every batch and epoch row
    seconds: float = 0.0


def settings_for(rng: random.Random, penalty: str, lam: float, seed: int, base: dict) -> dict:
    return RunConfig.from_dict({**base, "penalty": penalty, "lam": lam if penalty != "none" else 0.0,
                                "lam_l2": lam if penalty == "elastic" else 0.0, "seed": seed}).to_dict()


def random_base(rng: random.Random) -> dict:
    return {**TINY, "dataset": rng.choice(DATASETS), "hidden": rng.choice((8, 16, 32)),
            "epochs": rng.choice((2, 3)), "lr": rng.choice((0.1, 0.05))}


def summary_only(events: list[Event], rng: random.Random) -> list[Event]:
    """A run's start and final events, its accuracy jittered so that runs differ; no weight images
    (10 000 of them would make the file gigabytes; the runs pages show images of are stored whole)."""
    start, final = events[0], events[-1]
    if isinstance(final, DoneEvent):
        final = replace(final, test_accuracy=rng.uniform(0.80, 0.99),
                        first_layer=np.empty((0, 28, 28), np.float32))
    return [start, final]


def record(store: Store, run_id: int, events: list[Event]) -> None:
    final = events[-1]
    status = {"done": "completed", "failed": "failed", "cancelled": "cancelled"}[final.kind]
    store.record(run_id, events, final_status=status, reason=getattr(final, "reason", None))


def fill(db: Path, total: int, seed: int = 0) -> Fixture:
    """``total`` runs: studies (one of 300 runs, the rest of 210) holding two thirds of them, the
    others launched on their own, mostly completed, some failed or cancelled."""
    started = time.monotonic()
    rng = random.Random(seed)
    replays = train_replays()
    store = Store(db)
    store.initialize()
    fixture = Fixture()
    big = StudySpec(("none", "l1", "l2"), (), 10, RunConfig.from_dict(TINY),
                    {"l1": log_range(1e-5, 1e-1, 14), "l2": log_range(1e-5, 1e-1, 15)})
    study_runs = 0
    while study_runs + 300 <= total * 2 // 3:
        spec = big if not fixture.studies else StudySpec(
            ("none", "l1", "l2"), log_range(1e-5, 1e-1, 10), 10, RunConfig.from_dict(random_base(rng)))
        configs = spec.configs()
        runs = [NewRun(c.to_dict(), f"{c.describe_penalty()} · seed {c.seed}") for c in configs]
        study_id, ids = store.queue_runs(runs, 10**9, NewStudy(f"sweep {len(fixture.studies) + 1}",
                                                               {"settings": spec.base.to_dict()}))
        for run_id in ids:
            record(store, run_id, summary_only(rng.choice(replays.completed), rng))
        fixture.studies.append((study_id, len(ids)))
        study_runs += len(ids)
    singles = []
    for _ in range(total - study_runs):
        penalty = rng.choice(("none", "l1", "l2", "elastic"))
        settings = settings_for(rng, penalty, rng.choice((1e-4, 1e-3, 1e-2)), rng.randrange(5), random_base(rng))
        singles.append(NewRun(settings, f"{rng.choice(LABEL_WORDS)} {rng.randrange(1000)}"))
    _, ids = store.queue_runs(singles, 10**9)
    for i, run_id in enumerate(ids):
        if i >= len(ids) - 12:  # the newest twelve: stored whole, for the compare page
            record(store, run_id, rng.choice(replays.completed))
            fixture.compare.append(run_id)
        else:
            kind = rng.random()
            events = (replays.failed if kind < 0.05 else replays.cancelled if kind < 0.08
                      else rng.choice(replays.completed))
            record(store, run_id, summary_only(events, rng))
    store.close()
    fixture.runs = study_runs + len(ids)
    fixture.seconds = time.monotonic() - started
    return fixture


# -- timing -----------------------------------------------------------------------------------------

class Client:
    """GET requests on one kept-alive connection, as a browser sends them."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def get(self, path: str) -> tuple[float, int]:
        """Seconds until the whole answer was read, and its size; an error unless it is 200."""
        started = time.perf_counter()
        self.conn.request("GET", path, headers={"Accept": "application/json, text/html"})
        response = self.conn.getresponse()
        body = response.read()
        seconds = time.perf_counter() - started
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status} {body[:200]!r}")
        return seconds, len(body)

    def close(self) -> None:
        self.conn.close()


def in_parallel(port: int, paths: list[str], connections: int = BROWSER_CONNECTIONS) -> float:
    """Wall seconds to get every path over ``connections`` kept-alive connections, as a browser would."""
    local = threading.local()
    clients: list[Client] = []
    lock = threading.Lock()

    def fetch(path: str) -> None:
        if not hasattr(local, "client"):
            local.client = Client(port)
            with lock:
                clients.append(local.client)
        local.client.get(path)

    started = time.perf_counter()
    with ThreadPoolExecutor(connections) as pool:
        list(pool.map(fetch, paths))
    seconds = time.perf_counter() - started
    for client in clients:
        client.close()
    return seconds


@dataclass
class Figure:
    name: str
    seconds: float
    target: float | None = None
    note: str = ""

    def line(self) -> str:
        verdict = "" if self.target is None else ("PASS" if self.seconds <= self.target else "MISS")
        target = "" if self.target is None else f"target ≤ {self.target * 1000:5.0f} ms"
        return f"  {self.name:<64} {self.seconds * 1000:8.1f} ms  {target:<18} {verdict:<4}  {self.note}"


@dataclass
class Bench:
    """The server under test and the database behind it."""

    server: ServeProcess
    fixture: Fixture
    repeats: int

    @property
    def port(self) -> int:
        return self.server.port

    def median(self, path: str, repeats: int | None = None) -> tuple[float, int]:
        client = Client(self.port)
        try:
            samples = [client.get(path) for _ in range(repeats or self.repeats)]
        finally:
            client.close()
        return statistics.median(s for s, _ in samples), samples[-1][1]


def measure_runs_page(bench: Bench) -> list[Figure]:
    """GET /api/runs?limit=100: the first answer after the server started, then warm."""
    client = Client(bench.port)
    cold, size = client.get("/api/runs?limit=100")
    client.close()
    warm, _ = bench.median("/api/runs?limit=100")
    folded, _ = bench.median("/api/runs?fold=studies&limit=100")
    last_page = f"/api/runs?limit=100&before={bench.fixture.runs // 50}"
    deep, _ = bench.median(last_page)
    return [Figure("GET /api/runs?limit=100, first after start", cold, RUNS_PAGE_TARGET, f"{size / 1024:.0f} KB"),
            Figure("GET /api/runs?limit=100, warm (median)", warm, RUNS_PAGE_TARGET),
            Figure("GET /api/runs?fold=studies&limit=100 (median)", folded, RUNS_PAGE_TARGET),
            Figure(f"GET {last_page} (median)", deep, RUNS_PAGE_TARGET)]


def measure_filters(bench: Bench) -> list[Figure]:
    """The list with each filter, and a few together (median each)."""
    study = bench.fixture.studies[0][0]
    queries = (f"study={study}", "study=none", "dataset=fashion-mnist", "status=failed,cancelled", "penalty=elastic",
               "q=gr%C3%B6sse", "q=no-such-label", "dataset=mnist&penalty=l2&status=completed&study=none",
               "fold=studies&dataset=synthetic&q=seed")
    return [Figure(f"GET /api/runs?limit=100&{q}", bench.median(f"/api/runs?limit=100&{q}")[0], RUNS_PAGE_TARGET)
            for q in queries]


def measure_dashboard(bench: Bench) -> list[Figure]:
    """The dashboard's requests: its HTML, then its first page of runs (folded), the live runs, the
    studies (for the study filter) and the server's status side by side."""
    html, _ = bench.median("/", 10)
    calls = ["/api/runs?limit=50&fold=studies", "/api/runs?status=running&limit=50",
             "/api/runs?status=queued&study=none&limit=50", "/api/studies", "/api/status"]
    wall = statistics.median(_timed(lambda: (Client(bench.port).get("/"), in_parallel(bench.port, calls)))
                             for _ in range(10))
    everything, size = bench.median("/api/runs", 3)
    return [Figure("GET / (HTML, median)", html),
            Figure("dashboard: HTML, then its API calls (median)", wall, DASHBOARD_TARGET),
            Figure("GET /api/runs, every run (what the page asked before)", everything, None,
                   f"{size / 1e6:.1f} MB; scripts only now")]


def measure_study_page(bench: Bench) -> list[Figure]:
    """The largest study's page: its HTML, then GET /api/studies/<id> (the page's one call)."""
    study, runs = bench.fixture.studies[0]
    api, size = bench.median(f"/api/studies/{study}", 10)
    wall = statistics.median(_timed(lambda: (Client(bench.port).get(f"/studies/{study}"),
                                             Client(bench.port).get(f"/api/studies/{study}"))) for _ in range(5))
    return [Figure(f"GET /api/studies/{study} ({runs} runs, median)", api, None, f"{size / 1024:.0f} KB"),
            Figure(f"study page ({runs} runs): HTML, then its API call", wall, STUDY_TARGET)]


def measure_compare_page(bench: Bench) -> list[Figure]:
    """The compare page with 12 runs: its HTML, then each run's weights and metrics over 6 connections."""
    ids = bench.fixture.compare
    paths = [p for i in ids for p in (f"/api/runs/{i}/weights", f"/api/runs/{i}/metrics?after=-1")]
    page = f"/compare?runs={','.join(map(str, ids))}"
    wall = statistics.median(_timed(lambda: (Client(bench.port).get(page), in_parallel(bench.port, paths)))
                             for _ in range(5))
    return [Figure(f"compare page ({len(ids)} runs): HTML, then {len(paths)} API calls", wall, COMPARE_TARGET)]


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


MEASUREMENTS: dict[str, Callable[[Bench], list[Figure]]] = {
    "runs_page": measure_runs_page, "filters": measure_filters, "dashboard": measure_dashboard,
    "study_page": measure_study_page, "compare_page": measure_compare_page,
    **scale_browser.measurements({"dashboard": DASHBOARD_TARGET, "study": STUDY_TARGET, "compare": COMPARE_TARGET}, Figure),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10_000, help="runs in the database (default 10 000)")
    parser.add_argument("--repeats", type=int, default=30, help="samples per median (default 30)")
    parser.add_argument("--only", default=",".join(MEASUREMENTS),
                        help=f"comma-separated, from {', '.join(MEASUREMENTS)}")
    args = parser.parse_args()
    wanted = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in MEASUREMENTS]
    if unknown:
        parser.error(f"--only: unknown {', '.join(unknown)}; choose from {', '.join(MEASUREMENTS)}")
    with tempfile.TemporaryDirectory(prefix="normlab-scale-") as tmp:
        db = Path(tmp) / "scale.sqlite"
        fixture = fill(db, args.runs)
        print(f"database: {fixture.runs} runs, {len(fixture.studies)} studies (largest {fixture.studies[0][1]} runs), "
              f"{db.stat().st_size / 1e6:.0f} MB, made in {fixture.seconds:.1f} s")
        server = ServeProcess(db, Path(tmp) / "serve.log")
        try:
            bench = Bench(server, fixture, args.repeats)
            for name in wanted:
                print(f"{name}:")
                for figure in MEASUREMENTS[name](bench):
                    print(figure.line(), flush=True)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
