"""Regularization studies: penalties × λ values × seeds, and what their results add up to.

A study expands into one RunConfig per (penalty, λ, seed). Runs of one seed share the
data subset, the initial weights and the batch order (see ``training.RandomStreams``),
so within a seed λ is the only change. Aggregates are over seeds, per setting.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from .comparisons import Comparison, paired_phrase
from .config import RANGES, ConfigError, RunConfig, is_finite_number
from .formats import fmt_lambda, fmt_percent, fmt_points
from .penalties import PENALTY_NAMES

MAX_LAMBDAS = 20
MAX_SEEDS = 10
MAX_RUNS = 300
# Metrics aggregated per setting; "gap" is train accuracy (running, last epoch) minus test accuracy,
# "prunable_fraction" the global one of the run's pruning curve (engine.pruning).
METRICS = ("test_accuracy", "sparsity", "l1_norm", "l2_norm", "gap", "seconds", "active_weights", "dead_inputs",
           "prunable_fraction")


@dataclass(frozen=True)
class StudySpec:
    """What to sweep. ``none`` runs once per seed whatever the λ list; elastic net uses λ for both parts."""

    penalties: tuple[str, ...]
    lams: tuple[float, ...]
    seeds: int
    base: RunConfig = field(default_factory=RunConfig)
    # Optional λ lists for single penalties (e.g. the reference study: L2 0.01, L1 1e-4); others use ``lams``.
    lams_by_penalty: Mapping[str, tuple[float, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.penalties:
            raise ConfigError("penalties", f"choose at least one of {', '.join(PENALTY_NAMES)}")
        for p in self.penalties:
            if p not in PENALTY_NAMES:
                raise ConfigError("penalties", f"must be among {', '.join(PENALTY_NAMES)}; got {str(p)[:20]!r}")
        if len(set(self.penalties)) != len(self.penalties):
            raise ConfigError("penalties", "a penalty is listed twice")
        for p in self.penalties:
            if p != "none":
                _check_lambdas(self.lambdas_for(p))
        for p in self.lams_by_penalty:
            if p not in self.penalties:
                raise ConfigError("lams", f"λ values are given for {str(p)[:20]!r}, which is not among the penalties")
        if isinstance(self.seeds, bool) or not isinstance(self.seeds, int) or not 1 <= self.seeds <= MAX_SEEDS:
            raise ConfigError("seeds", f"must be a whole number from 1 to {MAX_SEEDS}")
        if len(self.configs()) > MAX_RUNS:
            raise ConfigError("seeds", f"this study has {len(self.configs())} runs; at most {MAX_RUNS} are allowed")

    def lambdas_for(self, penalty: str) -> tuple[float, ...]:
        return tuple(self.lams_by_penalty.get(penalty, self.lams))

    def settings(self) -> list[tuple[str, float]]:
        """The (penalty, λ) pairs, in order; 'none' once."""
        out = []
        for p in self.penalties:
            out.extend([("none", 0.0)] if p == "none" else [(p, float(lam)) for lam in sorted(set(self.lambdas_for(p)))])
        return out

    def configs(self) -> list[RunConfig]:
        """One config per setting and seed (seeds are base.seed, base.seed + 1, ...)."""
        return [
            replace(self.base, penalty=p, lam=lam, lam_l2=lam if p == "elastic" else 0.0, seed=self.base.seed + i)
            for i in range(self.seeds)
            for p, lam in self.settings()
        ]


def _check_lambdas(lams: Sequence[float]) -> None:
    if not lams:
        raise ConfigError("lams", "give at least one λ for l1, l2 or elastic")
    if len(lams) > MAX_LAMBDAS:
        raise ConfigError("lams", f"at most {MAX_LAMBDAS} values, got {len(lams)}")
    low, high = RANGES["lam"]
    for lam in lams:
        if not is_finite_number(lam) or not low < lam <= high:
            raise ConfigError("lams", f"each λ must be a number above {low:g} and at most {high:g}; got {str(lam)[:20]}")


def log_range(low: float, high: float, count: int) -> tuple[float, ...]:
    """``count`` values evenly spaced on a log scale from ``low`` to ``high``, rounded to 3 significant digits."""
    if not (isinstance(count, int) and 1 <= count <= MAX_LAMBDAS):
        raise ConfigError("count", f"must be a whole number from 1 to {MAX_LAMBDAS}")
    if not (0 < low <= high <= RANGES["lam"][1]):
        raise ConfigError("lam_range", f"needs 0 < low ≤ high ≤ {RANGES['lam'][1]:g}")
    values = np.geomspace(low, high, count)
    return tuple(float(f"{v:.3g}") for v in values)


@dataclass(frozen=True)
class Spread:
    """Mean, sample standard deviation, min and max of one metric over ``n`` seeds."""

    mean: float
    std: float
    low: float
    high: float
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> "Spread | None":
        values = [v for v in values if v is not None and math.isfinite(v)]
        if not values:
            return None
        array = np.asarray(values, dtype=float)
        std = float(array.std(ddof=1)) if len(array) > 1 else 0.0
        return cls(float(array.mean()), std, float(array.min()), float(array.max()), len(array))


@dataclass(frozen=True)
class SettingSummary:
    """One (penalty, λ) setting aggregated over its finished runs."""

    penalty: str
    lam: float
    runs: int
    metrics: dict[str, Spread | None]


def aggregate(results: Iterable[Mapping[str, Any]]) -> list[SettingSummary]:
    """Group finished runs by (penalty, lam) and summarise METRICS over seeds.

    Each result needs ``penalty``, ``lam`` and any of METRICS; missing values are skipped.
    """
    groups: dict[tuple[str, float], list[Mapping[str, Any]]] = {}
    for r in results:
        groups.setdefault((r["penalty"], float(r["lam"])), []).append(r)
    return [
        SettingSummary(penalty, lam, len(rows), {m: Spread.of([row.get(m) for row in rows]) for m in METRICS})
        for (penalty, lam), rows in sorted(groups.items(), key=lambda kv: (PENALTY_NAMES.index(kv[0][0]), kv[0][1]))
    ]


@dataclass(frozen=True)
class Verdict:
    """The best setting by mean test accuracy, against the no-penalty baseline.

    With ``comparison`` (its paired comparison with the baseline, ``engine.comparisons``)
    the sentence gives the paired interval and p-value; without, it falls back to comparing
    the difference with the seed-to-seed spread.
    """

    penalty: str
    lam: float
    accuracy: float
    baseline: float | None
    difference: float | None
    spread: float | None
    exceeds_spread: bool | None
    comparison: Comparison | None = None

    def sentence(self) -> str:
        head = (f"best: {self.penalty}" + ("" if self.penalty == "none" else f" λ={fmt_lambda(self.lam)}")
                + f", test accuracy {fmt_percent(self.accuracy)}")
        if self.difference is None or self.penalty == "none":
            return head
        if self.comparison is not None:
            return f"{head}; {paired_phrase(self.comparison)}"
        judged = "larger" if self.exceeds_spread else "not larger"
        return (f"{head}; {fmt_points(self.difference, sign=True)} against no penalty, {judged} than the "
                f"seed-to-seed spread (±{fmt_points(self.spread)})")


def best_setting(summaries: Sequence[SettingSummary], exclude_baseline: bool = False,
                 comparisons: Sequence[Comparison] = ()) -> Verdict | None:
    """The setting with the highest mean test accuracy, and how it compares with 'none'.

    Given the study's ``comparisons`` (``comparisons.compare_to_baseline`` of its runs), the
    verdict carries the best setting's paired comparison and its sentence the paired
    interval. Without them (the older reading) the difference counts as real when it is
    larger than the seed-to-seed standard deviation of either setting (with one seed there
    is no spread to compare with). With ``exclude_baseline`` the best *penalized* setting is
    chosen (still judged against 'none').
    """
    scored = [s for s in summaries if s.metrics.get("test_accuracy")]
    candidates = [s for s in scored if s.penalty != "none"] if exclude_baseline else scored
    if not candidates:
        return None
    best = max(candidates, key=lambda s: s.metrics["test_accuracy"].mean)
    acc = best.metrics["test_accuracy"]
    base = next((s.metrics["test_accuracy"] for s in scored if s.penalty == "none"), None)
    if base is None:
        return Verdict(best.penalty, best.lam, acc.mean, None, None, None, None)
    spread = max(acc.std, base.std)
    difference = acc.mean - base.mean
    exceeds = abs(difference) > spread if min(acc.n, base.n) > 1 else None
    paired = next((c for c in comparisons if (c.penalty, c.lam, c.metric) == (best.penalty, best.lam, "test_accuracy")
                   and c.baseline_penalty == "none"), None)
    return Verdict(best.penalty, best.lam, acc.mean, base.mean, difference, spread, exceeds, paired)


def run_metrics(settings: Mapping[str, Any], final: Mapping[str, Any] | None) -> dict[str, Any]:
    """One run's row for ``aggregate``: its setting and, if it finished, its METRICS.

    ``final`` is the run's final event as a dict (``event_to_dict``), or None.
    """
    row: dict[str, Any] = {"penalty": settings["penalty"], "lam": settings["lam"], "seed": settings["seed"]}
    if final and final.get("event") == "done":
        row.update({m: final.get(m) for m in METRICS if m in final})
        if isinstance(final.get("train_accuracy"), float) and isinstance(final.get("test_accuracy"), float):
            row["gap"] = final["train_accuracy"] - final["test_accuracy"]
        pruning = final.get("pruning")
        if isinstance(pruning, dict):  # runs finished before pruning curves existed have none
            row["prunable_fraction"] = pruning.get("prunable_fraction", {}).get("global")
    return row


@dataclass(frozen=True)
class PathPoint:
    """One setting on the regularisation path: its hidden units' norms, rank by rank, and its active weights.

    ``unit_norms`` (hidden,) is the mean over the setting's runs of each run's sorted
    ‖W1[:, j]‖₂ (largest first), so rank r compares the r-th strongest unit across λ.
    """

    penalty: str
    lam: float
    runs: int
    unit_norms: tuple[float, ...]
    active_weights: Spread | None


def regularisation_path(finals: Iterable[tuple[Mapping[str, Any], Mapping[str, Any] | None]]) -> list[PathPoint]:
    """The lasso-style path of a study: per (penalty, λ), mean sorted unit norms and active weights.

    ``finals`` are ``(settings, final event dict)`` pairs, as for ``run_metrics``; runs that did
    not finish, or finished before done events carried ``unit_norms``, are left out. Ordered
    as ``aggregate`` orders settings, so a page draws each penalty's points in λ order.
    """
    groups: dict[tuple[str, float], list[Mapping[str, Any]]] = {}
    for settings, final in finals:
        if final and final.get("event") == "done" and isinstance(final.get("unit_norms"), (list, tuple)):
            groups.setdefault((settings["penalty"], float(settings["lam"])), []).append(final)
    points = []
    for (penalty, lam), runs in sorted(groups.items(), key=lambda kv: (PENALTY_NAMES.index(kv[0][0]), kv[0][1])):
        width = min(len(r["unit_norms"]) for r in runs)  # one hidden size per study; min guards a mixed one
        norms = np.mean([np.asarray(r["unit_norms"][:width], dtype=float) for r in runs], axis=0)
        points.append(PathPoint(penalty, lam, len(runs), tuple(float(v) for v in norms),
                                Spread.of([r.get("active_weights") for r in runs])))
    return points
