"""A study's paired comparisons, seeds-needed estimates, regularisation path and pruning aggregates."""
import csv
import io

import pytest

from app import create_app
from engine.comparisons import compare_to_baseline, seeds_needed

from .conftest import TINY, wait_finished

COMPARISON_FIELDS = {"penalty", "lam", "baseline_penalty", "baseline_lam", "metric", "n_pairs", "seeds", "differences",
                     "mean_diff", "sd_diff", "ci95_paired", "ci95_bootstrap", "ci95_unpaired", "p_ttest", "p_wilcoxon",
                     "p_holm", "testable", "note", "phrase", "seeds_needed"}
STATISTICS = ("mean_diff", "sd_diff", "ci95_paired", "ci95_bootstrap", "ci95_unpaired", "p_ttest", "p_wilcoxon", "p_holm")


@pytest.fixture(scope="module")
def studies(tmp_path_factory):
    """One server with two finished studies of none and L1 at two λ: 3 seeds and 2 seeds."""
    app = create_app({"DATABASE": str(tmp_path_factory.mktemp("db") / "normlab.sqlite"), "TESTING": True,
                      "EXECUTOR": "thread"})
    app.extensions["normlab"].start()
    client = app.test_client()
    ids = {}
    for seeds in (3, 2):
        created = client.post("/api/studies", json={"penalties": ["none", "l1"], "lams": [1e-3, 3e-2], "seeds": seeds,
                                                    "settings": TINY}).get_json()
        ids[seeds] = created["id"]
        for run_id in created["runs"]:
            assert wait_finished(client, run_id)["status"] == "completed"
    yield client, ids
    app.extensions["normlab"].shutdown()


def test_three_seeds_give_paired_comparisons_with_no_penalty(studies):
    client, ids = studies
    study = client.get(f"/api/studies/{ids[3]}").get_json()
    comparisons = study["comparisons"]
    assert [(c["penalty"], c["lam"]) for c in comparisons] == [("l1", 1e-3), ("l1", 3e-2)]
    accuracy = {(r["settings"]["penalty"], r["settings"]["lam"], r["settings"]["seed"]): r["result"]["test_accuracy"]
                for r in study["runs"]}
    for c in comparisons:
        assert set(c) == COMPARISON_FIELDS and c["testable"] and c["note"] is None
        assert (c["baseline_penalty"], c["baseline_lam"], c["metric"], c["n_pairs"]) == ("none", 0.0, "test_accuracy", 3)
        assert c["seeds"] == [0, 1, 2]
        expected = [accuracy[("l1", c["lam"], s)] - accuracy[("none", 0.0, s)] for s in c["seeds"]]
        assert c["differences"] == pytest.approx(expected, abs=1e-12)
        assert c["mean_diff"] == pytest.approx(sum(expected) / 3, abs=1e-12)
        for key in ("ci95_paired", "ci95_bootstrap", "ci95_unpaired"):
            low, high = c[key]
            assert low <= c["mean_diff"] + 1e-12 and c["mean_diff"] - 1e-12 <= high, key
        assert 0 <= c["p_ttest"] <= c["p_holm"] <= 1 and 0 <= c["p_wilcoxon"] <= 1
        assert c["phrase"].startswith("it ") and "paired over 3 seeds" in c["phrase"]
        assert c["seeds_needed"] == seeds_needed(c["sd_diff"], 0.01)
    # the same numbers as the engine's, Holm-corrected across the two settings
    rows = [r["metrics"] for r in study["runs"]]
    engine = {(c.penalty, c.lam): c for c in compare_to_baseline(rows)}
    assert [c["p_holm"] for c in comparisons] == [engine[(c["penalty"], c["lam"])].p_holm for c in comparisons]
    assert study["power_analysis"] == {"metric": "test_accuracy", "effect": 0.01, "alpha": 0.05, "power": 0.8}
    best = study["best_penalized"]
    paired = next(c for c in comparisons if c["lam"] == best["lam"])
    assert best["comparison"] == {k: v for k, v in paired.items() if k not in ("phrase", "seeds_needed")}
    assert study["verdict_penalized"].endswith(paired["phrase"]) and "95 % CI" in study["verdict_penalized"]
    assert "seed-to-seed spread" not in study["verdict_penalized"]
    if study["best"]["penalty"] != "none":
        assert study["verdict"] == study["verdict_penalized"]


def test_two_seeds_say_no_test_is_possible(studies):
    client, ids = studies
    study = client.get(f"/api/studies/{ids[2]}").get_json()
    assert len(study["comparisons"]) == 2
    for c in study["comparisons"]:
        assert not c["testable"] and c["note"] == "fewer than 3 seeds: no test is possible"
        assert all(c[key] is None for key in STATISTICS) and c["seeds_needed"] is None
        assert c["n_pairs"] == 2 and len(c["differences"]) == 2
        assert "no test is possible" in c["phrase"]
    assert study["verdict_penalized"].endswith("paired with no penalty over only 2 seeds, fewer than 3: "
                                               "no test is possible")


def test_the_effect_sets_the_seeds_needed(studies):
    client, ids = studies
    small = client.get(f"/api/studies/{ids[3]}?effect=0.001").get_json()
    large = client.get(f"/api/studies/{ids[3]}?effect=0.2").get_json()
    assert small["power_analysis"]["effect"] == 0.001 and large["power_analysis"]["effect"] == 0.2
    for a, b in zip(small["comparisons"], large["comparisons"]):
        assert b["seeds_needed"] == seeds_needed(b["sd_diff"], 0.2)
        assert a["seeds_needed"] is None or a["seeds_needed"] >= b["seeds_needed"]


@pytest.mark.parametrize("effect", ["0", "-0.01", "1.5", "nan", "inf", "abc", "", "0x10", "1" * 50])
def test_bad_effects_are_refused(studies, effect):
    client, ids = studies
    for path in (f"/api/studies/{ids[3]}", f"/api/studies/{ids[3]}/comparison?a=l1:0.001&b=none&"):
        sep = "&" if "?" in path else "?"
        response = client.get(f"{path}{sep}effect={effect}")
        assert response.status_code == 400
        body = response.get_json()
        assert body["field"] == "effect" and "must be a number above 0 and at most 1" in body["error"]


def test_any_two_settings_can_be_compared(studies):
    client, ids = studies
    answer = client.get(f"/api/studies/{ids[3]}/comparison?a=l1:3e-2&b=l1:0.001&effect=0.05").get_json()
    c = answer["comparison"]
    assert set(c) == COMPARISON_FIELDS
    assert (c["penalty"], c["lam"], c["baseline_penalty"], c["baseline_lam"]) == ("l1", 0.03, "l1", 0.001)
    study = client.get(f"/api/studies/{ids[3]}").get_json()
    by_setting = {cmp["lam"]: cmp["differences"] for cmp in study["comparisons"]}
    assert c["differences"] == pytest.approx([x - y for x, y in zip(by_setting[0.03], by_setting[0.001])], abs=1e-9)
    assert c["p_holm"] == c["p_ttest"]  # one test: nothing to correct
    assert c["seeds_needed"] == seeds_needed(c["sd_diff"], 0.05)
    assert answer["power_analysis"]["effect"] == 0.05
    against_none = client.get(f"/api/studies/{ids[3]}/comparison?a=l1:0.001&b=none").get_json()["comparison"]
    assert against_none["differences"] == by_setting[0.001]
    few = client.get(f"/api/studies/{ids[2]}/comparison?a=none&b=l1:0.03").get_json()["comparison"]
    assert not few["testable"] and few["note"] == "fewer than 3 seeds: no test is possible"


@pytest.mark.parametrize("query, field, message", [
    ("b=none", "a", "must be a setting of the study written <penalty>:<λ> (none without λ), one of none, l1:0.001, l1:0.03"),
    ("a=none:0.5&b=l1:0.001", "a", "got 'none:0.5'"),
    ("a=none:0&b=none", "b", "must be a setting other than a's"),
    ("a=l1:0.001", "b", "must be a setting of the study"),
    ("a=l1&b=none", "a", "must be a setting of the study"),
    ("a=l3:0.1&b=none", "a", "got 'l3:0.1'"),
    ("a=l1:abc&b=none", "a", "got 'l1:abc'"),
    ("a=l1:nan&b=none", "a", "must be a setting"),
    ("a=l2:0.001&b=none", "a", "the study has no setting l2:0.001; its settings: none, l1:0.001, l1:0.03"),
    ("a=l1:0.001&b=l1:1e-3", "b", "must be a setting other than a's"),
])
def test_bad_pairs_are_refused_naming_the_field(studies, query, field, message):
    client, ids = studies
    response = client.get(f"/api/studies/{ids[3]}/comparison?{query}")
    assert response.status_code == 400
    body = response.get_json()
    assert body["field"] == field and message in body["error"]


def test_unknown_study_comparison_is_404(studies):
    client, _ = studies
    response = client.get("/api/studies/4242/comparison?a=none&b=l1:0.001")
    assert response.status_code == 404 and response.get_json() == {"error": "there is no study 4242"}


def test_regularisation_path_and_pruning_aggregates(studies):
    client, ids = studies
    study = client.get(f"/api/studies/{ids[3]}").get_json()
    path = study["regularisation_path"]
    assert [(p["penalty"], p["lam"], p["runs"]) for p in path] == [("none", 0.0, 3), ("l1", 1e-3, 3), ("l1", 3e-2, 3)]
    for point in path:
        runs = [r for r in study["runs"] if (r["settings"]["penalty"], r["settings"]["lam"]) == (point["penalty"], point["lam"])]
        norms = [client.get(f"/api/runs/{r['id']}/weights").get_json()["unit_norms"] for r in runs]
        assert point["unit_norms"] == pytest.approx([sum(col) / 3 for col in zip(*norms)])
        assert point["active_weights"]["mean"] == pytest.approx(sum(r["result"]["active_weights"] for r in runs) / 3)
    for setting in study["settings"]:
        metrics = setting["metrics"]
        for key in ("prunable_fraction", "dead_inputs", "active_weights"):
            assert metrics[key]["n"] == 3, key
        assert metrics["prunable_fraction_fine_tuned"] is None  # not asked for
    table = csv.DictReader(io.StringIO(client.get(f"/api/studies/{ids[3]}.csv").get_data(as_text=True)))
    by_run = {int(row["run"]): row for row in table}
    for run in study["runs"]:
        row = by_run[run["id"]]
        assert float(row["prunable_fraction"]) == run["result"]["prunable_fraction"]
        assert int(row["active_weights"]) == run["result"]["active_weights"] and row["dead_inputs"].isdigit()
        assert 0 <= float(row["prunable_fraction_first_layer"]) <= 1
    # a strong L1 leaves fewer active weights than none
    active = {s["lam"]: s["metrics"]["active_weights"]["mean"] for s in study["settings"]}
    assert active[0.03] < active[0.0]


def test_a_study_with_the_fine_tune_setting_gives_fine_tuned_curves(client):
    created = client.post("/api/studies", json={"penalties": ["l1"], "lams": [1e-3], "seeds": 1,
                                                "settings": {**TINY, "prune_fine_tune_steps": 4}}).get_json()
    run_id = created["runs"][0]
    assert wait_finished(client, run_id)["settings"]["prune_fine_tune_steps"] == 4
    tuned = client.get(f"/api/runs/{run_id}/pruning").get_json()["fine_tuned"]
    assert tuned["steps"] == 4 and len(tuned["accuracy"]["global"]) == 13
    study = client.get(f"/api/studies/{created['id']}").get_json()
    assert study["spec"]["settings"]["prune_fine_tune_steps"] == 4
    spread = study["settings"][0]["metrics"]["prunable_fraction_fine_tuned"]
    assert spread["n"] == 1 and spread["mean"] == tuned["prunable_fraction"]["global"]
    refused = client.post("/api/studies", json={"penalties": ["l1"], "settings": {**TINY, "prune_fine_tune_steps": -1}})
    assert refused.status_code == 400 and refused.get_json()["field"] == "prune_fine_tune_steps"
