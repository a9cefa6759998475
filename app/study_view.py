"""A study as the server shows it: its runs' views, how far it is, and what its finished runs say.

The study page formats this and works out nothing of its own: the counts, the overall progress,
each setting's runs, the best setting (with and without the baseline) and the pair of runs that
shows the best setting's weights beside no penalty's all come from here; so do the paired
comparisons with no penalty (``app.comparison_view``) and the regularisation path.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Mapping

from engine.events import to_jsonable
from engine.penalties import PENALTY_NAMES
from engine.studies import Spread, Verdict, aggregate, best_setting, regularisation_path, run_metrics

from .recipe_view import primary_arm, recipe_section
from .comparison_view import DEFAULT_EFFECT, against_baseline, comparison_json, power_analysis
from .run_view import iso, run_view

if TYPE_CHECKING:
    from .hub import StreamHub


def study_view(study: dict[str, Any], runs: list[dict[str, Any]], hub: StreamHub,
               unit_norms: Mapping[int, list[float]] | None = None, effect: float = DEFAULT_EFFECT,
               insight: Mapping[int, dict[str, Any]] | None = None) -> dict[str, Any]:
    """A study with its runs, per-setting aggregates over seeds, the best setting and its progress.

    ``unit_norms`` (run id → sorted unit norms, ``Store.study_unit_norms``) gives the
    regularisation path; ``effect`` the difference in test accuracy each comparison's
    ``seeds_needed`` is for. A study a recipe made also has ``recipe`` (``app.recipe_view``:
    its verdicts, from the runs' final events with ``insight``, run id → parts of it); the
    aggregates then cover the recipe's first arm, the one its charts show.
    """
    now = time.time()
    views = [run_view(r, hub, now) for r in runs]
    metrics = [run_metrics(r["settings"], r["final_event"]) for r in runs]
    shown = primary_arm(study["spec"], runs)
    finished = [m for m, r in zip(metrics, runs) if "test_accuracy" in m and r["id"] in shown]
    summaries = aggregate(finished)
    comparisons = against_baseline(finished)
    verdict = best_setting(summaries, comparisons=comparisons)
    penalized = best_setting(summaries, exclude_baseline=True, comparisons=comparisons)
    arm_runs = [r for r in runs if r["id"] in shown]
    arm_views = [v for v in views if v["id"] in shown]
    return {
        "id": study["id"], "name": study["name"], "created": iso(study["created"]), "spec": study["spec"],
        "counts": status_counts(views), "progress": study_progress(views),
        "runs": [v | {"metrics": m} for v, m in zip(views, metrics)],
        "settings": with_fine_tuned(to_jsonable(summaries), arm_runs), "planned": planned_settings(arm_views),
        "best": to_jsonable(verdict), "best_penalized": to_jsonable(penalized),
        "verdict": verdict.sentence() if verdict else None,
        "verdict_penalized": penalized.sentence() if penalized else None,
        "pair": compare_pair(penalized if verdict and verdict.penalty == "none" else verdict, arm_views),
        "comparisons": [comparison_json(c, effect) for c in comparisons],
        "power_analysis": power_analysis(effect),
        "regularisation_path": path(arm_runs, unit_norms or {}),
        "recipe": recipe_section(study["spec"], [(r["settings"], (r["final_event"] or {}) | (insight or {}).get(r["id"], {}))
                                                 for r in runs]),
    }


def with_fine_tuned(settings: list[dict[str, Any]], runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each setting's metrics gain ``prunable_fraction_fine_tuned`` (a spread over its runs that have one, else None)."""
    values: dict[tuple[str, float], list[float]] = {}
    for r in runs:
        final = r["final_event"] or {}
        if final.get("event") == "done" and final.get("prunable_fraction_fine_tuned") is not None:
            values.setdefault(_setting(r["settings"]), []).append(final["prunable_fraction_fine_tuned"])
    for s in settings:
        spread = Spread.of(values.get((s["penalty"], s["lam"]), []))
        s["metrics"]["prunable_fraction_fine_tuned"] = to_jsonable(spread)
    return settings


def path(runs: list[dict[str, Any]], unit_norms: Mapping[int, list[float]]) -> list[dict[str, Any]]:
    """The regularisation path (``engine.studies.regularisation_path``) of the runs whose unit norms are given."""
    finals = [(r["settings"], (r["final_event"] or {}) | {"unit_norms": unit_norms[r["id"]]})
              for r in runs if r["id"] in unit_norms]
    return to_jsonable(regularisation_path(finals))


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


def setting_order(runs: list[dict[str, Any]]) -> list[tuple[str, float]]:
    """The (penalty, λ) settings ``runs`` (rows or views) cover, in display order."""
    return sorted({_setting(r["settings"]) for r in runs}, key=lambda k: (PENALTY_NAMES.index(k[0]), k[1]))


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
