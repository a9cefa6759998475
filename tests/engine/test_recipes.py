"""Recipes: each builds a valid study, scales down to synthetic data, runs through the real engine and is
judged; and every claim kind reaches each verdict from hand-made outcomes.
"""
import json
import math

import pytest

from engine import ConfigError, event_to_dict, train
from engine.data.synthetic import synthetic_dataset
from engine.recipes import INCONCLUSIVE, NOT_CHECKED, NOT_REPRODUCED, RECIPES, REPRODUCED, VERDICTS, get_recipe
from engine.recipes.claims import OrderingClaim, Setting, ThresholdClaim, ValueClaim, metric
from engine.recipes.han import RECIPE as HAN
from engine.recipes import ng
from engine.recipes.ng import RECIPE as NG
from engine.recipes.ng import arm_name

# Small enough for the suite: every run of every recipe on these sizes takes a fraction of a second.
SCALE = {"dataset": "synthetic", "train_size": 200, "epochs": 1, "prune_fine_tune_steps": 3}
# Ng's machinery with a hundredth of the noise: 10 000 noise features make a run's evaluation the slow part.
SUITE_NOISE = (0, 1, 10, 100)


@pytest.fixture(scope="module")
def synthetic():
    """60 000 training images (the validation split needs them) and a small test set."""
    return synthetic_dataset(n_train=60_000, n_test=500, seed=2)


def record(arm, penalty, lam, seed, **final):
    return {"arm": arm, "settings": {"penalty": penalty, "lam": lam, "seed": seed},
            "final": {"event": "done", **final}}


def verdict(claim, records):
    return claim.evaluate(records).verdict


# ---- the recipes as data -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(RECIPES))
def test_each_recipe_is_a_valid_versioned_study_with_sources(name):
    recipe = get_recipe(name)
    assert recipe.version >= 1 and recipe.sources and recipe.claims and recipe.question.endswith("?")
    assert all(s.citation and s.where and s.quote for s in recipe.sources)
    configs = recipe.configs()
    assert configs and all(recipe.arm_of(config.to_dict()) == arm for arm, config in configs)
    described = json.loads(json.dumps(recipe.describe()))
    assert described["name"] == name and len(described["claims"]) == len(recipe.claims)
    assert all({"quantity", "published", "published_text", "tolerance"} <= set(c) for c in described["claims"])


def test_the_published_setups_are_as_cited():
    overfitting = get_recipe("nielsen-overfitting").arms[0].spec
    base = overfitting.base
    assert (base.hidden, base.train_size, base.subset, base.batch_size, base.lr, base.epochs, base.init) == (
        30, 1000, "first", 10, 0.5, 400, "std_normal")
    assert overfitting.lambdas_for("l2") == (1e-4,)  # his λ = 0.1 over n = 1 000
    l2_100 = get_recipe("nielsen-l2-100")
    assert [(a.spec.base.epochs, a.spec.base.lr, a.spec.base.test_split) for a in l2_100.arms] == [
        (30, 0.5, "validation"), (60, 0.1, "validation")]
    assert {a.spec.base.noise_features for a in NG.arms} == {0, 100, 1000, 10_000}
    assert all(a.spec.base.hidden == 0 for a in NG.arms)


def test_scaling_changes_sizes_only_and_keeps_the_arms_apart():
    recipe = get_recipe("nielsen-l2-100").scaled(**SCALE)
    for arm, config in recipe.configs():
        assert (config.dataset, config.train_size, config.epochs, config.batch_size) == ("synthetic", 200, 1, 10)
        assert config.prune_fine_tune_steps == 0  # this recipe does not fine-tune: scaling does not switch it on
        assert recipe.arm_of(config.to_dict()) == arm
    assert {c.lr for _, c in recipe.configs()} == {0.5, 0.1}
    assert {c.prune_fine_tune_steps for _, c in HAN.scaled(**SCALE).configs()} == {3}
    assert {c.hidden for _, c in NG.scaled(hidden=8).configs()} == {0}  # a softmax regression stays one
    assert {c.hidden for _, c in HAN.scaled(hidden=8).configs()} == {8}
    with pytest.raises(ConfigError) as info:
        recipe.scaled(lr=0.3)
    assert info.value.field == "lr"
    with pytest.raises(ConfigError) as info:
        recipe.scaled(train_size=0)
    assert info.value.field == "train_size"


def test_seeds_are_validated_and_counted_against_the_study_limit():
    assert len(get_recipe("reference").with_seeds(5).configs()) == 15
    for bad in (0, 11, True, 2.5):
        with pytest.raises(ConfigError) as info:
            get_recipe("reference").with_seeds(bad)
        assert info.value.field == "seeds"
    assert len(NG.with_seeds(9).configs()) == 288  # 4 arms × 8 settings × 9 seeds: within a study's 300
    with pytest.raises(ConfigError, match="with 10 seeds has 320 runs; at most 300"):
        NG.with_seeds(10)


def test_marks_are_the_first_arms_published_accuracies():
    assert [(m["penalty"], m["lam"], m["value"]) for m in get_recipe("reference").marks()] == [
        ("none", 0.0, 0.9188), ("l1", 1e-4, 0.8947), ("l2", 0.01, 0.8514)]
    assert [m["value"] for m in get_recipe("nielsen-l2-100").marks()] == [0.9792]  # the second arm is not drawn


# ---- every recipe through the real engine, scaled down ---------------------------------------------------

@pytest.mark.parametrize("name", sorted(RECIPES))
def test_each_recipe_runs_and_is_judged_on_synthetic_data(name, synthetic):
    recipe = (ng.build(SUITE_NOISE) if name == NG.name else get_recipe(name)).scaled(**SCALE).with_seeds(1)
    runs = []
    for arm, config in recipe.configs():
        final = train(config, synthetic)
        assert final.kind == "done", (arm, config, getattr(final, "reason", None))
        runs.append((config.to_dict(), event_to_dict(final)))
    results = recipe.evaluate(runs)
    assert len(results) == len(recipe.claims)
    for result in results:
        assert result.verdict in VERDICTS and result.quantity and result.published_text and result.ours_text
        if result.verdict != NOT_CHECKED:
            assert result.ours is not None and math.isfinite(result.ours.mean) and result.ours.n == 1
            assert "judged on the mean" in result.note or result.tolerance is not None  # one seed: said so
    if name in ("ng-irrelevant-features", "pruning-l1-vs-l2"):
        assert results[0].points  # what the recipe's own chart draws


# ---- each claim kind, from constructed outcomes ------------------------------------------------------

A = Setting("arm", "none")
B = Setting("arm", "l1", 1e-4)
C = Setting("arm", "l2", 0.01)


def test_a_value_is_reproduced_within_its_tolerance_and_never_widened():
    claim = ValueClaim("peak", 0.8227, A, metric("peak_test_accuracy"), 0.01)
    near = [record("arm", "none", 0, s, peak_test_accuracy=v) for s, v in enumerate((0.815, 0.825, 0.830))]
    far = [record("arm", "none", 0, s, peak_test_accuracy=v) for s, v in enumerate((0.80, 0.81, 0.805))]
    assert verdict(claim, near) == REPRODUCED
    result = claim.evaluate(far)
    assert result.verdict == NOT_REPRODUCED and result.tolerance == 0.01
    assert "ours − published = -1.77 points" in result.note and result.ours.n == 3
    assert verdict(claim, []) == INCONCLUSIVE
    assert verdict(ValueClaim("shown", 0.9, A, metric("test_accuracy"), None, "why"), near) == NOT_CHECKED
    other_arm = [record("elsewhere", "none", 0, 0, peak_test_accuracy=0.8227)]
    assert verdict(claim, other_arm) == INCONCLUSIVE  # runs of another arm are not this claim's


def accuracies(setting, values):
    return [record(setting.arm, setting.penalty, setting.lam, seed, test_accuracy=v) for seed, v in enumerate(values)]


def test_an_ordering_needs_every_step_and_an_interval_clear_of_zero():
    claim = OrderingClaim("none > L1 > L2", (A, B, C), metric("test_accuracy"), (0.9188, 0.8947, 0.8514))
    clear = accuracies(A, (0.97, 0.972, 0.968)) + accuracies(B, (0.95, 0.951, 0.949)) + accuracies(C, (0.90, 0.91, 0.9))
    result = claim.evaluate(clear)
    assert result.verdict == REPRODUCED and "paired 95 % interval" in result.note
    # ours: the narrowest step, none − L1, over the seeds
    assert (result.ours.mean, result.ours.sd, result.ours.n) == (pytest.approx(0.02), pytest.approx(0.001), 3)
    assert result.published_text.startswith("no penalty 91.88 % > L1 λ = 0.0001 89.47 %")
    swapped = accuracies(A, (0.97, 0.972, 0.968)) + accuracies(B, (0.90, 0.91, 0.9)) + accuracies(C, (0.95, 0.951, 0.949))
    assert verdict(claim, swapped) == NOT_REPRODUCED
    # Seed by seed L1 − L2 is +3, −3, +1 points: the interval holds 0.
    overlapping = (accuracies(A, (0.97, 0.972, 0.968)) + accuracies(B, (0.93, 0.90, 0.92))
                   + accuracies(C, (0.90, 0.93, 0.91)))
    assert verdict(claim, overlapping) == INCONCLUSIVE
    one_seed = claim.evaluate(accuracies(A, (0.97,)) + accuracies(B, (0.95,)) + accuracies(C, (0.90,)))
    assert one_seed.verdict == REPRODUCED and "1 seed: judged on the mean" in one_seed.note


def test_a_threshold_claim_reads_most_as_above_half():
    claim = ThresholdClaim("L1 sparsity", "most weights near zero", B, metric("sparsity"), 0.5)
    sparse = [record("arm", "l1", 1e-4, s, sparsity=v) for s, v in enumerate((0.60, 0.62, 0.59))]
    dense = [record("arm", "l1", 1e-4, s, sparsity=v) for s, v in enumerate((0.10, 0.12, 0.09))]
    borderline = [record("arm", "l1", 1e-4, s, sparsity=v) for s, v in enumerate((0.45, 0.58, 0.50))]
    assert (verdict(claim, sparse), verdict(claim, dense), verdict(claim, borderline)) == (
        REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE)


def ng_records(l1_errors, l2_errors, seeds=3):
    """Held-out accuracies per noise level: the best λ has the given error, the others are worse."""
    out = []
    for penalty, errors in (("l1", l1_errors), ("l2", l2_errors)):
        for k, error in zip((0, 100, 1000, 10_000), errors):
            for i, lam in enumerate(NG.claims[0].lambdas[penalty]):
                for seed in range(seeds):
                    out.append(record(arm_name(k), penalty, lam, seed,
                                      test_accuracy=1 - error - 0.05 * i + 0.002 * seed))
    return out


def test_ng_shape_is_reproduced_when_l1_grows_much_more_slowly():
    claim = NG.claims[0]
    result = claim.evaluate(ng_records((0.12, 0.12, 0.125, 0.13), (0.12, 0.13, 0.16, 0.25)))
    assert result.verdict == REPRODUCED
    assert result.ours.mean == pytest.approx(0.01)  # L1's growth, k = 0 → 10 000
    assert {p["series"] for p in result.points} == {"L1", "L2"} and len(result.points) == 8
    assert next(p for p in result.points if p["series"] == "L2" and p["x"] == 10_000)["y"] == pytest.approx(0.248)
    assert all(p["lams"] == [claim.lambdas[p["series"].lower()][0]] for p in result.points)  # the best λ was chosen
    assert verdict(claim, ng_records((0.12, 0.14, 0.18, 0.25), (0.12, 0.13, 0.16, 0.25))) == NOT_REPRODUCED
    assert verdict(claim, ng_records((0.12, 0.12, 0.12, 0.12), (0.12, 0.12, 0.12, 0.121))) == NOT_REPRODUCED
    assert verdict(claim, []) == INCONCLUSIVE


def han_records(l1_pruned, l2_pruned, l1_tuned, l2_tuned):
    """L1 at 3e-5 and L2 at 1e-3 match at 96 %; the other λ are far from each other."""
    fractions = [0.0, 0.5, 0.9]
    unpruned = {("l1", 1e-5): 0.97, ("l1", 3e-5): 0.961, ("l1", 1e-4): 0.93,
                ("l2", 1e-4): 0.975, ("l2", 1e-3): 0.96, ("l2", 1e-2): 0.90}
    at_90 = {"l1": (l1_pruned, l1_tuned), "l2": (l2_pruned, l2_tuned)}
    out = []
    for (penalty, lam), acc in unpruned.items():
        for seed in range(3):
            pruned, tuned = at_90[penalty]
            curve = lambda last: {"fractions": fractions, "accuracy": {"global": [acc, acc, last + 0.001 * seed]}}  # noqa: E731
            out.append(record("784-200-10", penalty, lam, seed, test_accuracy=acc + 0.001 * seed,
                              pruning=curve(pruned), pruning_fine_tuned=curve(tuned)))
    return out


def test_han_compares_the_matched_pair_without_and_with_the_fine_tune():
    without, tuned = HAN.claims
    records = han_records(l1_pruned=0.80, l2_pruned=0.40, l1_tuned=0.93, l2_tuned=0.95)
    result = without.evaluate(records)
    assert result.verdict == REPRODUCED and "L1 λ = 3e-05 − L2 λ = 0.001 = +0.10 points" in result.note
    assert result.ours.mean == pytest.approx(0.40)
    assert tuned.evaluate(records).verdict == REPRODUCED
    assert without.evaluate(han_records(0.40, 0.80, 0.93, 0.95)).verdict == NOT_REPRODUCED
    assert tuned.evaluate(han_records(0.80, 0.40, 0.95, 0.93)).verdict == NOT_REPRODUCED
    assert without.evaluate([]).verdict == INCONCLUSIVE
