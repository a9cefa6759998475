"""What ``normlab train`` and ``normlab sweep`` say about a run's weights and a study's paired differences."""
import json

import pytest

from app.cli import main
from engine.comparisons import seeds_needed

SMALL = ["--dataset", "synthetic", "--train-size", "300", "--epochs", "1", "--hidden", "8", "--batch-size", "50"]
SWEEP = ["sweep", *SMALL, "--penalties", "none,l1", "--lams", "1e-3,3e-2", "--workers", "1"]


def json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_train_json_final_object_carries_the_pruning_curve(capsys):
    assert main(["train", *SMALL, "--penalty", "l1", "--lam", "0.01", "--prune-fine-tune-steps", "3", "--json"]) == 0
    done = json_lines(capsys.readouterr().out)[-1]
    assert done["event"] == "done"
    pruning = done["pruning"]
    assert set(pruning) == {"fractions", "accuracy", "prunable_fraction"}
    assert set(pruning["accuracy"]) == set(pruning["prunable_fraction"]) == {"global", "first_layer"}
    assert len(pruning["accuracy"]["global"]) == len(pruning["fractions"]) == 13
    assert done["pruning_fine_tuned"]["steps"] == 3
    assert len(done["input_importance"]) == 784 and isinstance(done["dead_inputs"], int)
    assert done["prior_fit"]["all"]["better"] in ("gaussian", "laplace")


def test_train_text_ends_with_what_the_weights_show(capsys):
    assert main(["train", *SMALL, "--penalty", "l1", "--lam", "0.01", "--prune-fine-tune-steps", "3"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-5].startswith("done: test accuracy")
    assert lines[-4].startswith("pruning: ") and "of the weights can be set to zero within one point" in lines[-4]
    assert "(first layer alone: " in lines[-4]
    assert lines[-3].startswith("pruning: ") and "after fine-tuning 3 steps per point" in lines[-3]
    assert lines[-2].startswith("inputs: ") and " of 784 dead" in lines[-2] and " of 6352 weights active" in lines[-2]
    assert lines[-1].startswith("prior: the weights fit a ")


def test_train_without_fine_tune_has_no_fine_tuned_line(capsys):
    assert main(["train", *SMALL]) == 0
    out = capsys.readouterr().out
    assert out.count("pruning: ") == 1 and "after fine-tuning" not in out


def test_sweep_prints_the_paired_comparisons_and_the_paired_verdict(capsys):
    assert main([*SWEEP, "--seeds", "3", "--effect", "0.02"]) == 0
    out = capsys.readouterr().out
    table = out[out.index("paired with no penalty, seed by seed"):]
    header = table.splitlines()[1]
    for column in ("setting", "n", "mean diff", "95% CI paired", "bootstrap CI", "unpaired CI", "p t-test",
                   "p Wilcoxon", "p Holm", "seeds for 2 pt"):
        assert column in header
    rows = table.splitlines()[3:5]
    assert rows[0].startswith("l1 λ=0.001  3  ") and rows[1].startswith("l1 λ=0.03   3  ")
    assert "best:" in out and "seed-to-seed spread" not in out


def test_sweep_with_two_seeds_says_no_test_is_possible(capsys):
    assert main([*SWEEP, "--seeds", "2"]) == 0
    out = capsys.readouterr().out
    assert "l1 λ=0.001: no test possible with fewer than 3 seeds (2 paired)" in out
    assert "l1 λ=0.03: no test possible with fewer than 3 seeds (2 paired)" in out
    assert "p t-test" not in out


def test_sweep_json_adds_the_comparisons(capsys):
    assert main([*SWEEP, "--seeds", "3", "--json", "--effect", "0.05"]) == 0
    study = json_lines(capsys.readouterr().out)[-1]
    assert study["event"] == "study"
    assert study["power_analysis"] == {"metric": "test_accuracy", "effect": 0.05, "alpha": 0.05, "power": 0.8}
    comparisons = study["comparisons"]
    assert [(c["penalty"], c["lam"], c["n_pairs"]) for c in comparisons] == [("l1", 1e-3, 3), ("l1", 3e-2, 3)]
    for c in comparisons:
        assert c["testable"] and len(c["ci95_paired"]) == 2 and c["p_holm"] >= c["p_ttest"]
        assert c["seeds_needed"] == seeds_needed(c["sd_diff"], 0.05)


def test_sweep_without_no_penalty_has_nothing_to_pair_with(capsys):
    assert main(["sweep", *SMALL, "--penalties", "l1", "--lams", "1e-3", "--seeds", "3", "--workers", "1"]) == 0
    assert "paired comparisons: none (the study has no finished no-penalty runs to pair with)" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    ([*SWEEP, "--effect", "0"], "--effect: must be a number above 0 and at most 1"),
    ([*SWEEP, "--effect", "lots"], "--effect: must be a number above 0 and at most 1"),
    (["train", *SMALL, "--prune-fine-tune-steps", "1001"], "--prune-fine-tune-steps: must be from 0 to 1000, got 1001"),
    (["train", *SMALL, "--prune-fine-tune-steps", "800", "--train-size", "1000", "--batch-size", "1000"],
     "--prune-fine-tune-steps: prune_fine_tune_steps × batch_size × 26 must be at most 20,000,000"),
])
def test_bad_flags_are_named(capsys, argv, message):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err
