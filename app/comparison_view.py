"""A study's paired comparisons as the API, the study page and ``normlab sweep`` show them.

``engine.comparisons`` computes them; here a person's question is read (which two settings,
which difference is worth detecting), each comparison gets the seeds a paired t-test would
need to detect that difference, and everything becomes the JSON both the API and the CLI
print (docs/api.md, "Paired comparisons").
"""
from __future__ import annotations

import functools
import math
from typing import Any, Iterable, Mapping, Sequence

from engine import ConfigError
from engine.comparisons import Comparison, compare_settings, compare_to_baseline, paired_phrase, seeds_needed
from engine.config import is_finite_number
from engine.events import to_jsonable
from engine.penalties import PENALTY_NAMES

Setting = tuple[str, float]

METRIC = "test_accuracy"
DEFAULT_EFFECT = 0.01  # one point of test accuracy
POWER = 0.8
ALPHA = 0.05
_TEXT_MAX = 40  # characters of a query value worth reading (and echoing in an error)


def parse_effect(text: str | None) -> float:
    """The difference in test accuracy worth detecting, from a query or flag (None: ``DEFAULT_EFFECT``).

    Raises ConfigError("effect") unless it is a number above 0 and at most 1.
    """
    if text is None:
        return DEFAULT_EFFECT
    try:
        value = float(text) if len(text) <= _TEXT_MAX else math.nan
    except ValueError:
        value = math.nan
    if not is_finite_number(value) or not 0 < value <= 1:
        raise ConfigError("effect", "must be a number above 0 and at most 1: a difference in test accuracy "
                                    f"(0.01 is one point); got {text[:_TEXT_MAX]!r}")
    return value


def setting_text(setting: Setting) -> str:
    """``l1:0.001``, or ``none``: how a setting is written in a query (λ as the shortest text that reads back the same)."""
    return setting[0] if setting[0] == "none" else f"{setting[0]}:{setting[1]!r}"


def parse_setting(text: str | None, field: str, settings: Sequence[Setting]) -> Setting:
    """One of the study's ``settings``, written ``<penalty>:<λ>`` (``none`` needs no λ).

    Raises ConfigError(field) naming the study's settings when ``text`` is missing, malformed
    or not one of them.
    """
    choices = ", ".join(setting_text(s) for s in settings[:12]) + (", …" if len(settings) > 12 else "")
    penalty, _, lam_text = (text or "").strip().partition(":")
    try:
        lam = 0.0 if penalty == "none" and not lam_text else float(lam_text[:_TEXT_MAX])
    except ValueError:
        lam = math.nan
    if penalty not in PENALTY_NAMES or not is_finite_number(lam) or (penalty == "none" and lam != 0):
        raise ConfigError(field, f"must be a setting of the study written <penalty>:<λ> (none without λ), one of "
                                 f"{choices}; got {(text or '')[:_TEXT_MAX]!r}")
    setting = (penalty, lam)
    if setting not in settings:
        raise ConfigError(field, f"the study has no setting {setting_text(setting)}; its settings: {choices}")
    return setting


def power_analysis(effect: float) -> dict[str, Any]:
    """What ``seeds_needed`` answers: seeds for a paired t-test to detect ``effect`` at ``ALPHA`` with ``POWER``."""
    return {"metric": METRIC, "effect": effect, "alpha": ALPHA, "power": POWER}


@functools.lru_cache(maxsize=1024)
def _seeds_needed(sd_diff: float, effect: float) -> int | None:
    return seeds_needed(sd_diff, effect, ALPHA, POWER)


def comparison_json(c: Comparison, effect: float) -> dict[str, Any]:
    """Every field of ``c``, its ``phrase`` (one clause for a sentence) and ``seeds_needed`` for ``effect``.

    ``seeds_needed`` is None when ``c`` is not testable (no spread of differences to go by) or
    when even 100 000 seeds would not do.
    """
    needed = _seeds_needed(c.sd_diff, effect) if c.testable else None
    return to_jsonable(c) | {"phrase": paired_phrase(c), "seeds_needed": needed}


def _rows_key(rows: Iterable[Mapping[str, Any]]) -> tuple[tuple[str, float, int, float], ...]:
    """The finished runs' values the comparisons depend on, as a hashable key."""
    return tuple((r["penalty"], float(r["lam"]), int(r["seed"]), float(r[METRIC])) for r in rows
                 if is_finite_number(r.get(METRIC)))


@functools.lru_cache(maxsize=64)
def _against_baseline(key: tuple[tuple[str, float, int, float], ...]) -> tuple[Comparison, ...]:
    # Cached: the study page asks after every run that ends, and a finished study never changes;
    # the bootstrap makes this the slow part of a study's view (a quarter second at 300 runs).
    rows = [{"penalty": p, "lam": lam, "seed": seed, METRIC: value} for p, lam, seed, value in key]
    order = {name: i for i, name in enumerate(PENALTY_NAMES)}
    return tuple(sorted(compare_to_baseline(rows, METRIC), key=lambda c: (order[c.penalty], c.lam)))


def against_baseline(rows: Iterable[Mapping[str, Any]]) -> list[Comparison]:
    """Every setting against no penalty, paired by seed, Holm-corrected, in display order.

    ``rows`` are ``engine.studies.run_metrics`` rows; those without a finite test accuracy
    (runs that did not finish) are left out. No no-penalty runs: no comparisons.
    """
    return list(_against_baseline(_rows_key(rows)))


def between(rows: Iterable[Mapping[str, Any]], setting: Setting, against: Setting) -> Comparison:
    """``setting`` against ``against`` (any two a person picked), paired by seed; one test, no correction."""
    rows = [{"penalty": p, "lam": lam, "seed": seed, METRIC: value} for p, lam, seed, value in _rows_key(rows)]
    return compare_settings(rows, setting, against, METRIC)
