"""The run view: one server-side account of a run's progress, the same in answers, run messages and frames."""
import pytest

from .conftest import TINY, wait_for
from .test_ws import Viewer, get, post

BATCHES = 6  # TINY: 300 examples in batches of 50
LONG = {**TINY, "epochs": 400}  # a few seconds: long enough to be read mid-run


def final_event(server, run_id):
    return get(server, f"/api/runs/{run_id}/metrics?kinds=final")["final"]


def test_a_queued_run_has_done_nothing_and_knows_its_epochs(live_server):
    first = post(live_server, "/api/runs", LONG)  # one worker: the next run waits behind this one
    waiting = post(live_server, "/api/runs", {**TINY, "epochs": 3})
    view = get(live_server, f"/api/runs/{waiting['id']}")
    assert view["status"] == "queued" and view["live"] is True and view["result"] is None
    assert view["progress"] == {"epoch": 0, "current_epoch": 0, "epochs": 3, "step": 0, "total_steps": None,
                                "fraction": 0.0, "eta_seconds": None, "elapsed_seconds": None}
    post(live_server, f"/api/runs/{waiting['id']}/cancel", {})
    post(live_server, f"/api/runs/{first['id']}/cancel", {})
    cancelled = get(live_server, f"/api/runs/{waiting['id']}")
    assert cancelled["live"] is False and cancelled["progress"]["current_epoch"] == 0
    assert cancelled["progress"]["elapsed_seconds"] is None and cancelled["progress"]["fraction"] == 0.0


def test_a_running_run_read_mid_run_then_cancelled(live_server):
    run = post(live_server, "/api/runs", LONG)
    total = LONG["epochs"] * BATCHES
    view = wait_for(lambda: (v := get(live_server, f"/api/runs/{run['id']}"))["progress"]["step"] > 2 * BATCHES and v,
                    message="the run some epochs in")
    p = view["progress"]
    assert view["status"] == "running" and view["live"] is True
    assert p["total_steps"] == total and p["epochs"] == LONG["epochs"] and 0 < p["step"] < total
    assert p["fraction"] == round(p["step"] / total, 4)
    # epochs done: the last batch's epoch less one, or the epoch just evaluated
    assert p["epoch"] in ((p["step"] - 1) // BATCHES, p["step"] // BATCHES)
    assert p["current_epoch"] == p["epoch"] + 1
    assert p["elapsed_seconds"] > 0
    assert p["eta_seconds"] == pytest.approx(p["elapsed_seconds"] * (total - p["step"]) / p["step"], abs=0.11)

    cancelled = post(live_server, f"/api/runs/{run['id']}/cancel", {})
    assert cancelled["status"] == "cancelled"
    p = get(live_server, f"/api/runs/{run['id']}")["progress"]
    final = final_event(live_server, run["id"])
    assert p["eta_seconds"] is None and p["elapsed_seconds"] == final["seconds"]
    assert p["step"] == final["step"] and p["current_epoch"] == final["epoch"] == p["epoch"] + 1
    assert p["fraction"] == round(final["step"] / total, 4) < 1


def test_a_completed_run_is_whole_and_its_time_is_the_engines(live_server):
    run = post(live_server, "/api/runs", {**TINY, "epochs": 3})
    view = wait_for(lambda: (v := get(live_server, f"/api/runs/{run['id']}"))["status"] == "completed" and v,
                    message="the run to complete")
    final = final_event(live_server, run["id"])
    assert view["live"] is False
    assert view["progress"] == {"epoch": 3, "current_epoch": 3, "epochs": 3, "step": 18, "total_steps": 18,
                                "fraction": 1.0, "eta_seconds": None, "elapsed_seconds": final["seconds"]}
    assert view["result"]["seconds"] == final["seconds"]


def test_a_failed_run_stops_where_it_diverged(live_server):
    run = post(live_server, "/api/runs", {**TINY, "epochs": 3, "lr": 1000.0, "activation": "relu"})
    view = wait_for(lambda: (v := get(live_server, f"/api/runs/{run['id']}"))["status"] == "failed" and v,
                    message="the run to fail")
    final = final_event(live_server, run["id"])
    p = view["progress"]
    assert view["live"] is False and p["eta_seconds"] is None and p["elapsed_seconds"] == final["seconds"]
    assert p["step"] == final["step"] >= 1 and p["current_epoch"] == final["epoch"]
    assert p["fraction"] == round(final["step"] / 18, 4) < 1


def latest_step(entry):
    """(kind, step, epoch) of the entry's last batch or epoch event, read from its columns."""
    found = []
    for kind in ("batch", "epoch"):
        if kind in entry:
            found.append((entry[kind]["seq"][-1], kind, entry[kind]["step"][-1], entry[kind]["epoch"][-1]))
    return max(found)[1:] if found else None


def check_entry_progress(entry, total):
    p = entry["progress"]
    latest = latest_step(entry)
    if latest is not None:
        kind, step, epoch = latest
        assert p["step"] == step and p["epoch"] == (epoch if kind == "epoch" else epoch - 1)
    assert p["total_steps"] == total and p["fraction"] == (1.0 if "final" in entry and entry["final"]["event"] == "done"
                                                           else round(p["step"] / total, 4))


def test_frames_carry_the_progress_the_view_shows(live_server):
    epochs = 30
    viewer = Viewer(live_server)
    run = post(live_server, "/api/runs", {**TINY, "epochs": epochs})
    viewer.subscribe({run["id"]: -1})
    viewer.until_final(run["id"])
    entries = [e for m in viewer.messages if m["type"] == "frame" for e in m["runs"]]
    assert entries and all("progress" in e for e in entries)
    for entry in entries:
        check_entry_progress(entry, epochs * BATCHES)
    # Progress is that of each frame's last event, so it only grows; the last is the stored run's.
    steps = [e["progress"]["step"] for e in entries]
    assert steps == sorted(steps)
    view = get(live_server, f"/api/runs/{run['id']}")
    assert view["status"] == "completed" and entries[-1]["progress"] == view["progress"]
    late = Viewer(live_server)  # after the end the frames come from the store, with the same progress
    late.subscribe({run["id"]: -1})
    late.until_final(run["id"])
    stored = [e for m in late.messages if m["type"] == "frame" for e in m["runs"]]
    assert stored[-1]["progress"] == view["progress"]
    viewer.close()
    late.close()


def test_run_messages_carry_the_view(live_server):
    viewer = Viewer(live_server)
    viewer.wait_hello()
    run = post(live_server, "/api/runs", TINY)
    heard = viewer.run_messages_until(run["id"], "completed")
    assert heard[0]["status"] == "queued" and heard[0]["live"] is True and heard[0]["progress"]["fraction"] == 0.0
    assert heard[-1] == get(live_server, f"/api/runs/{run['id']}")  # the final status, once, as the API has it
    viewer.close()
