"""What a finished run's weights show, through the API and the socket: pruning curves, input
importance, unit norms, prior fits and weight trajectories, on real tiny runs."""
import math

import pytest

from app.insight import INSIGHT_FIELDS

from .conftest import TINY, wait_finished, wait_for
from .test_ws import Viewer, get, post

PRUNING_KEYS = {"fractions", "accuracy", "prunable_fraction"}


def finished_run(client, **settings):
    run_id = client.post("/api/runs", json={**TINY, **settings}).get_json()["id"]
    assert wait_finished(client, run_id)["status"] == "completed"
    return run_id


def check_curve(curve):
    fractions = curve["fractions"]
    assert fractions[0] == 0.0 and fractions == sorted(fractions) and len(fractions) == 13
    for scheme in ("global", "first_layer"):
        accuracy = curve["accuracy"][scheme]
        assert len(accuracy) == len(fractions) and all(0 <= a <= 1 for a in accuracy)
        assert curve["prunable_fraction"][scheme] in fractions
        # within one point of the unpruned network at the prunable fraction
        assert accuracy[fractions.index(curve["prunable_fraction"][scheme])] >= accuracy[0] - 0.01 - 1e-9


def test_pruning_curve_of_a_finished_run(client):
    run_id = finished_run(client, penalty="l1", lam=1e-3)
    response = client.get(f"/api/runs/{run_id}/pruning")
    assert response.status_code == 200
    curve = response.get_json()
    assert set(curve) == PRUNING_KEYS | {"fine_tuned"} and curve["fine_tuned"] is None
    assert set(curve["accuracy"]) == set(curve["prunable_fraction"]) == {"global", "first_layer"}
    check_curve(curve)
    run = client.get(f"/api/runs/{run_id}").get_json()
    assert run["result"]["prunable_fraction"] == curve["prunable_fraction"]["global"]
    assert isinstance(run["result"]["dead_inputs"], int) and isinstance(run["result"]["active_weights"], int)


def test_weights_answer_input_importance_unit_norms_and_prior_fits(client):
    run_id = finished_run(client, penalty="l1", lam=1e-2)
    weights = client.get(f"/api/runs/{run_id}/weights").get_json()
    importance = weights["input_importance"]
    assert len(importance) == 784 and all(v >= 0 for v in importance)
    # a dead input has nothing leaving it: its importance is below hidden × the threshold
    assert weights["dead_inputs"] >= sum(v == 0 for v in importance)
    assert 0 <= weights["dead_inputs"] <= 784
    norms = weights["unit_norms"]
    assert len(norms) == TINY["hidden"] and norms == sorted(norms, reverse=True)
    assert len(weights["first_layer"]) == TINY["hidden"]
    # the norms are those of the first layer's units, as the images show them
    from_images = sorted((math.sqrt(sum(v * v for v in unit)) for unit in weights["first_layer"]), reverse=True)
    assert norms == pytest.approx(from_images, abs=1e-3)
    fits = weights["prior_fit"]
    assert set(fits) == {"W1", "W2", "all"}
    assert fits["all"]["n"] == 784 * TINY["hidden"] + TINY["hidden"] * 10
    for fit in fits.values():
        assert fit["better"] in ("gaussian", "laplace")
        assert len(fit["gaussian"]["expected_counts"]) == len(fit["laplace"]["expected_counts"]) == 80
        assert sum(fit["laplace"]["expected_counts"]) == pytest.approx(fit["n"], rel=1e-3)
        better = max(("gaussian", "laplace"), key=lambda k: fit[k]["loglik_per_weight"])
        assert fit["better"] == better
        assert fit["gaussian"]["sigma"] > 0 and fit["laplace"]["b"] > 0


def test_the_large_parts_stay_out_of_the_run_rows_and_final_events(client, app):
    run_id = finished_run(client)
    final = client.get(f"/api/runs/{run_id}/metrics?kinds=final").get_json()["final"]
    assert not set(final) & {*INSIGHT_FIELDS, "first_layer"}
    assert final["prunable_fraction"] == client.get(f"/api/runs/{run_id}/pruning").get_json()["prunable_fraction"]["global"]
    assert {"dead_inputs", "active_weights", "prunable_fraction_first_layer", "prunable_fraction_fine_tuned"} <= set(final)
    row = app.extensions["normlab"].store.connection().execute(
        "SELECT length(final_event) + length(result) FROM runs WHERE id = ?", (run_id,)).fetchone()[0]
    assert row < 2000  # the done event itself is over 20 KB


def test_no_pruning_curve_for_runs_that_did_not_finish(client):
    queued_behind = client.post("/api/runs", json={**TINY, "epochs": 400}).get_json()["id"]
    queued = client.post("/api/runs", json=TINY).get_json()["id"]
    wait_for(lambda: client.get(f"/api/runs/{queued_behind}").get_json()["status"] == "running", message="running")
    for run_id, status in ((queued_behind, "running"), (queued, "queued")):
        response = client.get(f"/api/runs/{run_id}/pruning")
        assert response.status_code == 404
        assert response.get_json()["error"] == (f"run {run_id} has no pruning curve yet: it is {status}, "
                                                f"and the pruning curve is computed when it finishes")
        weights = client.get(f"/api/runs/{run_id}/weights").get_json()
        assert weights["input_importance"] is weights["unit_norms"] is weights["prior_fit"] is None
    client.post(f"/api/runs/{queued}/cancel")
    client.post(f"/api/runs/{queued_behind}/cancel")
    assert wait_finished(client, queued_behind)["status"] == "cancelled"
    response = client.get(f"/api/runs/{queued_behind}/pruning")
    assert response.status_code == 404
    assert response.get_json()["error"] == f"run {queued_behind} has no pruning curve: it did not finish (cancelled)"
    assert client.get("/api/runs/999/pruning").get_json() == {"error": "there is no run 999"}


def test_fine_tune_setting_gives_the_fine_tuned_curve(client):
    run_id = finished_run(client, penalty="l1", lam=1e-3, prune_fine_tune_steps=5)
    curve = client.get(f"/api/runs/{run_id}/pruning").get_json()
    tuned = curve["fine_tuned"]
    assert set(tuned) == PRUNING_KEYS | {"steps"} and tuned["steps"] == 5
    assert tuned["fractions"] == curve["fractions"]
    check_curve(tuned)
    final = client.get(f"/api/runs/{run_id}/metrics?kinds=final").get_json()["final"]
    assert final["prunable_fraction_fine_tuned"] == tuned["prunable_fraction"]["global"]


@pytest.mark.parametrize("value, message", [
    (-1, "must be from 0 to 1000, got -1"), (1001, "must be from 0 to 1000, got 1001"),
    (2.5, "must be a whole number"), ("300", "must be a number"),
    (1000, "prune_fine_tune_steps × batch_size × 26 must be at most 20,000,000")])
def test_bad_fine_tune_settings_are_refused(client, value, message):
    response = client.post("/api/runs", json={**TINY, "train_size": 1000, "batch_size": 1000,
                                              "prune_fine_tune_steps": value})
    assert response.status_code == 400
    body = response.get_json()
    assert body["field"] == "prune_fine_tune_steps" and message in body["error"]


def test_schema_lists_the_fine_tune_setting_off_by_default(client):
    setting = next(s for s in client.get("/api/schema").get_json()["settings"] if s["name"] == "prune_fine_tune_steps")
    assert setting == {"name": "prune_fine_tune_steps", "label": "Fine-tune steps per pruning point (0: no fine-tuned curve)",
                       "default": 0, "primary": False, "type": "int", "min": 0, "max": 1000}


def test_trajectories_through_metrics(client):
    run_id = finished_run(client, penalty="l1", lam=1e-2)
    events = client.get(f"/api/runs/{run_id}/metrics").get_json()
    start = events["start"]
    positions = start["trajectory_positions"]
    assert len(positions) == 64 == len(start["trajectory_initial"]) == len(set(map(tuple, positions)))
    assert all(0 <= row < 784 and 0 <= col < TINY["hidden"] for row, col in positions)
    trajectories = events["epoch"]["trajectory"]
    assert len(trajectories) == TINY["epochs"] and all(len(t) == 64 for t in trajectories)
    assert trajectories[0] != start["trajectory_initial"]  # the weights moved
    # the last epoch's values are the trained first layer's at those positions
    images = client.get(f"/api/runs/{run_id}/weights").get_json()["first_layer"]
    assert trajectories[-1] == pytest.approx([images[col][row] for row, col in positions], abs=1e-5)


def epoch_trajectories(viewer, run_id):
    """Every epoch's trajectory a viewer received for the run, by sequence number."""
    out = {}
    for message in viewer.messages:
        for entry in message.get("runs", []) if message["type"] == "frame" else []:
            if entry["run"] == run_id and "epoch" in entry:
                out.update(zip(entry["epoch"]["seq"], entry["epoch"]["trajectory"]))
    return out


def test_trajectories_and_the_slim_final_reach_live_and_late_viewers(live_server):
    live = Viewer(live_server)
    run = post(live_server, "/api/runs", {**TINY, "epochs": 4, "penalty": "l1", "lam": 1e-2})
    live.subscribe({run["id"]: -1})
    live.until_final(run["id"])
    stored = get(live_server, f"/api/runs/{run['id']}/metrics")
    expected = dict(zip(stored["epoch"]["seq"], stored["epoch"]["trajectory"]))
    assert len(expected) == 4
    late = Viewer(live_server)
    late.subscribe({run["id"]: -1})
    late.until_final(run["id"])
    for viewer in (live, late):
        assert epoch_trajectories(viewer, run["id"]) == expected
        assert viewer.finals[run["id"]] == stored["final"]  # one shape, live or from the store
        viewer.close()
    start = next(e["start"] for m in late.messages if m["type"] == "frame" for e in m["runs"] if "start" in e)
    assert start["trajectory_positions"] == stored["start"]["trajectory_positions"]

