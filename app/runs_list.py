"""GET /api/runs's page (docs/api.md, "Listing runs"): run views newest first with their ★, how many
match, where the next page starts and, folded, the studies in place of their runs.

A folded study is listed on the page that holds its newest run's place among the page's runs
(ids between the page's last run and the one before the page), so each study shows once
across pages, where its newest run would have been.
"""
from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from .comparable import best_among
from .run_view import LIVE, iso, run_view
from .runs_query import RunsQuery

if TYPE_CHECKING:
    from .hub import StreamHub
    from .store import Store


def runs_page(store: Store, hub: StreamHub, query: RunsQuery) -> dict[str, Any]:
    """``{"runs", "total", "limit", "next_before"}``, and with ``fold`` also ``{"studies", "total_studies"}``."""
    where = replace(query.filter, no_study=True) if query.fold else query.filter
    rows, total = store.find_runs(where, query.before, query.limit + 1)
    more = len(rows) > query.limit
    rows = rows[:query.limit]
    next_before = rows[-1]["id"] if more else None
    now = time.time()
    best = store.best_runs(rows)
    page: dict[str, Any] = {"runs": [starred(run_view(r, hub, now), r, best) for r in rows],
                            "total": total, "limit": query.limit, "next_before": next_before}
    if query.fold:
        upto = None if query.before is None else query.before - 1
        studies, total = store.fold_studies(query.filter, next_before, upto)
        page["studies"] = [folded_study(s, hub, now) for s in studies]
        page["total_studies"] = total
    return page


def starred(view: dict[str, Any], row: dict[str, Any], best: set[int]) -> dict[str, Any]:
    """The view with ``best`` (the ★) and, when set, ``best_among``: which runs it is the best of."""
    view["best"] = row["id"] in best
    if view["best"]:
        view["best_among"] = best_among(row["settings"])
    return view


def folded_study(entry: dict[str, Any], hub: StreamHub, now: float) -> dict[str, Any]:
    """One study as a row of the runs list: what it is, how far it is, its best run so far."""
    study, counts = entry["study"], entry["counts"]
    runs = sum(counts.values())
    finished = sum(n for status, n in counts.items() if status not in LIVE)
    # as the study view counts it: an ended run whole, a running one by its fraction, a queued one not at all
    done = finished + sum(run_view(r, hub, now)["progress"]["fraction"] for r in entry["running"])
    best = entry["best"]
    return {
        "id": study["id"], "name": study["name"], "created": iso(study["created"]),
        "dataset": study["spec"].get("settings", {}).get("dataset"),
        "runs": runs, "matching": entry["matching"], "counts": counts, "newest_run": entry["newest_run"],
        "progress": {"runs": runs, "finished": finished, "fraction": round(done / runs, 4) if runs else 0.0},
        "best": None if best is None else {k: best[k] for k in ("id", "label", "penalty", "lam", "test_accuracy")},
    }
