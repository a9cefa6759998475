"""Study expansion, validation and aggregation on fabricated results."""
import pytest

from engine import ConfigError, RunConfig
from engine.studies import MAX_RUNS, StudySpec, aggregate, best_setting, log_range, regularisation_path, run_metrics


def test_expansion_pairs_settings_by_seed():
    spec = StudySpec(("none", "l1", "l2"), (1e-3, 1e-2), 2, RunConfig(hidden=32, seed=10))
    configs = spec.configs()
    assert len(configs) == 2 * (1 + 2 + 2)
    assert {c.seed for c in configs} == {10, 11}
    assert all(c.hidden == 32 for c in configs)
    seed_10 = [(c.penalty, c.lam) for c in configs if c.seed == 10]
    assert seed_10 == [("none", 0.0), ("l1", 1e-3), ("l1", 1e-2), ("l2", 1e-3), ("l2", 1e-2)]


def test_per_penalty_lambdas_and_elastic():
    spec = StudySpec(("none", "l2", "l1", "elastic"), (0.5,), 1, lams_by_penalty={"l2": (0.01,), "l1": (1e-4,)})
    assert spec.settings() == [("none", 0.0), ("l2", 0.01), ("l1", 1e-4), ("elastic", 0.5)]
    elastic = spec.configs()[-1]
    assert (elastic.lam, elastic.lam_l2) == (0.5, 0.5)


@pytest.mark.parametrize("kwargs, field, message", [
    ({"penalties": ()}, "penalties", "at least one"),
    ({"penalties": ("l3",)}, "penalties", "must be among"),
    ({"penalties": ("l1", "l1")}, "penalties", "twice"),
    ({"lams": ()}, "lams", "at least one λ"),
    ({"lams": (0.0,)}, "lams", "above 0"),
    ({"lams": (float("nan"),)}, "lams", "above 0"),
    ({"lams": tuple(10.0 ** -k for k in range(1, 25))}, "lams", "at most 20"),
    ({"seeds": 0}, "seeds", "from 1 to 10"),
    ({"seeds": 10, "penalties": ("none", "l1", "l2"), "lams": tuple(k / 10 for k in range(1, 21))}, "seeds",
     f"at most {MAX_RUNS}"),
])
def test_validation_names_the_field(kwargs, field, message):
    args = {"penalties": ("none", "l1"), "lams": (1e-3,), "seeds": 1, **kwargs}
    with pytest.raises(ConfigError, match=message) as info:
        StudySpec(**args)
    assert info.value.field == field


def test_log_range():
    assert log_range(1e-5, 1e-1, 5) == (1e-5, 1e-4, 1e-3, 1e-2, 1e-1)
    assert log_range(0.01, 0.01, 1) == (0.01,)
    with pytest.raises(ConfigError):
        log_range(0, 1, 3)
    with pytest.raises(ConfigError):
        log_range(1e-3, 1e-1, 0)


def fabricated():
    return [
        {"penalty": "none", "lam": 0.0, "test_accuracy": 0.90, "sparsity": 0.01},
        {"penalty": "none", "lam": 0.0, "test_accuracy": 0.92, "sparsity": 0.01},
        {"penalty": "l1", "lam": 1e-4, "test_accuracy": 0.95, "sparsity": 0.30},
        {"penalty": "l1", "lam": 1e-4, "test_accuracy": 0.97, "sparsity": 0.50},
        {"penalty": "l2", "lam": 0.01, "test_accuracy": 0.85},
    ]


def test_aggregate_mean_and_spread():
    summaries = aggregate(fabricated())
    assert [(s.penalty, s.lam, s.runs) for s in summaries] == [("none", 0.0, 2), ("l1", 1e-4, 2), ("l2", 0.01, 1)]
    l1 = summaries[1].metrics
    assert l1["test_accuracy"].mean == pytest.approx(0.96)
    assert l1["test_accuracy"].std == pytest.approx(0.0141421356)  # sample sd of 0.95, 0.97
    assert (l1["sparsity"].low, l1["sparsity"].high) == (0.30, 0.50)
    assert summaries[2].metrics["test_accuracy"].std == 0.0 and summaries[2].metrics["sparsity"] is None


def test_best_setting_against_baseline():
    verdict = best_setting(aggregate(fabricated()))
    assert (verdict.penalty, verdict.lam) == ("l1", 1e-4)
    assert verdict.difference == pytest.approx(0.05) and verdict.exceeds_spread is True
    assert "larger than the seed-to-seed spread" in verdict.sentence()
    close = fabricated()[:2] + [{"penalty": "l1", "lam": 1e-4, "test_accuracy": v} for v in (0.90, 0.93)]
    verdict = best_setting(aggregate(close))
    assert verdict.exceeds_spread is False and "not larger" in verdict.sentence()
    assert best_setting([]) is None


def test_run_metrics_from_final_event():
    settings = RunConfig(penalty="l1", lam=1e-3).to_dict()
    row = run_metrics(settings, {"event": "done", "test_accuracy": 0.9, "train_accuracy": 0.95, "sparsity": 0.2,
                                 "l1_norm": 10.0, "l2_norm": 2.0, "seconds": 3.0})
    assert row["gap"] == pytest.approx(0.05) and row["l1_norm"] == 10.0 and row["penalty"] == "l1"
    assert "test_accuracy" not in run_metrics(settings, {"event": "failed", "reason": "x"})


def test_a_lambda_past_the_float_range_is_refused_naming_lams():
    with pytest.raises(ConfigError) as caught:
        StudySpec(("l1",), (10**400,), 1, RunConfig())
    assert caught.value.field == "lams"


def test_run_metrics_carry_the_weight_insights():
    settings = RunConfig(penalty="l1", lam=1e-3).to_dict()
    final = {"event": "done", "test_accuracy": 0.9, "active_weights": 1200, "dead_inputs": 80,
             "pruning": {"prunable_fraction": {"global": 0.7, "first_layer": 0.8}}}
    row = run_metrics(settings, final)
    assert (row["active_weights"], row["dead_inputs"], row["prunable_fraction"]) == (1200, 80, 0.7)
    assert "prunable_fraction" not in run_metrics(settings, {"event": "done", "test_accuracy": 0.9})  # an older run
    summary = aggregate([row, run_metrics(settings, final | {"active_weights": 1000})])[0]
    assert summary.metrics["active_weights"].mean == 1100 and summary.metrics["prunable_fraction"].mean == 0.7


def test_regularisation_path_averages_sorted_norms_rank_by_rank():
    def run(penalty, lam, norms, active):
        return RunConfig(penalty=penalty, lam=lam).to_dict(), {"event": "done", "unit_norms": norms,
                                                               "active_weights": active}

    path = regularisation_path([
        run("l1", 1e-2, [3.0, 1.0, 0.0], 10), run("l1", 1e-2, [5.0, 1.0, 0.5], 20),
        run("l1", 1e-3, [6.0, 4.0, 2.0], 50), run("none", 0.0, [7.0, 5.0, 3.0], 60),
        (RunConfig(penalty="l1", lam=1e-3).to_dict(), {"event": "failed", "reason": "diverged"}),
        (RunConfig(penalty="l2", lam=1e-3).to_dict(), {"event": "done", "test_accuracy": 0.9}),  # no unit_norms
    ])
    assert [(p.penalty, p.lam, p.runs) for p in path] == [("none", 0.0, 1), ("l1", 1e-3, 1), ("l1", 1e-2, 2)]
    assert path[2].unit_norms == (4.0, 1.0, 0.25) and path[2].active_weights.mean == 15
