"""The fine-tune setting and a run's insight travel from runs trained in other processes (the process
and the Dask executors): the setting reaches the engine there, the curves and trajectories come back."""
from .conftest import TINY, wait_finished
from .test_executors_remote import server, side  # noqa: F401 (the fixtures: a live server per executor)
from .test_ws import get, post


def test_fine_tuned_curve_and_trajectories_from_another_process(server, side):  # noqa: F811
    run = post(server, "/api/runs", {**TINY, "penalty": "l1", "lam": 1e-3, "prune_fine_tune_steps": 3})
    assert wait_finished(server.app.test_client(), run["id"])["status"] == "completed"
    curve = get(server, f"/api/runs/{run['id']}/pruning")
    assert curve["fine_tuned"]["steps"] == 3 and len(curve["fine_tuned"]["accuracy"]["global"]) == 13
    assert len(get(server, f"/api/runs/{run['id']}/weights")["input_importance"]) == 784
    trajectories = get(server, f"/api/runs/{run['id']}/metrics?kinds=epoch")["epoch"]["trajectory"]
    assert [len(t) for t in trajectories] == [64] * TINY["epochs"]
