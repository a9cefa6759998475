"""``normlab recipe list|run`` on a recipe scaled down to synthetic data, and the new training flags."""
import json

import pytest

from app.cli import main
from engine.recipes import RECIPES, VERDICTS

SCALED = ["--dataset", "synthetic", "--train-size", "200", "--epochs", "1"]


def json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_list_names_every_recipe_in_text_and_json(capsys):
    assert main(["recipe", "list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in RECIPES) and "version" in out
    assert main(["recipe", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in listed] == list(RECIPES)
    nielsen = next(r for r in listed if r["name"] == "nielsen-overfitting")
    assert [c["published"] for c in nielsen["claims"][:2]] == [0.8227, 0.871]
    assert "tops out at just 82.27 percent" in nielsen["source"][0]["quote"]


def test_run_json_gives_every_run_then_the_verdicts(capsys):
    assert main(["recipe", "run", "reference", *SCALED, "--seeds", "1", "--json"]) == 0
    records = json_lines(capsys.readouterr().out)
    runs, last = records[:-1], records[-1]
    assert len(runs) == 3 and all(r["event"] == "done" and r["arm"] == "reference" for r in runs)
    assert [r["run"] for r in runs] == ["none", "L2 λ=0.01", "L1 λ=1e-4"] and {r["seed"] for r in runs} == {0}
    assert "first_layer" not in runs[0] and isinstance(runs[0]["peak_test_accuracy"], float)
    assert last["event"] == "recipe" and last["name"] == "reference" and last["version"] == 1
    assert last["seeds"] == 1 and last["scale"] == {"dataset": "synthetic", "train_size": 200, "epochs": 1}
    assert len(last["claims"]) == 5 and last["minutes"] >= 0
    ordering, sparsity, *values = last["claims"]
    assert all(c["verdict"] in VERDICTS for c in last["claims"])
    assert ordering["published_text"].startswith("no penalty 91.88 %") and "judged on the mean" in ordering["note"]
    assert sparsity["ours"]["n"] == 1 and sparsity["tolerance"] is None
    assert [v["published"] for v in values] == [0.9188, 0.8947, 0.8514]
    assert all(v["verdict"] == "not checked" and v["ours"]["n"] == 1 for v in values)


def test_run_text_prints_the_table_the_notes_and_the_minutes(capsys):
    assert main(["recipe", "run", "nielsen-overfitting", *SCALED, "--seeds", "1", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "[1/2] 1 000 images, 400 epochs · none seed 0: test acc" in out and "(peak " in out
    header = next(line for line in out.splitlines() if line.startswith("quantity"))
    assert all(column in header for column in ("published", "ours (mean ± sd over seeds)", "tolerance", "verdict"))
    assert "82.27 %" in out and "87.10 %" in out and "± 1 points" in out
    assert "his λ = 0.1 over n = 1 000 images is normlab's L2 λ = 0.1 / 1 000 = 1e-4" in out
    assert "his output layer is sigmoid units with cross-entropy, ours softmax" in out
    assert "say nothing about the published figures" in out and "minutes" in out


@pytest.mark.parametrize("argv, message", [
    (["recipe", "run", "nope"], "unknown recipe 'nope'; choose one of reference"),
    (["recipe", "run", "reference", "--seeds", "0"], "--seeds: must be a whole number from 1 to 10"),
    (["recipe", "run", "reference", "--train-size", "0"], "--train-size: must be from 1 to 60000"),
    (["recipe", "run", "nielsen-l2-100", "--train-size", "50001"], "--train-size: must be at most 50,000"),
    (["recipe"], "ACTION"),
])
def test_bad_recipe_flags_exit_2_naming_the_flag(capsys, argv, message):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2 and message in capsys.readouterr().err


def test_train_takes_the_recipe_settings(capsys):
    flags = ["--dataset", "synthetic", "--train-size", "200", "--epochs", "1", "--batch-size", "50", "--lr", "0.02"]
    assert main(["train", *flags, "--hidden", "0", "--noise-features", "20", "--subset", "first", "--json"]) == 0
    done = json_lines(capsys.readouterr().out)[-1]
    assert done["event"] == "done" and len(done["unit_norms"]) == 10 and done["dead_units"] == 0
    with pytest.raises(SystemExit):
        main(["train", *flags, "--test-split", "holdout"])
    assert "--test-split: invalid choice" in capsys.readouterr().err
