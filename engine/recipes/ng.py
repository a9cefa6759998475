"""Ng (ICML 2004): with many irrelevant features, L1's error grows far more slowly than L2's.

Ng proves that L1-regularised logistic regression needs a number of training examples that
grows with the log of the number of irrelevant features, while any rotationally invariant
learner (L2-regularised logistic regression among them) needs, in the worst case, a number
that grows linearly. Seen at a fixed, small training set, the same shape is the error: as k
irrelevant features are added, L1's error should barely move and L2's should climb.

On MNIST: k columns of pure noise are appended to every image (``noise_features``), a softmax
regression (no hidden layer) is trained with L1 and with L2 over a grid of λ, and for each k
and penalty the λ with the best held-out accuracy is chosen, seed by seed, as Ng's algorithm
chooses it by hold-out cross validation. The held-out images are MNIST's training images
50 000–59 999 (``test_split`` validation); the error reported is at the chosen λ on those same
images, so it is the best of the grid, optimistic alike for both penalties.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from ..config import RunConfig
from ..studies import StudySpec
from .claims import ClaimResult, Ours, Record, Setting, judge_above_zero, metric, per_seed, verdict_of
from .model import Arm, Recipe, Source

NOISE_LEVELS = (0, 100, 1_000, 10_000)
# One value per decade over four decades for each penalty (L2's λ weighs ½w², L1's |w|, so they sit apart).
LAMBDAS = {"l1": (1e-4, 1e-3, 1e-2, 1e-1), "l2": (1e-3, 1e-2, 1e-1, 1.0)}
BASE = RunConfig(hidden=0, train_size=1_000, batch_size=10, lr=0.01, epochs=20, test_split="validation")


def arm_name(k: int) -> str:
    return f"k = {k:,}".replace(",", " ")


@dataclass(frozen=True)
class GrowthClaim:
    """How much the held-out error at the λ chosen on it grows from the fewest to the most noise features.

    Reproduced when L2's error grows by at least ``least_growth`` (there is growth to compare) and
    L1's grows by at most ``ratio`` of L2's, both judged on per-seed differences.
    """

    quantity: str
    published_text: str
    levels: tuple[int, ...]
    lambdas: dict[str, tuple[float, ...]]
    least_growth: float = 0.01
    ratio: float = 0.5
    note: str = ""

    def chosen_error(self, records: Sequence[Record], k: int, penalty: str) -> dict[int, tuple[float, float]]:
        """Seed → (held-out error at the best λ, that λ) for noise level ``k`` and ``penalty``."""
        best: dict[int, tuple[float, float]] = {}
        for lam in self.lambdas[penalty]:
            for seed, accuracy in per_seed(records, Setting(arm_name(k), penalty, lam), metric("test_accuracy")).items():
                if seed not in best or 1 - accuracy < best[seed][0]:
                    best[seed] = (1 - accuracy, lam)
        return best

    def evaluate(self, records: Sequence[Record]) -> ClaimResult:
        errors = {p: {k: self.chosen_error(records, k, p) for k in self.levels} for p in ("l1", "l2")}
        first, last = self.levels[0], self.levels[-1]
        growth = {p: {s: errors[p][last][s][0] - errors[p][first][s][0]
                      for s in errors[p][last].keys() & errors[p][first].keys()} for p in errors}
        seeds = growth["l1"].keys() & growth["l2"].keys()
        l2_grows = judge_above_zero({s: growth["l2"][s] - self.least_growth for s in growth["l2"]})
        l1_slower = judge_above_zero({s: self.ratio * growth["l2"][s] - growth["l1"][s] for s in seeds})
        holds = [l2_grows.holds, l1_slower.holds]
        overall = False if False in holds else None if None in holds else True
        ours = {p: Ours.of(list(growth[p].values())) for p in growth}
        ours_text = "; ".join(self._describe(p, errors[p], ours[p]) for p in ("l1", "l2"))
        note = (f"L2's error grows by at least {100 * self.least_growth:g} point: {l2_grows.note}; "
                f"L1's grows by at most {self.ratio:g} × L2's: {l1_slower.note}")
        return ClaimResult(self.quantity, None, self.published_text, ours["l1"], ours_text, None, verdict_of(overall),
                           "; ".join(p for p in (note, self.note) if p), tuple(self._points(errors)),
                           {"x": "noise features appended (k)", "y": "held-out error at the λ chosen on it",
                            "x_type": "category"})

    def _describe(self, penalty: str, errors: dict[int, dict[int, tuple[float, float]]], growth: Ours | None) -> str:
        means = [Ours.of([e for e, _ in errors[k].values()]) for k in self.levels]
        path = " → ".join("—" if m is None else f"{100 * m.mean:.1f} %" for m in means)
        grown = "" if growth is None else f" ({100 * growth.mean:+.1f} points)"
        return f"{penalty.upper()} {path}{grown}"

    def _points(self, errors: dict[str, dict[int, dict[int, tuple[float, float]]]]) -> list[dict[str, Any]]:
        points = []
        for penalty, by_level in errors.items():
            for k in self.levels:
                spread = Ours.of([e for e, _ in by_level[k].values()])
                if spread is not None:
                    lams = sorted({lam for _, lam in by_level[k].values()})
                    points.append({"series": penalty.upper(), "x": k, "y": spread.mean, "sd": spread.sd,
                                   "n": spread.n, "lams": lams})
        return points

    def describe(self) -> dict[str, Any]:
        return {"quantity": self.quantity, "published": None, "published_text": self.published_text,
                "tolerance": None, "note": self.note}


def build(levels: tuple[int, ...] = NOISE_LEVELS) -> Recipe:
    """The recipe over these noise levels (the first and last are compared); the published one uses ``NOISE_LEVELS``.

    Other levels are for the test suite, which runs the same machinery with less noise to evaluate.
    """
    return Recipe(
        name="ng-irrelevant-features",
        version=1,
        title="Ng 2004: L1 against L2 as irrelevant features are added",
        question="As k features of pure noise are added to MNIST's pixels, does a softmax regression's error grow "
                 "much more slowly with L1 than with L2?",
        sources=(Source(
            "Andrew Y. Ng, “Feature selection, L1 vs. L2 regularization, and rotational invariance”, Proceedings of the "
            "21st International Conference on Machine Learning (ICML 2004)",
            "Abstract (https://ai.stanford.edu/~ang/papers/icml04-l1l2.pdf)",
            "Focusing on logistic regression, we show that using L1 regularization of the parameters, the sample "
            "complexity (i.e., the number of training examples required to learn “well,”) grows only logarithmically in "
            "the number of irrelevant features. […] We also give a lower-bound showing that any rotationally invariant "
            "algorithm—including logistic regression with L2 regularization, SVMs, and neural networks trained by "
            "backpropagation—has a worst case sample complexity that grows at least linearly in the number of "
            "irrelevant features."),),
        arms=tuple(Arm(arm_name(k), StudySpec(("l1", "l2"), (), 3, RunConfig(**(BASE.to_dict() | {"noise_features": k})),
                                              LAMBDAS)) for k in levels),
        claims=(GrowthClaim(
            f"held-out error at the chosen λ, k = {levels[0]} → {arm_name(levels[-1])[4:]} noise features",
            "L1: sample complexity grows with log k; L2 (rotationally invariant): at least linearly in k",
            levels, LAMBDAS,
            note="“much more slowly”: L1's growth at most half of L2's; Ng's bounds are on examples needed, this "
                 "measures the error at a fixed 1 000 examples"),),
        notes=("A softmax regression (hidden 0): 784 + k inputs → 10, on 1 000 training images drawn at random from "
               "MNIST's first 50 000; noise features are uniform bytes scaled like pixels, to [−1, 1].",
               "λ is chosen per seed, k and penalty from the grid by held-out accuracy on training images 50 000–59 999; "
               "the error is reported on the same images (the best of the grid), so the real test set is not used.",
               "The study page's charts show the k = 0 arm; the verdict table's chart shows the error against k."),
    )


RECIPE = build()
