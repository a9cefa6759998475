"""Is a difference between two settings real? Paired statistics over seeds.

Runs of one seed share their initial weights, data subset and batch order
(``training.RandomStreams``), so the per-seed difference between two settings of a study
leaves out most of the seed-to-seed variation. For a setting against a baseline (by
default no penalty), over the seeds both finished:

* the per-seed differences (setting − baseline) and their mean;
* 95 % intervals for the mean difference: paired t; bootstrap (percentile, a fixed number of
  resamples from a fixed generator, so the same runs always give the same interval); and
  Welch's unpaired t on the same runs, to show what pairing buys;
* p-values: paired t and Wilcoxon signed-rank, and the paired t's Holm–Bonferroni
  correction across all the settings compared with the baseline in one study.

Wilcoxon's zero differences (two settings with the very same accuracy on a seed) are
kept and their ranks split between the signs (scipy's ``zero_method="zsplit"``): discarding
them, Wilcoxon's own convention, would count only the seeds that disagree and overstate
the evidence, and all-zero differences give p = 1 instead of no answer. With ties or zeros
scipy computes the exact p-value by enumerating the sign flips (up to 13 pairs).

With fewer than ``MIN_PAIRS`` pairs no test is possible: the statistics are None and
``note`` says so. The tests come from ``scipy.stats``; only Holm's adjustment (a sort and a
running maximum) is written here.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, replace
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from .formats import fmt_lambda, fmt_points

MIN_PAIRS = 3
NO_TEST_NOTE = "fewer than 3 seeds: no test is possible"
CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 10_000
BOOTSTRAP_SEED = 12345  # fixed: an interval must not change when the page is reloaded
WILCOXON_ZERO_METHOD = "zsplit"
# Differences are rounded to this many significant digits before ranking, so that equal
# differences computed from different accuracies (0.92 − 0.91 and 0.93 − 0.92) tie exactly.
SIGNIFICANT_DIGITS = 12
BASELINE = ("none", 0.0)

Setting = tuple[str, float]


@dataclass(frozen=True)
class Comparison:
    """One setting against another on one metric, paired by seed.

    Intervals are ``(low, high)`` for the mean of ``setting − baseline``; every statistic
    is None when ``testable`` is False (fewer than ``MIN_PAIRS`` pairs).
    """

    penalty: str
    lam: float
    baseline_penalty: str
    baseline_lam: float
    metric: str
    n_pairs: int
    seeds: tuple[int, ...]
    differences: tuple[float, ...]  # per seed, in the order of ``seeds``
    mean_diff: float | None
    sd_diff: float | None  # sample standard deviation of the differences (for ``seeds_needed``)
    ci95_paired: tuple[float, float] | None
    ci95_bootstrap: tuple[float, float] | None
    ci95_unpaired: tuple[float, float] | None
    p_ttest: float | None
    p_wilcoxon: float | None
    p_holm: float | None
    testable: bool
    note: str | None


def _stats():
    """scipy.stats, imported when a test is first computed: a training run never needs it, and it costs
    a process tens of megabytes and half a second."""
    from scipy import stats

    return stats


def _quietly(function, *args, **kwargs):
    """Call a scipy test without its warning on nearly identical data.

    Equal accuracies on every seed are common here (a λ too small to change anything), and
    the results scipy returns for them are the exact ones; the warning would otherwise be an
    error under a strict warnings filter.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Precision loss occurred", category=RuntimeWarning)
        return function(*args, **kwargs)


def _rounded(values: np.ndarray) -> np.ndarray:
    return np.array([float(f"{v:.{SIGNIFICANT_DIGITS}g}") for v in values])


def _interval(ci: Any) -> tuple[float, float]:
    return float(ci.low), float(ci.high)


def _paired_t(d: np.ndarray) -> tuple[tuple[float, float], float]:
    """The paired t interval and p-value: a one-sample t-test of the differences against 0.

    Differences that are all equal have no spread: the interval is that value, and p is 1
    if it is 0, else 0 (the limit of an infinite t).
    """
    if np.all(d == d[0]):
        return (float(d[0]), float(d[0])), 1.0 if d[0] == 0 else 0.0
    result = _quietly(_stats().ttest_1samp, d, 0.0)
    return _interval(result.confidence_interval(CONFIDENCE)), float(result.pvalue)


def _welch(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Welch's t interval for ``mean(a) − mean(b)``, treating the two groups as unpaired."""
    if np.all(a == a[0]) and np.all(b == b[0]):
        return float(a[0] - b[0]), float(a[0] - b[0])
    result = _quietly(_stats().ttest_ind, a, b, equal_var=False)
    return _interval(result.confidence_interval(CONFIDENCE))


def _bootstrap(d: np.ndarray) -> tuple[float, float]:
    """Percentile bootstrap interval for the mean difference, from a fixed generator."""
    result = _stats().bootstrap((d,), np.mean, n_resamples=BOOTSTRAP_RESAMPLES, method="percentile",
                             confidence_level=CONFIDENCE, vectorized=True, rng=np.random.default_rng(BOOTSTRAP_SEED))
    return _interval(result.confidence_interval)


def _wilcoxon(d: np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p-value, zero differences split (see the module's note)."""
    return float(_quietly(_stats().wilcoxon, d, zero_method=WILCOXON_ZERO_METHOD).pvalue)


def paired_comparison(values: Mapping[int, float], baseline: Mapping[int, float], *, setting: Setting,
                      against: Setting = BASELINE, metric: str = "test_accuracy") -> Comparison:
    """Compare per-seed ``values`` of ``setting`` with ``baseline``'s (seed → value), over the seeds both have.

    ``p_holm`` is the paired t's p-value as it stands (one comparison); ``with_holm``
    corrects it across a family of comparisons.
    """
    seeds = tuple(sorted(set(values) & set(baseline)))
    a = np.array([float(values[s]) for s in seeds])
    b = np.array([float(baseline[s]) for s in seeds])
    d = _rounded(a - b)
    common = dict(penalty=setting[0], lam=float(setting[1]), baseline_penalty=against[0],
                  baseline_lam=float(against[1]), metric=metric, n_pairs=len(seeds), seeds=seeds,
                  differences=tuple(float(v) for v in d))
    if len(seeds) < MIN_PAIRS:
        return Comparison(**common, mean_diff=None, sd_diff=None, ci95_paired=None, ci95_bootstrap=None,
                          ci95_unpaired=None, p_ttest=None, p_wilcoxon=None, p_holm=None, testable=False,
                          note=NO_TEST_NOTE)
    ci_paired, p_ttest = _paired_t(d)
    return Comparison(**common, mean_diff=float(d.mean()), sd_diff=float(d.std(ddof=1)), ci95_paired=ci_paired,
                      ci95_bootstrap=_bootstrap(d), ci95_unpaired=_welch(a, b), p_ttest=p_ttest,
                      p_wilcoxon=_wilcoxon(d), p_holm=p_ttest, testable=True, note=None)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values, in the given order.

    The i-th smallest of m p-values is multiplied by ``m − i + 1`` (i from 1), capped at 1
    and made non-decreasing in that order (a running maximum).
    """
    m = len(p_values)
    adjusted = [0.0] * m
    running = 0.0
    for rank, index in enumerate(sorted(range(m), key=lambda i: p_values[i])):
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


def with_holm(comparisons: Sequence[Comparison]) -> list[Comparison]:
    """The comparisons with ``p_holm`` corrected across the testable ones (the others keep None)."""
    testable = [i for i, c in enumerate(comparisons) if c.testable]
    adjusted = dict(zip(testable, holm([comparisons[i].p_ttest for i in testable])))
    return [replace(c, p_holm=adjusted[i]) if i in adjusted else c for i, c in enumerate(comparisons)]


def _per_seed(rows: Iterable[Mapping[str, Any]], metric: str) -> dict[Setting, dict[int, float]]:
    """Finished rows (``studies.run_metrics``) as setting → seed → value of ``metric``."""
    out: dict[Setting, dict[int, float]] = {}
    for row in rows:
        value = row.get(metric)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            out.setdefault((row["penalty"], float(row["lam"])), {})[int(row["seed"])] = float(value)
    return out


def compare_to_baseline(rows: Iterable[Mapping[str, Any]], metric: str = "test_accuracy",
                        baseline: Setting = BASELINE) -> list[Comparison]:
    """Every other setting of a study against ``baseline``, Holm-corrected across them.

    ``rows`` are the study's runs as ``studies.run_metrics`` gives them (``penalty``, ``lam``,
    ``seed`` and the metrics of finished runs). No baseline runs: no comparisons.
    """
    by_setting = _per_seed(rows, metric)
    base = by_setting.pop((baseline[0], float(baseline[1])), None)
    if base is None:
        return []
    comparisons = [paired_comparison(values, base, setting=setting, against=baseline, metric=metric)
                   for setting, values in by_setting.items()]
    return with_holm(comparisons)


def compare_settings(rows: Iterable[Mapping[str, Any]], setting: Setting, against: Setting,
                     metric: str = "test_accuracy") -> Comparison:
    """One setting against another a person picked (``(penalty, λ)`` each); a single test, so no correction."""
    by_setting = _per_seed(rows, metric)
    return paired_comparison(by_setting.get((setting[0], float(setting[1])), {}),
                             by_setting.get((against[0], float(against[1])), {}),
                             setting=setting, against=against, metric=metric)


def paired_t_power(n: int, effect: float, sd_diff: float, alpha: float = 0.05) -> float:
    """Power of the two-sided paired t-test with ``n`` pairs to detect a mean difference ``effect``.

    From the noncentral t distribution: ``df = n − 1``, noncentrality ``effect / sd_diff · √n``.
    """
    df = n - 1
    noncentrality = effect / sd_diff * math.sqrt(n)
    critical = _stats().t.ppf(1 - alpha / 2, df)
    return float(_stats().nct.sf(critical, df, noncentrality) + _stats().nct.cdf(-critical, df, noncentrality))


def seeds_needed(sd_diff: float, effect: float, alpha: float = 0.05, power: float = 0.8,
                 max_seeds: int = 100_000) -> int | None:
    """The fewest seeds (at least ``MIN_PAIRS``) for a paired t-test to detect ``effect`` with ``power``.

    ``sd_diff`` is the standard deviation of the per-seed differences (``Comparison.sd_diff``)
    and ``effect`` the difference worth detecting, in the metric's units (its sign does not
    matter). None if even ``max_seeds`` are not enough. Raises ValueError naming a bad argument.
    """
    _check_number("sd_diff", sd_diff, low=0.0, low_allowed=True)
    _check_number("effect", abs(effect) if isinstance(effect, (int, float)) else effect, low=0.0, low_allowed=False)
    _check_number("alpha", alpha, low=0.0, low_allowed=False, high=1.0)
    _check_number("power", power, low=0.0, low_allowed=False, high=1.0)
    if sd_diff == 0:
        return MIN_PAIRS
    enough = lambda n: paired_t_power(n, abs(effect), sd_diff, alpha) >= power  # noqa: E731 (power grows with n)
    low, high = MIN_PAIRS - 1, MIN_PAIRS
    while not enough(high):
        if high >= max_seeds:
            return None
        low, high = high, min(2 * high, max_seeds)
    while high - low > 1:  # enough(high), not enough(low) (or low below the minimum)
        middle = (low + high) // 2
        low, high = (low, middle) if enough(middle) else (middle, high)
    return high


def _check_number(name: str, value: Any, *, low: float, low_allowed: bool, high: float | None = None) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value >= low if low_allowed else value > low) and (high is None or value < high)
    if not ok:
        allowed = f"{'at least' if low_allowed else 'above'} {low:g}" + (f" and below {high:g}" if high else "")
        raise ValueError(f"{name}: must be a finite number {allowed}; got {str(value)[:20]}")


# Metrics that are fractions: their differences are told in percentage points.
_FRACTION_METRICS = ("test_accuracy", "sparsity", "gap")


def _setting_label(penalty: str, lam: float) -> str:
    return "no penalty" if penalty == "none" else f"{penalty.upper()} λ={fmt_lambda(lam)}"


def _p_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.2g}"


def paired_phrase(c: Comparison) -> str:
    """One clause on what ``c`` shows, e.g. "it costs 1.80 pp against no penalty (95 % CI 1.20 to 2.40 pp, ...)"."""
    against = _setting_label(c.baseline_penalty, c.baseline_lam)
    if not c.testable:
        return (f"paired with {against} over only {c.n_pairs} seed{'s' if c.n_pairs != 1 else ''}, "
                f"fewer than {MIN_PAIRS}: no test is possible")
    low, high = c.ci95_paired
    if c.mean_diff < 0:
        what, size, low, high = "costs", -c.mean_diff, -high, -low
    else:
        what, size = "gains" if c.mean_diff > 0 else "changes", c.mean_diff
    if c.metric in _FRACTION_METRICS:  # in percentage points, as the pages write a difference of fractions
        amount, low, high = fmt_points(size), f"{low * 100:.2f}", fmt_points(high)
    else:
        amount, low, high = f"{size:.4f}", f"{low:.4f}", f"{high:.4f}"
    amount = "nothing on average" if c.mean_diff == 0 else amount
    metric = "" if c.metric == "test_accuracy" else f" of {c.metric}"
    return (f"it {what} {amount}{metric} against {against} (95 % CI {low} to {high}, "
            f"paired over {c.n_pairs} seeds; {_p_text(c.p_holm)}, Holm-corrected)")
