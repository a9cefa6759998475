"""The statistics the dashboard benches report: percentiles, per-round paired ratios and a bootstrap
interval for their median.

Whole runs on a small shared machine drift by ±25 % over seconds to minutes; ratios of runs taken
side by side in one round share that drift, so the benches judge targets on them.
"""
from __future__ import annotations

import random
import statistics


def maxn(values) -> float:
    return max(values) if values else float("nan")


def pct(values, q: float) -> float:
    """Nearest-rank percentile (nan for no values)."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(q / 100 * len(s) + 0.5)) - 1))
    return s[k]


def fmt_list(values, spec: str = ".2f") -> str:
    return ", ".join(format(v, spec) for v in values)


def paired_ratios(times: dict[str, list[float]], num: str, den: str) -> list[float]:
    """Per-round ratios num/den: each pairs two runs minutes apart, so the machine's drift hits both."""
    return [a / b for a, b in zip(times[num], times[den])]


def bootstrap_median_ci(values: list[float], level: float = 0.90, draws: int = 10_000) -> tuple[float, float]:
    """A percentile bootstrap interval for the median (seeded, so a report can be re-derived)."""
    rng = random.Random(0)
    meds = sorted(statistics.median(rng.choices(values, k=len(values))) for _ in range(draws))
    tail = (1 - level) / 2
    return meds[int(tail * draws)], meds[int((1 - tail) * draws) - 1]
