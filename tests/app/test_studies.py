"""Studies through the API and the CLI, with tiny synthetic runs."""
import csv
import io
import json

import pytest

from app.cli import main
from app.cores import usable_cores

from .conftest import TINY, wait_finished, wait_for


def test_study_runs_through_the_queue_and_aggregates(client):
    body = {"name": "tiny sweep", "penalties": ["none", "l1"], "lams": [1e-3, 1e-2], "seeds": 2, "settings": TINY}
    response = client.post("/api/studies", json=body)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert len(created["runs"]) == 2 * 3
    for run_id in created["runs"]:
        assert wait_finished(client, run_id)["status"] == "completed"
    study = client.get(f"/api/studies/{created['id']}").get_json()
    assert study["name"] == "tiny sweep" and study["counts"] == {"completed": 6}
    assert [(s["penalty"], s["lam"], s["runs"]) for s in study["settings"]] == [
        ("none", 0.0, 2), ("l1", 1e-3, 2), ("l1", 1e-2, 2)]
    acc = study["settings"][1]["metrics"]["test_accuracy"]
    values = [r["metrics"]["test_accuracy"] for r in study["runs"] if r["settings"]["lam"] == 1e-3]
    assert acc["mean"] == pytest.approx(sum(values) / 2) and acc["n"] == 2
    assert study["best"]["penalty"] in ("none", "l1") and study["verdict"].startswith("best:")
    assert all(r["study"] == created["id"] for r in study["runs"])
    rows = list(csv.DictReader(io.StringIO(client.get(f"/api/studies/{created['id']}.csv").get_data(as_text=True))))
    assert len(rows) == 6 and {r["seed"] for r in rows} == {"0", "1"} and all(r["test_accuracy"] for r in rows)


def test_paired_runs_share_initial_weights(client):
    created = client.post("/api/studies", json={"penalties": ["none", "l2"], "lams": [0.1], "seeds": 1,
                                                "settings": TINY}).get_json()
    starts = []
    for run_id in created["runs"]:
        wait_finished(client, run_id)
        starts.append(client.get(f"/api/runs/{run_id}/metrics").get_json()["start"])
    assert starts[0]["init_checksum"] == starts[1]["init_checksum"]
    assert starts[0]["subset_checksum"] == starts[1]["subset_checksum"]


@pytest.mark.parametrize("body, field", [
    ({"penalties": ["l4"]}, "penalties"),
    ({"penalties": "l1"}, "penalties"),
    ({"lams": [-1]}, "lams"),
    ({"lams": "1e-3"}, "lams"),
    ({"lam_range": {"low": 1e-5, "high": 1e-1}}, "lam_range"),
    ({"lam_range": {"low": 1, "high": 0.1, "count": 3}}, "lam_range"),
    ({"seeds": 11}, "seeds"),
    ({"seeds": True}, "seeds"),
    ({"settings": {"hidden": -1}}, "hidden"),
    ({"name": ""}, "name"),
    ({"surprise": 1}, "surprise"),
])
def test_bad_study_bodies(client, body, field):
    response = client.post("/api/studies", json=body)
    assert response.status_code == 400 and response.get_json()["field"] == field
    assert client.get("/api/studies").get_json() == [] and client.get("/api/runs").get_json() == []


def test_presets_and_unknown_study(client):
    presets = client.get("/api/studies/presets").get_json()
    assert presets["seed"]["lams"] == {"l2": [0.01], "l1": [1e-4]}
    assert presets["sweep"]["lam_range"] == {"low": 1e-5, "high": 1e-1, "count": 5} and presets["sweep"]["seeds"] == 3
    response = client.get("/api/studies/77")
    assert response.status_code == 404 and response.get_json() == {"error": "there is no study 77"}


def test_seed_preset_expands_to_the_seed_study(client):
    preset = client.get("/api/studies/presets").get_json()["seed"]
    created = client.post("/api/studies", json={**preset, "settings": TINY}).get_json()
    runs = [client.get(f"/api/runs/{i}").get_json()["settings"] for i in created["runs"]]
    assert [(r["penalty"], r["lam"]) for r in runs] == [("none", 0.0), ("l2", 0.01), ("l1", 1e-4)]
    for run_id in created["runs"]:
        wait_finished(client, run_id)


SMALL = ["--dataset", "synthetic", "--train-size", "300", "--epochs", "1", "--hidden", "8", "--batch-size", "50"]


def test_cli_sweep_table(capsys):
    assert main(["sweep", *SMALL, "--penalties", "none,l1", "--lams", "1e-3,1e-2", "--seeds", "2", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert out.count("seed 1:") == 3 and "test acc (mean ± sd)" in out
    table = out[out.index("penalty  "):]
    assert "l1       0.001  2" in table and " ± " in table and "best:" in out


def test_cli_sweep_json_and_range(capsys):
    assert main(["sweep", *SMALL, "--penalties", "l2", "--lam-range", "1e-4:1e-2:3", "--json", "--workers", "1"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["event"] for line in lines] == ["done", "done", "done", "study"]
    assert [s["lam"] for s in lines[-1]["settings"]] == [1e-4, 1e-3, 1e-2]


# Large enough that each run's products are shared among its threads (engine/fast/products.py).
SPLIT = ["--dataset", "synthetic", "--train-size", "640", "--epochs", "2", "--hidden", "200", "--batch-size", "64"]


def test_cli_sweep_in_parallel_processes_gives_the_numbers_of_one_after_another_in_order(capsys):
    outputs = {}
    for workers in ("1", "2", "3"):  # here on every core / two and three run processes at once
        assert main(["sweep", *SPLIT, "--penalties", "none,l1,l2", "--lams", "1e-3,1e-2", "--json",
                     "--workers", workers]) == 0
        captured = capsys.readouterr()
        assert f"5 runs, {workers} at a time" in captured.err
        lines = [json.loads(line) for line in captured.out.splitlines()]
        outputs[workers] = [{k: v for k, v in line.items() if "seconds" not in k} for line in lines[:-1]]
        assert [(r["run"], r["event"]) for r in outputs[workers]] == [
            ("none", "done"), ("L1 λ=0.001", "done"), ("L1 λ=0.01", "done"), ("L2 λ=0.001", "done"),
            ("L2 λ=0.01", "done")]
    assert outputs["2"] == outputs["1"] and outputs["3"] == outputs["1"]


def test_cli_sweep_says_how_many_runs_train_at_once(capsys):
    assert main(["sweep", *SMALL, "--penalties", "none,l1", "--lams", "1e-3"]) == 0
    cores = len(usable_cores())
    assert capsys.readouterr().out.startswith(f"2 runs, {min(2, cores)} at a time on {cores} core")


@pytest.mark.parametrize("flags, message", [
    (["--workers", "0"], "--workers: must be a whole number from 1 to 64, got 0"),
    (["--penalties", "l5"], "--penalties: must be among"),
    (["--lams", "a,b"], "--lams: expected numbers"),
    (["--lam-range", "1:2"], "--lam-range: expected LOW:HIGH:COUNT"),
    (["--seeds", "0"], "--seeds: must be a whole number from 1 to 10"),
])
def test_cli_sweep_bad_flags(capsys, flags, message):
    with pytest.raises(SystemExit):
        main(["sweep", *SMALL, *flags])
    assert message in capsys.readouterr().err


def test_study_list_counts_best_penalized_and_delete(client):
    created = client.post("/api/studies", json={"penalties": ["none", "l2"], "lams": [0.01], "seeds": 1,
                                                "settings": TINY}).get_json()
    response = client.delete(f"/api/studies/{created['id']}")
    assert response.status_code in (200, 409)
    if response.status_code == 409:
        assert "cancel them before deleting" in response.get_json()["error"]
        for run_id in created["runs"]:
            wait_finished(client, run_id)
        listed = client.get("/api/studies").get_json()
        assert listed[0]["counts"] == {"completed": 2}
        study = client.get(f"/api/studies/{created['id']}").get_json()
        assert study["best_penalized"]["penalty"] == "l2"
        assert client.delete(f"/api/studies/{created['id']}").get_json() == {"deleted": created["id"]}
    assert client.get(f"/api/studies/{created['id']}").status_code == 404
    assert client.get(f"/api/runs/{created['runs'][0]}").status_code == 404


def test_study_view_gives_its_progress_settings_and_the_pair_to_compare(client):
    long = {**TINY, "epochs": 400}
    created = client.post("/api/studies", json={"penalties": ["none", "l2"], "lams": [0.01], "seeds": 1,
                                                "settings": long}).get_json()
    first, second = created["runs"]
    wait_for(lambda: client.get(f"/api/runs/{first}").get_json()["progress"]["step"] > 0, message="the first run")
    study = client.get(f"/api/studies/{created['id']}").get_json()
    running, waiting = study["runs"]
    assert (running["status"], waiting["status"]) == ("running", "queued")
    assert study["progress"] == {"runs": 2, "finished": 0,
                                 "fraction": round((running["progress"]["fraction"] + 0.0) / 2, 4)}
    assert 0 < study["progress"]["fraction"] < 0.5
    assert study["planned"] == [{"penalty": "none", "lam": 0.0, "runs": 1, "live": 1},
                                {"penalty": "l2", "lam": 0.01, "runs": 1, "live": 1}]
    assert study["pair"] is None and study["counts"] == {"running": 1, "queued": 1}
    for run_id in (second, first):
        client.post(f"/api/runs/{run_id}/cancel")
    ended = client.get(f"/api/studies/{created['id']}").get_json()
    assert ended["progress"] == {"runs": 2, "finished": 2, "fraction": 1.0}
    assert [p["live"] for p in ended["planned"]] == [0, 0]


def test_the_pair_is_the_best_penalized_run_and_no_penalty_with_its_seed(client):
    created = client.post("/api/studies", json={"penalties": ["none", "l2"], "lams": [0.01, 0.1], "seeds": 2,
                                                "settings": TINY}).get_json()
    for run_id in created["runs"]:
        wait_finished(client, run_id)
    study = client.get(f"/api/studies/{created['id']}").get_json()
    target = study["best"] if study["best"]["penalty"] != "none" else study["best_penalized"]
    runs = study["runs"]
    run = next(r for r in runs
               if (r["settings"]["penalty"], r["settings"]["lam"]) == (target["penalty"], target["lam"]))
    seed = run["settings"]["seed"]
    baseline = next(r for r in runs if r["settings"]["penalty"] == "none" and r["settings"]["seed"] == seed)
    assert study["pair"] == {"baseline": baseline["id"], "run": run["id"], "seed": seed, "penalty": target["penalty"],
                             "lam": target["lam"]}
    assert study["progress"] == {"runs": 6, "finished": 6, "fraction": 1.0}
    assert [(p["penalty"], p["lam"], p["runs"]) for p in study["planned"]] == [("none", 0.0, 2), ("l2", 0.01, 2),
                                                                             ("l2", 0.1, 2)]
