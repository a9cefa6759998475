"""What a recipe checks: each published figure or finding, how ours comes from the study's runs, a verdict.

A claim reads the study's finished runs as *records*: ``{"arm", "settings", "final"}`` with
``final`` the run's done event as a dict (its pruning curves included), or None when the run did
not complete. Its verdict is one of ``VERDICTS``:

* a **value** (``ValueClaim``): reproduced when our mean over seeds is within the claim's
  tolerance of the published value, else not reproduced; a value without a tolerance is shown
  beside ours and not checked.
* an **ordering**, a **threshold**, a **shape** (``OrderingClaim``, ``ThresholdClaim``,
  ``GrowthClaim``, ``PrunedClaim``): each reduces to per-seed differences that should be above 0,
  judged with the paired 95 % interval of ``engine.comparisons`` when there are at least 3 seeds
  (reproduced when the interval is above 0, not reproduced when below, inconclusive when it
  holds 0), and on the mean alone with fewer, which the note says.

Inconclusive also means: no finished run to judge. Tolerances and thresholds are fixed in the
recipe before it runs; a verdict that fails is reported with its numbers, never rescued.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from ..comparisons import MIN_PAIRS, paired_comparison
from ..studies import Spread

REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, NOT_CHECKED = "reproduced", "not reproduced", "inconclusive", "not checked"
VERDICTS = (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, NOT_CHECKED)

Record = Mapping[str, Any]
Metric = Callable[[Mapping[str, Any]], "float | None"]


@dataclass(frozen=True)
class Ours:
    """Our value of a claim's quantity: mean and sample sd over ``n`` seeds (sd 0 with one)."""

    mean: float
    sd: float
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> "Ours | None":
        spread = Spread.of(values)
        return None if spread is None else cls(spread.mean, spread.std, spread.n)


@dataclass(frozen=True)
class ClaimResult:
    """One row of a recipe's verdict table.

    ``published``/``ours`` are numbers where the claim has them (``ours`` over seeds);
    ``published_text``/``ours_text`` say the same in words for any claim (an ordering, a
    shape). ``points`` are what a recipe's own chart draws: ``{"series", "x", "y", "sd", "n"}``,
    on ``axes``: ``{"x", "y"}`` (titles) and ``x_type`` (``category`` or ``linear``).
    """

    quantity: str
    published: float | None
    published_text: str
    ours: Ours | None
    ours_text: str
    tolerance: float | None
    verdict: str
    note: str
    points: tuple[dict[str, Any], ...] = ()
    axes: dict[str, str] | None = None


@dataclass(frozen=True)
class Setting:
    """The runs a measure reads: one arm of the recipe, one penalty and λ."""

    arm: str
    penalty: str
    lam: float = 0.0

    def label(self) -> str:
        return "no penalty" if self.penalty == "none" else f"{self.penalty.upper()} λ = {self.lam:g}"

    def matches(self, record: Record) -> bool:
        settings = record["settings"]
        lam = 0.0 if settings["penalty"] == "none" else float(settings["lam"])
        return record["arm"] == self.arm and settings["penalty"] == self.penalty and math.isclose(lam, self.lam)


def metric(name: str) -> Metric:
    """A done event's number ``name`` (e.g. ``test_accuracy``, ``peak_test_accuracy``, ``sparsity``)."""
    return lambda final: final.get(name)


def pruned_accuracy(fraction: float, fine_tuned: bool = False) -> Metric:
    """Test accuracy with ``fraction`` of all the weights pruned (the global scheme), without or after the fine-tune."""
    def read(final: Mapping[str, Any]) -> float | None:
        curve = final.get("pruning_fine_tuned" if fine_tuned else "pruning")
        if not isinstance(curve, Mapping) or fraction not in curve["fractions"]:
            return None
        return curve["accuracy"]["global"][curve["fractions"].index(fraction)]
    return read


def per_seed(records: Sequence[Record], setting: Setting, read: Metric) -> dict[int, float]:
    """Seed → the value ``read`` takes from each completed run of ``setting`` (runs without one left out)."""
    out = {}
    for record in records:
        final = record.get("final")
        if final and final.get("event") == "done" and setting.matches(record):
            value = read(final)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                out[int(record["settings"]["seed"])] = float(value)
    return out


@dataclass(frozen=True)
class Judgement:
    """Whether per-seed differences are above 0: True, False or None (inconclusive), and why."""

    holds: bool | None
    mean: float | None
    sd: float | None
    n: int
    note: str


def judge_above_zero(differences: Mapping[int, float]) -> Judgement:
    """Paired 95 % interval of the differences (at least 3 seeds), else their mean; see the module's note."""
    spread = Ours.of(list(differences.values()))
    if spread is None:
        return Judgement(None, None, None, 0, "no finished runs to judge")
    mean, sd, n = spread.mean, spread.sd, spread.n
    if n < MIN_PAIRS:
        holds = None if mean == 0 else mean > 0
        return Judgement(holds, mean, sd, n, f"{n} seed{'s' if n != 1 else ''}: judged on the mean; an interval "
                                             f"needs at least {MIN_PAIRS}")
    comparison = paired_comparison(differences, {seed: 0.0 for seed in differences}, setting=("difference", 0.0))
    low, high = comparison.ci95_paired
    holds = True if low > 0 else False if high < 0 else None
    return Judgement(holds, mean, sd, n, f"paired 95 % interval {low:+.4f} to {high:+.4f} over {n} seeds")


def verdict_of(holds: bool | None) -> str:
    return INCONCLUSIVE if holds is None else REPRODUCED if holds else NOT_REPRODUCED


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.2f} %"


def _ours_text(ours: Ours | None, as_percent: bool = True) -> str:
    if ours is None:
        return "no finished runs"
    fmt = _percent if as_percent else (lambda v: f"{v:.4g}")
    return fmt(ours.mean) + (f" ± {fmt(ours.sd)} (n = {ours.n})" if ours.n > 1 else " (1 seed)")


@dataclass(frozen=True)
class ValueClaim:
    """A published number against our mean over seeds of the same quantity.

    ``tolerance`` None: the value is shown beside ours and not checked (``note`` says why).
    ``mark`` puts the published value on the study's accuracy chart at this setting.
    """

    quantity: str
    published: float
    setting: Setting
    read: Metric
    tolerance: float | None
    note: str = ""
    mark: bool = False

    def evaluate(self, records: Sequence[Record]) -> ClaimResult:
        ours = Ours.of(list(per_seed(records, self.setting, self.read).values()))
        if self.tolerance is None:
            verdict, note = NOT_CHECKED, self.note
        elif ours is None:
            verdict, note = INCONCLUSIVE, _join("no finished runs to judge", self.note)
        else:
            within = abs(ours.mean - self.published) <= self.tolerance
            verdict = REPRODUCED if within else NOT_REPRODUCED
            note = _join(f"ours − published = {100 * (ours.mean - self.published):+.2f} points", self.note)
        return ClaimResult(self.quantity, self.published, _percent(self.published), ours, _ours_text(ours),
                           self.tolerance, verdict, note)

    def describe(self) -> dict[str, Any]:
        return {"quantity": self.quantity, "published": self.published, "published_text": _percent(self.published),
                "tolerance": self.tolerance, "note": self.note}


@dataclass(frozen=True)
class OrderingClaim:
    """Settings whose values should come in this order, largest first, judged pair by pair, paired by seed.

    Ours is the consecutive difference with the smallest mean (the margin the ordering holds by), over seeds.
    """

    quantity: str
    settings: tuple[Setting, ...]
    read: Metric
    published_values: tuple[float, ...]
    note: str = ""

    def evaluate(self, records: Sequence[Record]) -> ClaimResult:
        values = [per_seed(records, s, self.read) for s in self.settings]
        judgements = [judge_above_zero({seed: a[seed] - b[seed] for seed in a.keys() & b.keys()})
                      for a, b in zip(values, values[1:])]
        holds = [j.holds for j in judgements]
        overall = False if False in holds else None if None in holds else True
        margins = [j for j in judgements if j.mean is not None]
        smallest = min(margins, key=lambda j: j.mean) if margins else None
        means = [Ours.of(list(v.values())) for v in values]
        ours_text = " > ".join(f"{s.label()} {_percent(m.mean if m else None)}" for s, m in zip(self.settings, means))
        notes = [f"{a.label()} − {b.label()}: {j.note}" + (f", mean {100 * j.mean:+.2f} points" if j.mean is not None
                                                            else "")
                 for a, b, j in zip(self.settings, self.settings[1:], judgements)]
        ours = None if smallest is None else Ours(smallest.mean, smallest.sd, smallest.n)
        return ClaimResult(self.quantity, None, self.published_text(), ours, ours_text, None, verdict_of(overall),
                           _join("; ".join(notes), self.note))

    def published_text(self) -> str:
        return " > ".join(f"{s.label()} {_percent(v)}" for s, v in zip(self.settings, self.published_values))

    def describe(self) -> dict[str, Any]:
        return {"quantity": self.quantity, "published": None, "published_text": self.published_text(),
                "tolerance": None, "note": self.note}


@dataclass(frozen=True)
class ThresholdClaim:
    """A published finding in words ("most weights near zero") read as: our quantity is above ``threshold``."""

    quantity: str
    published_text: str
    setting: Setting
    read: Metric
    threshold: float
    note: str = ""

    def evaluate(self, records: Sequence[Record]) -> ClaimResult:
        values = per_seed(records, self.setting, self.read)
        judgement = judge_above_zero({seed: v - self.threshold for seed, v in values.items()})
        ours = Ours.of(list(values.values()))
        return ClaimResult(self.quantity, None, self.published_text, ours, _ours_text(ours), None,
                           verdict_of(judgement.holds),
                           _join(f"checked as above {_percent(self.threshold)}: {judgement.note}", self.note))

    def describe(self) -> dict[str, Any]:
        return {"quantity": self.quantity, "published": None, "published_text": self.published_text,
                "tolerance": None, "note": self.note}


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)

