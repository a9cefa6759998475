"""A recipe: a named, versioned study preset plus the published figures it reproduces.

A recipe's study is one or more **arms**, each a ``StudySpec`` (penalties × λ × seeds on one
base setup) under a name: most recipes have one; Nielsen's two schedules and Ng's noise levels
are arms of one study. Runs of one seed share their data subset, initial weights and batch
order within an arm, so claims compare settings seed by seed.

``scaled`` changes only sizes (dataset, training examples, epochs) and keeps every other part,
so the test suite runs each recipe's very machinery on small synthetic data.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, Mapping, Sequence

from ..config import ConfigError, RunConfig
from ..studies import MAX_RUNS, MAX_SEEDS, StudySpec
from .claims import ClaimResult

# What ``scaled`` may change: sizes only (the recipe's settings otherwise stay as published). Hidden
# units and fine-tune steps change only where the recipe has them (a hidden layer, a fine-tune): giving
# a softmax regression a hidden layer, or switching a fine-tune on or off, would change the experiment.
SCALABLE = ("dataset", "train_size", "epochs", "hidden", "prune_fine_tune_steps")
ONLY_WHERE_SET = ("hidden", "prune_fine_tune_steps")
# A run's settings that vary within an arm: the rest say which arm a run belongs to.
WITHIN_ARM = ("penalty", "lam", "lam_l2", "seed")


@dataclass(frozen=True)
class Source:
    """Where a published figure comes from: the citation, the place in it, and its words, quoted exactly."""

    citation: str
    where: str
    quote: str


@dataclass(frozen=True)
class Arm:
    """One part of a recipe's study: a sweep on one base setup, under a name."""

    name: str
    spec: StudySpec

    def key(self) -> dict[str, Any]:
        """The base settings that tell this arm's runs from other arms' (``WITHIN_ARM`` left out)."""
        return {k: v for k, v in self.spec.base.to_dict().items() if k not in WITHIN_ARM}


@dataclass(frozen=True)
class Recipe:
    """A study preset (``arms``) with the published claims it checks (``claims``), sources and notes.

    ``version`` changes whenever the study or a claim's rule changes, so a study records which
    recipe made it. ``seeds`` is the default number of seeds of every arm.
    """

    name: str
    version: int
    title: str
    question: str
    sources: tuple[Source, ...]
    arms: tuple[Arm, ...]
    claims: tuple[Any, ...]
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        keys = [tuple(sorted(a.key().items())) for a in self.arms]
        if len(set(keys)) != len(keys) or len({a.name for a in self.arms}) != len(self.arms):
            raise ValueError(f"recipe {self.name}: every arm needs its own name and its own base settings")

    @property
    def seeds(self) -> int:
        return self.arms[0].spec.seeds

    def configs(self) -> list[tuple[str, RunConfig]]:
        """Every run of the recipe's study: ``(arm name, config)``, arm by arm."""
        return [(arm.name, config) for arm in self.arms for config in arm.spec.configs()]

    def arm_of(self, settings: Mapping[str, Any]) -> str | None:
        """The arm a run with these settings (a ``RunConfig`` dict) belongs to, or None."""
        for arm in self.arms:
            if all(settings.get(k) == v for k, v in arm.key().items()):
                return arm.name
        return None

    def with_seeds(self, seeds: int) -> "Recipe":
        """The recipe with ``seeds`` seeds in every arm (1 to ``MAX_SEEDS``; ConfigError naming ``seeds``)."""
        if isinstance(seeds, bool) or not isinstance(seeds, int) or not 1 <= seeds <= MAX_SEEDS:
            raise ConfigError("seeds", f"must be a whole number from 1 to {MAX_SEEDS}")
        recipe = replace(self, arms=tuple(replace(a, spec=replace(a.spec, seeds=seeds)) for a in self.arms))
        runs = len(recipe.configs())
        if runs > MAX_RUNS:
            raise ConfigError("seeds", f"{self.name} with {seeds} seeds has {runs} runs; at most {MAX_RUNS} are allowed")
        return recipe

    def scaled(self, **changes: Any) -> "Recipe":
        """The same recipe on other sizes: any of ``SCALABLE`` for every arm; the batch size shrinks to fit.

        For the test suite and for a first try on synthetic data: the verdicts of a scaled recipe say
        nothing about the published figures.

        Each change is validated as a run setting (ConfigError naming it).
        """
        for key in changes:
            if key not in SCALABLE:
                raise ConfigError(key, f"a recipe can only be scaled in {', '.join(SCALABLE)}")
        if not changes:
            return self

        def scale(base: RunConfig) -> RunConfig:
            values = base.to_dict() | changes
            for key in ONLY_WHERE_SET:
                if not getattr(base, key):
                    values[key] = 0
            size = values["train_size"]
            if isinstance(size, int) and not isinstance(size, bool) and size >= 1:  # else RunConfig names it
                values["batch_size"] = min(base.batch_size, size)
            return RunConfig.from_dict(values)

        return replace(self, arms=tuple(replace(a, spec=replace(a.spec, base=scale(a.spec.base))) for a in self.arms))

    def records(self, runs: Sequence[tuple[Mapping[str, Any], Mapping[str, Any] | None]]) -> list[dict[str, Any]]:
        """``(settings, final event dict)`` pairs as claim records, each with its arm (runs of no arm left out)."""
        out = []
        for settings, final in runs:
            arm = self.arm_of(settings)
            if arm is not None:
                out.append({"arm": arm, "settings": settings, "final": final})
        return out

    def evaluate(self, runs: Sequence[tuple[Mapping[str, Any], Mapping[str, Any] | None]]) -> list[ClaimResult]:
        """Every claim's row, from the study's runs as ``(settings, final event dict)`` pairs."""
        records = self.records(runs)
        return [claim.evaluate(records) for claim in self.claims]

    def marks(self) -> list[dict[str, Any]]:
        """Published test accuracies to draw on the study's accuracy chart: ``{"penalty", "lam", "value", "label"}``.

        Only the first arm's: the study page's charts show that arm.
        """
        first = self.arms[0].name
        return [{"penalty": c.setting.penalty, "lam": c.setting.lam, "value": c.published, "label": c.quantity}
                for c in self.claims if getattr(c, "mark", False) and c.setting.arm == first]

    def settings_summary(self) -> list[dict[str, Any]]:
        """Each arm's name, its base settings that differ from the defaults, its penalties and λ values, its seeds."""
        defaults = RunConfig().to_dict()
        out = []
        for arm in self.arms:
            base = arm.spec.base.to_dict()
            changed = {f.name: base[f.name] for f in fields(RunConfig)
                       if f.name not in WITHIN_ARM and base[f.name] != defaults[f.name]}
            out.append({"arm": arm.name, "settings": changed, "penalties": list(arm.spec.penalties),
                        "lams": {p: list(arm.spec.lambdas_for(p)) for p in arm.spec.penalties if p != "none"},
                        "seeds": arm.spec.seeds, "runs": len(arm.spec.configs())})
        return out

    def describe(self) -> dict[str, Any]:
        """The recipe as ``GET /api/recipes`` lists it."""
        return {"name": self.name, "version": self.version, "title": self.title, "question": self.question,
                "source": [{"citation": s.citation, "where": s.where, "quote": s.quote} for s in self.sources],
                "settings": self.settings_summary(), "runs": len(self.configs()), "seeds": self.seeds,
                "claims": [c.describe() for c in self.claims], "notes": list(self.notes)}
