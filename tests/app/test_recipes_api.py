"""The recipes API: the list, a recipe queued as a study (scaled to tiny synthetic runs), and the study's verdicts."""
import pytest

from app.recipe_view import recipe_section
from engine.recipes import RECIPES, VERDICTS

from .conftest import wait_finished

TINY_SCALE = {"dataset": "synthetic", "train_size": 100, "epochs": 1}


def run_recipe(client, name, **body):
    response = client.post(f"/api/recipes/{name}/run", json=body)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    for run_id in created["runs"]:
        assert wait_finished(client, run_id)["status"] == "completed"
    return created, client.get(f"/api/studies/{created['id']}").get_json()


def test_the_list_has_each_recipe_with_its_source_settings_and_claims(client):
    listed = client.get("/api/recipes").get_json()
    assert [r["name"] for r in listed] == list(RECIPES)
    for recipe in listed:
        assert {"name", "version", "title", "question", "source", "settings", "claims", "notes"} <= set(recipe)
        assert recipe["source"] and all(s["citation"] and s["quote"] for s in recipe["source"])
        assert all({"quantity", "published", "tolerance"} <= set(c) for c in recipe["claims"])
    ng = next(r for r in listed if r["name"] == "ng-irrelevant-features")
    assert [a["settings"]["noise_features"] for a in ng["settings"][1:]] == [100, 1000, 10_000]
    assert ng["settings"][0]["settings"]["hidden"] == 0 and ng["runs"] == 96
    assert client.get("/api/recipes/reference").get_json()["name"] == "reference"
    missing = client.get("/api/recipes/nope")
    assert missing.status_code == 404 and "there is no recipe 'nope'" in missing.get_json()["error"]


def test_a_recipe_runs_as_a_study_that_records_the_recipe_and_shows_its_verdicts(client):
    created, study = run_recipe(client, "reference", seeds=1, scale=TINY_SCALE)
    assert created["name"] == "recipe reference v1 (scaled)" and len(created["runs"]) == 3
    assert created["recipe"] == {"name": "reference", "version": 1, "seeds": 1}
    assert study["spec"]["recipe"]["name"] == "reference" and study["spec"]["recipe"]["version"] == 1
    assert study["spec"]["penalties"] == ["none", "l2", "l1"]  # the study page describes it as any study
    recipe = study["recipe"]
    assert recipe["name"] == "reference" and recipe["scale"] == TINY_SCALE and recipe["primary_arm"] == "reference"
    assert len(recipe["claims"]) == 5
    for claim in recipe["claims"]:
        assert claim["verdict"] in VERDICTS and claim["ours"]["n"] == 1
        assert {"quantity", "published", "published_text", "ours_text", "tolerance", "note"} <= set(claim)
    assert [c["verdict"] for c in recipe["claims"][2:]] == ["not checked"] * 3
    assert [(m["penalty"], m["value"]) for m in recipe["marks"]] == [("none", 0.9188), ("l1", 0.8947), ("l2", 0.8514)]
    # an ordinary study has no recipe
    plain = client.post("/api/studies", json={"penalties": ["none"], "seeds": 1,
                                              "settings": {**TINY_SCALE, "hidden": 4}}).get_json()
    assert client.get(f"/api/studies/{plain['id']}").get_json()["recipe"] is None


def test_a_recipe_of_two_arms_keeps_the_charts_to_the_first(client):
    created, study = run_recipe(client, "nielsen-l2-100", seeds=1, scale=TINY_SCALE)
    assert len(study["runs"]) == 2 and {r["settings"]["epochs"] for r in study["runs"]} == {1}
    assert {r["settings"]["lr"] for r in study["runs"]} == {0.5, 0.1}
    assert [r["label"] for r in study["runs"]] == ["30 epochs, η = 0.5 · L2 λ=1e-4 · seed 0",
                                                   "60 epochs, η = 0.1 · L2 λ=1e-4 · seed 0"]
    assert [(s["penalty"], s["runs"]) for s in study["settings"]] == [("l2", 1)]  # the first arm's run only
    assert study["planned"] == [{"penalty": "l2", "lam": 1e-4, "runs": 1, "live": 0}]
    first, second = study["recipe"]["claims"]
    lr_of = {r["settings"]["lr"]: r["result"]["test_accuracy"] for r in study["runs"]}
    assert first["ours"]["mean"] == lr_of[0.5] and second["ours"]["mean"] == lr_of[0.1]
    assert study["recipe"]["arms"] == ["30 epochs, η = 0.5", "60 epochs, η = 0.1"]


def test_claims_read_the_pruning_curves_kept_apart_from_the_run_rows(client):
    created, study = run_recipe(client, "pruning-l1-vs-l2", seeds=1,
                                scale={**TINY_SCALE, "hidden": 8, "prune_fine_tune_steps": 2})
    without, tuned = study["recipe"]["claims"]
    for claim in (without, tuned):
        assert claim["ours"] is not None and "matched at unpruned accuracy" in claim["note"]
        assert claim["points"] and {p["x"] for p in claim["points"]} >= {0.0, 0.9}


@pytest.mark.parametrize("body, field, message", [
    ({"seeds": 0}, "seeds", "must be a whole number from 1 to 10"),
    ({"seeds": "3"}, "seeds", "must be a whole number from 1 to 10"),
    ({"steps": 3}, "steps", "unknown field; allowed: seeds, scale"),
    ({"scale": [1]}, "scale", "must be an object of sizes"),
    ({"scale": {"lr": 0.3}}, "lr", "a recipe can only be scaled in dataset, train_size, epochs, hidden"),
    ({"scale": {"epochs": 0}}, "epochs", "must be from 1 to 1000"),
    ({"scale": {"dataset": "cifar"}}, "dataset", "must be one of mnist"),
])
def test_bad_run_bodies_are_400_naming_the_field(client, body, field, message):
    response = client.post("/api/recipes/reference/run", json=body)
    assert response.status_code == 400 and response.get_json()["field"] == field
    assert message in response.get_json()["error"]
    assert client.get("/api/studies").get_json() == []  # nothing queued
    assert client.post("/api/recipes/nope/run", json={}).status_code == 404


def test_a_study_made_by_another_version_or_an_unknown_recipe_says_so():
    spec = {"recipe": {"name": "reference", "version": 0, "seeds": 1, "scale": {}}}
    section = recipe_section(spec, [])
    assert section["version"] == 0 and any("made by version 0 of the recipe" in n for n in section["notes"])
    assert all(c["verdict"] == "inconclusive" or c["verdict"] == "not checked" for c in section["claims"])
    unknown = recipe_section({"recipe": {"name": "gone", "version": 1}}, [])
    assert unknown == {"name": "gone", "error": "this study was made by a recipe this normlab does not have (gone)"}
    assert recipe_section({"penalties": ["none"]}, []) is None
