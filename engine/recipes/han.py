"""Han et al. 2015: L1-trained networks keep more accuracy when pruned without retraining, L2 after it.

Han, Pool, Tran and Dally prune AlexNet's smallest weights and compare L1 and L2 training,
without and with retraining. Here: normlab's 784-200-10 network trained with L1 and with L2 at
a few λ each; the L1 and L2 settings whose unpruned test accuracies are closest are compared
(matched accuracy), on the pruning curve (the smallest-|w| fraction of all weights set to zero,
``engine.pruning``) without a fine-tune and after a short one with the mask held
(``engine.fine_tune``, ``prune_fine_tune_steps``: Han's retraining, much shortened).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from ..config import RunConfig
from ..studies import StudySpec
from .claims import ClaimResult, Ours, Record, Setting, judge_above_zero, metric, per_seed, pruned_accuracy, verdict_of
from .model import Arm, Recipe, Source

ARM = "784-200-10"
LAMBDAS = {"l1": (1e-5, 3e-5, 1e-4), "l2": (1e-4, 1e-3, 1e-2)}
FRACTION = 0.9
FINE_TUNE_STEPS = 100
CITATION = ("Song Han, Jeff Pool, John Tran, William J. Dally, “Learning both Weights and Connections for Efficient "
            "Neural Networks”, NIPS 2015 (arXiv:1506.02626)")


def matched_pair(records: Sequence[Record]) -> tuple[Setting, Setting, float] | None:
    """The L1 and L2 settings whose mean unpruned test accuracies are closest, and that gap (L1 − L2)."""
    means = {}
    for penalty, lams in LAMBDAS.items():
        for lam in lams:
            setting = Setting(ARM, penalty, lam)
            ours = Ours.of(list(per_seed(records, setting, metric("test_accuracy")).values()))
            if ours is not None:
                means[setting] = ours.mean
    pairs = [(a, b, means[a] - means[b]) for a in means if a.penalty == "l1" for b in means if b.penalty == "l2"]
    return min(pairs, key=lambda p: (abs(p[2]), p[0].lam, p[1].lam)) if pairs else None


@dataclass(frozen=True)
class PrunedClaim:
    """At ``fraction`` pruned, the matched ``ahead`` setting keeps more test accuracy than the other, seed by seed."""

    quantity: str
    published_text: str
    ahead: str  # "l1" or "l2"
    fine_tuned: bool
    note: str = ""

    def evaluate(self, records: Sequence[Record]) -> ClaimResult:
        pair = matched_pair(records)
        if pair is None:
            return ClaimResult(self.quantity, None, self.published_text, None, "no finished L1 and L2 runs", None,
                               verdict_of(None), self.note)
        l1, l2, gap = pair
        read = pruned_accuracy(FRACTION, self.fine_tuned)
        values = {s: per_seed(records, s, read) for s in (l1, l2)}
        first, second = (l1, l2) if self.ahead == "l1" else (l2, l1)
        judgement = judge_above_zero({seed: values[first][seed] - values[second][seed]
                                      for seed in values[first].keys() & values[second].keys()})
        means = {s: Ours.of(list(v.values())) for s, v in values.items()}
        shown = ", ".join(f"{s.label()} {'—' if means[s] is None else f'{100 * means[s].mean:.1f} %'}" for s in (l1, l2))
        ours = Ours.of([values[first][s] - values[second][s] for s in values[first].keys() & values[second].keys()])
        matched = f"matched at unpruned accuracy: {l1.label()} − {l2.label()} = {100 * gap:+.2f} points"
        return ClaimResult(self.quantity, None, self.published_text, ours,
                           f"{shown} at {FRACTION:.0%} pruned", None, verdict_of(judgement.holds),
                           "; ".join(p for p in (matched, judgement.note, self.note) if p),
                           tuple(self._points(records, (l1, l2))),
                           {"x": "fraction of all weights pruned (smallest |w| first)",
                            "y": "test accuracy" + (" after the fine-tune" if self.fine_tuned else ", no fine-tune"),
                            "x_type": "linear"})

    def _points(self, records: Sequence[Record], pair: tuple[Setting, Setting]) -> list[dict[str, Any]]:
        points = []
        for setting in pair:
            finals = [r["final"] for r in records if r.get("final") and r["final"].get("event") == "done"
                      and setting.matches(r)]
            curves = [f.get("pruning_fine_tuned" if self.fine_tuned else "pruning") for f in finals]
            curves = [c for c in curves if isinstance(c, dict)]
            if not curves:
                continue
            for i, fraction in enumerate(curves[0]["fractions"]):
                spread = Ours.of([c["accuracy"]["global"][i] for c in curves])
                points.append({"series": setting.label(), "x": fraction, "y": spread.mean, "sd": spread.sd,
                               "n": spread.n})
        return points

    def describe(self) -> dict[str, Any]:
        return {"quantity": self.quantity, "published": None, "published_text": self.published_text,
                "tolerance": None, "note": self.note}


RECIPE = Recipe(
    name="pruning-l1-vs-l2",
    version=1,
    title="Han et al. 2015: pruning L1- and L2-trained networks, without and with a fine-tune",
    question="At matched accuracy, does an L1-trained network keep more accuracy than an L2-trained one when 90 % "
             "of its weights are pruned without retraining, and does L2 catch up after a short fine-tune?",
    sources=(
        Source(CITATION, "Section 3.1, “Regularization”",
               "L1 regularization penalizes non-zero parameters resulting in more parameters near zero. This gives "
               "better accuracy after pruning, but before retraining. However, the remaining connections are not as "
               "good as with L2 regularization, resulting in lower accuracy after retraining."),
        Source(CITATION, "Section 4.2 (AlexNet on ImageNet), discussing Figure 5",
               "L1 regularization gives better accuracy than L2 directly after pruning (dotted blue and purple lines) "
               "since it pushes more parameters closer to zero. However, comparing the yellow and green lines shows "
               "that L2 outperforms L1 after retraining, since there is no benefit to further pushing values towards "
               "zero."),
    ),
    arms=(Arm(ARM, StudySpec(("l1", "l2"), (), 3, RunConfig(prune_fine_tune_steps=FINE_TUNE_STEPS), LAMBDAS)),),
    claims=(
        PrunedClaim("test accuracy at 90 % pruned, no fine-tune: L1 ahead", "L1 better than L2 directly after pruning",
                    "l1", False, note="the claim the recipe checks"),
        PrunedClaim("test accuracy at 90 % pruned, after a short fine-tune: L2 ahead",
                    "L2 outperforms L1 after retraining", "l2", True,
                    note=f"his retraining is full training; ours {FINE_TUNE_STEPS} steps with the mask held"),
    ),
    notes=("The reference setup (784-200-10 sigmoid, 20 000 images, batch 64, lr 0.1, 20 epochs); L1 at λ = "
           "1e-5, 3e-5, 1e-4 and L2 at λ = 1e-4, 1e-3, 1e-2; the pair compared is the L1 and L2 setting with the "
           "closest mean unpruned test accuracy.",
           "Pruned: the 90 % of all weights (both layers together) with the smallest |w| set to zero; biases kept.",
           "Han prunes AlexNet layer by layer and retrains for many epochs; this is a small network and a short "
           "fine-tune, so the second claim is a weak version of his."),
)
