"""A study as the server shows it: its runs' views, how far it is, and what its finished runs say.

The study page formats this and works out nothing of its own: the counts, the overall progress,
each setting's runs, the best setting (with and without the baseline) and the pair of runs that
shows the best setting's weights beside no penalty's all come from here.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from engine.events import to_jsonable
from engine.penalties import PENALTY_NAMES
from engine.studies import Verdict, aggregate, best_setting, run_metrics

from .run_view import iso, run_view

if TYPE_CHECKING:
    from .hub import StreamHub


def study_view(study: dict[str, Any], runs: list[dict[str, Any]], hub: StreamHub) -> dict[str, Any]:
    """A study with its runs, per-setting aggregates over seeds, the best setting and its progress."""
    now = time.time()
    views = [run_view(r, hub, now) for r in runs]
    metrics = [run_metrics(r["settings"], r["final_event"]) for r in runs]
    summaries = aggregate([m for m in metrics if "test_accuracy" in m])
    verdict = best_setting(summaries)
    penalized = best_setting(summaries, exclude_baseline=True)
    return {
        "id": study["id"], "name": study["name"], "created": iso(study["created"]), "spec": study["spec"],
        "counts": status_counts(views), "progress": study_progress(views),
        "runs": [v | {"metrics": m} for v, m in zip(views, metrics)],
        "settings": to_jsonable(summaries), "planned": planned_settings(views),
        "best": to_jsonable(verdict), "best_penalized": to_jsonable(penalized),
        "verdict": verdict.sentence() if verdict else None,
        "pair": compare_pair(penalized if verdict and verdict.penalty == "none" else verdict, views),
    }


def status_counts(views: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for v in views:
        counts[v["status"]] = counts.get(v["status"], 0) + 1
    return counts


def study_progress(views: list[dict[str, Any]]) -> dict[str, Any]:
    """How many runs the study has, how many have ended, and the fraction of its work done
    (an ended run counts whole, a running one by its own fraction)."""
    finished = sum(not v["live"] for v in views)
    done = finished + sum(v["progress"]["fraction"] for v in views if v["live"])
    return {"runs": len(views), "finished": finished, "fraction": round(done / len(views), 4) if views else 0.0}


def _setting(settings: dict[str, Any]) -> tuple[str, float]:
    return settings["penalty"], 0.0 if settings["penalty"] == "none" else float(settings["lam"])


def planned_settings(views: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every setting the study's runs cover, in display order: how many runs it has, how many still live."""
    planned: dict[tuple[str, float], dict[str, Any]] = {}
    for v in views:
        penalty, lam = _setting(v["settings"])
        entry = planned.setdefault((penalty, lam), {"penalty": penalty, "lam": lam, "runs": 0, "live": 0})
        entry["runs"] += 1
        entry["live"] += v["live"]
    return [planned[k] for k in sorted(planned, key=lambda k: (PENALTY_NAMES.index(k[0]), k[1]))]


def compare_pair(target: Verdict | None, views: list[dict[str, Any]]) -> dict[str, Any] | None:
    """A completed run of the ``target`` setting and the completed no-penalty run of the same seed
    (same initial weights and batches), to compare their weights; None when there is no such pair."""
    if target is None or target.penalty == "none":
        return None
    completed = [v for v in views if v["status"] == "completed"]
    baselines: dict[int, dict[str, Any]] = {}
    for v in completed:
        if v["settings"]["penalty"] == "none":
            baselines.setdefault(v["settings"]["seed"], v)
    for v in completed:
        seed = v["settings"]["seed"]
        if _setting(v["settings"]) == (target.penalty, target.lam) and seed in baselines:
            return {"baseline": baselines[seed]["id"], "run": v["id"], "seed": seed, "penalty": target.penalty,
                    "lam": target.lam}
    return None
