"""The normlab command line on small synthetic runs."""
import json
import re
import subprocess
import sys

import pytest

from app.cli import main

SMALL = ["--dataset", "synthetic", "--train-size", "300", "--epochs", "2", "--hidden", "16", "--batch-size", "50"]


def json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_train_json_lines(capsys):
    assert main(["train", *SMALL, "--penalty", "l2", "--lam", "0.01", "--json"]) == 0
    records = json_lines(capsys.readouterr().out)
    epochs, last = records[:-1], records[-1]
    assert [r["epoch"] for r in epochs] == [1, 2]
    for r in epochs:
        assert r["event"] == "epoch"
        for key in ("seconds", "train_seconds", "train_loss", "data_loss", "penalty", "test_accuracy", "sparsity"):
            assert isinstance(r[key], float), key
        assert r["train_loss"] == pytest.approx(r["data_loss"] + r["penalty"])
        assert r["penalty"] > 0
    assert last["event"] == "done" and 0 <= last["test_accuracy"] <= 1 and last["seconds"] > 0


def test_train_text_prints_one_line_per_epoch(capsys):
    assert main(["train", *SMALL, "--regular", "l1(lambd=1e-4)", "--optimizer", "sgd(lr=0.2)"]) == 0
    out = capsys.readouterr().out
    assert "L1 λ=1e-4" in out
    assert out.count("[Epoch ") == 2 and "[Epoch 2/2] loss" in out and "test acc" in out
    assert "done: test accuracy" in out


def test_the_epoch_line_writes_the_loss_change_with_its_own_sign(capsys):
    assert main(["train", *SMALL, "--epochs", "3", "--lr", "0.5"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("[Epoch ")]
    losses = [float(re.search(r"loss (\d+\.\d+)", line).group(1)) for line in lines]
    assert "since epoch" not in lines[0]
    for before, line, loss in zip(losses, lines[1:], losses[1:]):
        change = re.search(r"\(([+−±])(\d+\.\d{3}) since epoch", line)
        assert change, line
        sign, size = change.groups()
        assert sign == ("−" if loss < before else "+") and float(size) == pytest.approx(abs(loss - before), abs=2e-3)


def test_regular_spec_is_parsed_not_evaluated(capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", *SMALL, "--regular", "__import__('os').system('echo pwned')"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "--regular" in err and "pwned" not in capsys.readouterr().out


@pytest.mark.parametrize("flags, message", [
    (["--hidden", "-1"], "--hidden: must be from 0 to 4096, got -1"),
    (["--noise-features", "10001"], "--noise-features: must be from 0 to 10000, got 10001"),
    (["--lr", "nan"], "--lr: must be a finite number"),
    (["--penalty", "l2"], "--lam is required with --penalty l2"),
    (["--lam", "0.01"], "--lam: is only used with a penalty: add --penalty"),  # not a run without one
    (["--penalty", "l1", "--lam", "0.01", "--lam-l2", "0.1"], "--lam-l2: is only used with the elastic net"),
    (["--regular", "l3(lambd=1)"], "--regular: unknown name 'l3'"),
    (["--regular", "l2(lambd=0.1)", "--penalty", "l1"], "either --regular or --penalty"),
    (["--optimizer", "adam(lr=0.1)"], "--optimizer: unknown name 'adam'"),
    (["--optimizer", "sgd(beta=0.1)"], "--optimizer: unknown argument 'beta'"),
])
def test_bad_flags_exit_2_with_a_clear_message(capsys, flags, message):
    with pytest.raises(SystemExit) as info:
        main(["train", *SMALL, *flags])
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_diverging_run_exits_non_zero_with_reason(capsys):
    assert main(["train", *SMALL, "--lr", "1000", "--activation", "relu", "--json"]) == 1
    last = json_lines(capsys.readouterr().out)[-1]
    assert last["event"] == "failed" and "diverged" in last["reason"]


def test_compare_prints_the_three_settings(capsys):
    assert main(["compare", *SMALL]) == 0
    out = capsys.readouterr().out
    table = out[out.rindex("penalty"):]
    assert "none" in table and "L2 λ=0.01" in table and "L1 λ=1e-4" in table
    assert table.count("done") == 3


def test_data_command_reports_source_and_checksum(capsys):
    assert main(["data", "--dataset", "synthetic"]) == 0
    out = capsys.readouterr().out
    assert "60000 train / 10000 test" in out and "sha256" in out


def test_console_script_entry_point_runs():
    result = subprocess.run([sys.executable, "-m", "app.cli", "train", *SMALL, "--json"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json_lines(result.stdout)[-1]["event"] == "done"
