"""Paired statistics against values computed independently: closed forms, tables, enumeration, simulation."""
import itertools
import json
import math

import numpy as np
import pytest
from scipy import stats

from engine.comparisons import (
    NO_TEST_NOTE,
    compare_settings,
    compare_to_baseline,
    holm,
    paired_comparison,
    paired_phrase,
    paired_t_power,
    seeds_needed,
    with_holm,
)
from engine.events import to_jsonable
from engine.studies import aggregate, best_setting

L1 = ("l1", 1e-4)


def compare(setting_values, baseline_values):
    return paired_comparison(dict(enumerate(setting_values)), dict(enumerate(baseline_values)), setting=L1)


def t3_cdf(t):
    """Student's t CDF with 3 degrees of freedom, in closed form."""
    x = t / math.sqrt(3)
    return 0.5 + (x / (1 + x * x) + math.atan(x)) / math.pi


def test_paired_t_interval_and_p_value_by_hand():
    baseline = [0.90, 0.91, 0.92, 0.93]
    setting = [0.91, 0.94, 0.94, 0.97]  # differences 0.01, 0.03, 0.02, 0.04
    c = compare(setting, baseline)
    assert c.testable and c.n_pairs == 4 and c.differences == (0.01, 0.03, 0.02, 0.04)
    sd = math.sqrt(5e-4 / 3)  # squared deviations from 0.025: 2.25e-4 + 2.5e-5 + 2.5e-5 + 2.25e-4
    half = 3.182446305284263 * sd / 2  # t(0.975, df 3) from the table
    assert c.mean_diff == pytest.approx(0.025) and c.sd_diff == pytest.approx(sd)
    assert c.ci95_paired == pytest.approx((0.025 - half, 0.025 + half))
    assert c.p_ttest == pytest.approx(2 * (1 - t3_cdf(0.025 / (sd / 2))))
    assert c.p_holm == c.p_ttest  # one comparison on its own: nothing to correct


def test_unpaired_interval_is_welchs():
    baseline = [0.90, 0.91, 0.92, 0.93]
    setting = [0.91, 0.94, 0.94, 0.97]
    c = compare(setting, baseline)
    va, vb = np.var(setting, ddof=1) / 4, np.var(baseline, ddof=1) / 4
    df = (va + vb) ** 2 / (va**2 / 3 + vb**2 / 3)  # Welch–Satterthwaite
    half = stats.t.ppf(0.975, df) * math.sqrt(va + vb)
    assert c.ci95_unpaired == pytest.approx((0.025 - half, 0.025 + half))
    # pairing removes the seed-to-seed spread the two groups share: only the paired interval excludes 0
    assert c.ci95_paired[0] > 0 > c.ci95_unpaired[0]


def test_bootstrap_is_repeatable_and_sensible():
    baseline = [0.90, 0.91, 0.92, 0.93, 0.95]
    setting = [0.91, 0.94, 0.94, 0.97, 0.96]
    a, b = compare(setting, baseline), compare(setting, baseline)
    assert a.ci95_bootstrap == b.ci95_bootstrap
    low, high = a.ci95_bootstrap
    d = np.array(a.differences)
    assert d.min() <= low < a.mean_diff < high <= d.max()
    # against a percentile bootstrap written out here (another generator): close, not equal
    rng = np.random.default_rng(99)
    means = d[rng.integers(0, len(d), (20_000, len(d)))].mean(axis=1)
    assert (low, high) == pytest.approx(tuple(np.percentile(means, [2.5, 97.5])), abs=0.002)


def enumerated_wilcoxon(d):
    """Two-sided signed-rank p by enumerating every sign flip; zeros keep half their rank on each side."""
    d = np.asarray(d, dtype=float)
    ranks = stats.rankdata(np.abs(d))  # midranks for ties
    zero_half = ranks[d == 0].sum() / 2
    nonzero = ranks[d != 0]
    observed = ranks[d > 0].sum() + zero_half
    sums = np.array([zero_half + sum(r for r, s in zip(nonzero, signs) if s)
                     for signs in itertools.product((0, 1), repeat=len(nonzero))])
    return min(1.0, 2 * min(np.mean(sums <= observed + 1e-9), np.mean(sums >= observed - 1e-9)))


@pytest.mark.parametrize("differences, expected", [
    ([0.01, 0.02, 0.03, 0.04, 0.05, 0.06], 2 / 64),  # the table: n = 6, W = 0
    ([-0.01, 0.02, -0.03, 0.04, 0.05, 0.06, 0.07, 0.08], 2 * 7 / 256),  # n = 8, W = 4
    ([0.01, 0.02, 0.03], 0.25),  # 3 seeds can never reach 0.05
    ([0.0, 0.0, 0.0], 1.0),  # no difference at all
])
def test_wilcoxon_against_table_values(differences, expected):
    c = compare(differences, [0.0] * len(differences))
    assert c.p_wilcoxon == pytest.approx(expected)


@pytest.mark.parametrize("differences", [
    [0.0, 0.01, 0.01, -0.02, 0.03, 0.03, 0.04],  # a zero and two ties
    [0.0, 0.0, 0.01, -0.01, 0.02, 0.02, 0.03],
    [0.01, 0.01, -0.01, 0.02, 0.03],
    [0.0, 0.0, 0.02],
])
def test_wilcoxon_with_ties_and_zeros_is_the_enumerated_exact_p(differences):
    c = compare(differences, [0.0] * len(differences))
    assert c.p_wilcoxon == pytest.approx(enumerated_wilcoxon(differences))


def test_equal_differences_from_different_accuracies_tie_exactly():
    # 0.93 − 0.92 and 0.92 − 0.91 differ in the last bits as floats; as ranks they must tie
    c = compare([0.93, 0.92, 0.95, 0.90], [0.92, 0.91, 0.93, 0.90])
    assert c.differences == (0.01, 0.01, 0.02, 0.0)
    assert c.p_wilcoxon == pytest.approx(enumerated_wilcoxon([0.01, 0.01, 0.02, 0.0]))


def test_identical_differences_on_every_seed():
    same = compare([0.92, 0.93, 0.94], [0.92, 0.93, 0.94])
    assert same.mean_diff == 0 and same.ci95_paired == (0.0, 0.0) and same.p_ttest == 1.0
    shifted = compare([0.93, 0.94, 0.95], [0.92, 0.93, 0.94])
    assert shifted.ci95_paired == (0.01, 0.01) and shifted.p_ttest == 0.0 and shifted.ci95_bootstrap == (0.01, 0.01)
    json.dumps(to_jsonable(shifted), allow_nan=False)


@pytest.mark.parametrize("n", [0, 1, 2])
def test_fewer_than_three_seeds_give_no_numbers(n):
    c = compare([0.9, 0.8][:n], [0.95, 0.9][:n])
    assert not c.testable and c.note == NO_TEST_NOTE and c.n_pairs == n
    numbers = (c.mean_diff, c.sd_diff, c.ci95_paired, c.ci95_bootstrap, c.ci95_unpaired, c.p_ttest, c.p_wilcoxon,
               c.p_holm)
    assert all(v is None for v in numbers)
    assert "no test is possible" in paired_phrase(c)


def test_holm_on_a_fixed_list():
    # sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04 → running max 0.06 for the last
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.6]) == [1.0, 1.0] and holm([]) == []


def rows(setting, values, seeds=None):
    return [{"penalty": setting[0], "lam": setting[1], "seed": s, "test_accuracy": v}
            for s, v in zip(seeds or range(len(values)), values)]


def test_study_comparisons_pair_by_seed_and_correct_across_settings():
    study = (rows(("none", 0.0), [0.91, 0.92, 0.93, 0.90])
             + rows(L1, [0.89, 0.905, 0.91, 0.95], seeds=[0, 1, 2, 9])  # seed 9 has no baseline: unpaired
             + rows(("l2", 0.01), [0.85, 0.87, 0.86, 0.84])
             + rows(("l2", 0.1), [0.5, 0.6])  # two seeds: not testable, left out of the correction
             + [{"penalty": "l1", "lam": 1e-3, "seed": 0}])  # a run that did not finish: no value
    comparisons = compare_to_baseline(study)
    by_setting = {(c.penalty, c.lam): c for c in comparisons}
    assert set(by_setting) == {L1, ("l2", 0.01), ("l2", 0.1)}
    l1, l2 = by_setting[L1], by_setting[("l2", 0.01)]
    assert l1.seeds == (0, 1, 2) and l1.differences == (-0.02, -0.015, -0.02)
    assert l2.n_pairs == 4 and not by_setting[("l2", 0.1)].testable and by_setting[("l2", 0.1)].p_holm is None
    assert [l1.p_holm, l2.p_holm] == pytest.approx(holm([l1.p_ttest, l2.p_ttest]))
    assert compare_to_baseline(rows(L1, [0.9, 0.9, 0.9])) == []  # no baseline runs


def test_any_two_settings_can_be_compared():
    study = rows(L1, [0.90, 0.91, 0.92]) + rows(("l2", 0.01), [0.85, 0.87, 0.86])
    c = compare_settings(study, ("l2", 0.01), L1)
    assert (c.penalty, c.lam, c.baseline_penalty, c.baseline_lam) == ("l2", 0.01, "l1", 1e-4)
    assert c.differences == (-0.05, -0.04, -0.06) and c.p_holm == c.p_ttest
    assert "against L1 λ=1e-4" in paired_phrase(c)


def test_with_holm_leaves_untestable_comparisons_alone():
    a = compare([0.9, 0.91, 0.93], [0.92, 0.93, 0.95])
    b = compare([0.9], [0.8])
    assert with_holm([a, b]) == [a, b]  # one testable comparison: Holm changes nothing


def test_seeds_needed_matches_the_published_value():
    # paired (one-sample) t, two-sided α = 0.05, power 0.8: d = 0.5 needs 34 (G*Power, actual power 0.8078)
    assert seeds_needed(sd_diff=1.0, effect=0.5) == 34
    assert paired_t_power(34, 0.5, 1.0) == pytest.approx(0.8078, abs=1e-4)
    assert seeds_needed(sd_diff=0.004, effect=0.004) == 10 and seeds_needed(0.01, -0.008) == 15
    assert seeds_needed(0.0, 0.01) == 3 and seeds_needed(1.0, 1e-4, max_seeds=1000) is None


def test_seeds_needed_agrees_with_a_simulation():
    n = seeds_needed(sd_diff=0.01, effect=0.01)  # d = 1: 10 seeds
    rng = np.random.default_rng(5)
    d = rng.normal(0.01, 0.01, size=(20_000, n))
    t = d.mean(axis=1) / (d.std(axis=1, ddof=1) / math.sqrt(n))
    simulated = np.mean(np.abs(t) > stats.t.ppf(0.975, n - 1))
    assert simulated >= 0.8 - 0.01
    d = d[:, : n - 1]  # one seed fewer falls short
    t = d.mean(axis=1) / (d.std(axis=1, ddof=1) / math.sqrt(n - 1))
    assert np.mean(np.abs(t) > stats.t.ppf(0.975, n - 2)) < 0.8


@pytest.mark.parametrize("kwargs, field", [
    ({"sd_diff": -1.0, "effect": 0.1}, "sd_diff"), ({"sd_diff": float("nan"), "effect": 0.1}, "sd_diff"),
    ({"sd_diff": 1.0, "effect": 0.0}, "effect"), ({"sd_diff": 1.0, "effect": 0.1, "alpha": 1.0}, "alpha"),
    ({"sd_diff": 1.0, "effect": 0.1, "power": 0.0}, "power"), ({"sd_diff": 1.0, "effect": "big"}, "effect"),
])
def test_seeds_needed_refuses_bad_arguments_by_name(kwargs, field):
    with pytest.raises(ValueError, match=f"^{field}:"):
        seeds_needed(**kwargs)


def test_verdict_uses_the_paired_interval():
    study = rows(("none", 0.0), [0.91, 0.92, 0.93]) + rows(L1, [0.89, 0.905, 0.91])
    summaries = aggregate(study)
    verdict = best_setting(summaries, exclude_baseline=True, comparisons=compare_to_baseline(study))
    c = verdict.comparison
    low, high = -c.ci95_paired[1] * 100, -c.ci95_paired[0] * 100
    # the pages' conventions: λ as 1e-4, accuracy in percent with 2 decimals, differences in percentage points
    assert verdict.sentence() == (f"best: l1 λ=1e-4, test accuracy 90.17 %; it costs 1.83 pp against no penalty "
                                  f"(95 % CI {low:.2f} to {high:.2f} pp, paired over 3 seeds; p = {c.p_holm:.2g}, "
                                  f"Holm-corrected)")
    assert "seed-to-seed spread" not in verdict.sentence()
    assert to_jsonable(verdict)["comparison"]["n_pairs"] == 3
    # without comparisons the older reading still works for callers that have none
    assert "seed-to-seed spread" in best_setting(summaries, exclude_baseline=True).sentence()
