"""GET /api/runs with paging, filters and studies folded; the ★ among comparable runs only."""
import json
import time

import pytest

from app.store import NewRun, NewStudy
from engine import RunConfig

from .conftest import TINY


def settings(**changes):
    return RunConfig.from_dict({**TINY, **changes}).to_dict()


def make_runs(app, n, label="run", study=None, status="queued", accuracy=None, **changes):
    """``n`` runs stored directly (no training), optionally as a new study's: their ids (and the study's)."""
    store = app.extensions["normlab"].store
    runs = [NewRun(settings(**changes), f"{label} {i}") for i in range(n)]
    study_id, ids = store.queue_runs(runs, 10**6, NewStudy(study, {"settings": settings(**changes)}) if study else None)
    if status != "queued":
        with store.transaction() as conn:
            result = None if accuracy is None else json.dumps({"test_accuracy": accuracy})
            conn.executemany("UPDATE runs SET status = ?, result = ?, finished = ? WHERE id = ?",
                             [(status, result, time.time(), i) for i in ids])
    return (study_id, ids) if study else ids


def page(client, query):
    response = client.get(f"/api/runs?{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_without_parameters_the_answer_is_the_bare_list_scripts_know(client, app):
    ids = make_runs(app, 3)
    assert [r["id"] for r in client.get("/api/runs").get_json()] == ids[::-1]
    assert client.get("/api/runs?token=x").get_json() == client.get("/api/runs").get_json()  # not ours


@pytest.mark.parametrize("search", ["", "&q=RUN"])  # the label search reads the runs another way
def test_pages_walk_every_run_once_newest_first(client, app, search):
    ids = make_runs(app, 25)
    make_runs(app, 3, "other")  # not found by the search
    ids = ids if search else ids + list(range(ids[-1] + 1, ids[-1] + 4))
    seen, before = [], ""
    for expected in (10, 10, len(ids) - 20):
        answer = page(client, f"limit=10{search}{before}")
        assert len(answer["runs"]) == expected and answer["total"] == len(ids) and answer["limit"] == 10
        seen += [r["id"] for r in answer["runs"]]
        before = f"&before={answer['next_before']}"
    assert answer["next_before"] is None
    assert seen == ids[::-1]
    assert page(client, "limit=")["limit"] == 100  # empty: not given
    assert page(client, "before=1")["runs"] == []


def test_each_filter_and_their_combination(client, app):
    mnist = make_runs(app, 2, "mine", dataset="mnist")  # stored directly: nothing trains them
    l2 = make_runs(app, 3, "Größe λ test", status="completed", accuracy=0.5, penalty="l2", lam=0.01)
    failed = make_runs(app, 1, "50%_off", status="failed")
    study, in_study = make_runs(app, 4, "swept", study="sweep", penalty="l1", lam=0.001)

    def ids(query):
        answer = page(client, query)
        assert answer["total"] == len(answer["runs"])
        return sorted(r["id"] for r in answer["runs"])

    assert ids(f"study={study}") == in_study
    assert ids("study=none") == sorted(mnist + l2 + failed)
    assert ids("dataset=mnist") == mnist
    assert ids("dataset=synthetic,mnist") == sorted(mnist + l2 + failed + in_study)
    assert ids("status=completed,failed") == sorted(l2 + failed)
    assert ids("penalty=l1") == in_study
    assert ids("penalty=l2&status=completed&study=none") == l2
    assert ids("q=GRÖSSE") == l2  # case folded beyond ASCII (ß = ss)
    assert ids("q=%CE%9B") == l2  # Λ finds λ
    assert ids("q=50%25_") == failed and ids("q=%25") == failed and ids("q=_") == failed  # no wildcards
    assert ids("q=") == sorted(mnist + l2 + failed + in_study)
    assert ids("q=nothing-like-it") == []


@pytest.mark.parametrize("query, field, says", [
    ("limit=0", "limit", "from 1 to 500"), ("limit=501", "limit", "from 1 to 500"), ("limit=ten", "limit", "digits"),
    ("limit=%EF%BC%95", "limit", "digits 0-9"), ("before=-1", "before", "digits 0-9"),
    ("before=99999999999999999999", "before", "1 to"), ("study=mine", "study", "or 'none'"),
    ("dataset=cifar", "dataset", "mnist, fashion-mnist, synthetic"), ("status=done", "status", "completed"),
    ("penalty=l3", "penalty", "none, l1, l2, elastic"), ("q=" + "x" * 101, "q", "at most 100"),
    ("fold=runs", "fold", "'studies'"), ("fold=studies&study=1", "fold", "one study"),
    ("order=id", "order", "allowed: limit, before, study"), ("status=queued&status=failed", "status", "once"),
])
def test_a_bad_parameter_is_refused_naming_it(client, query, field, says):
    response = client.get(f"/api/runs?{query}")
    body = response.get_json()
    assert response.status_code == 400 and body["field"] == field and says in body["error"], body


def test_studies_fold_into_one_row_each_on_the_page_of_their_newest_run(client, app):
    old = make_runs(app, 3, "old")
    first, first_runs = make_runs(app, 4, "a", study="first")
    middle = make_runs(app, 3, "middle")
    second, second_runs = make_runs(app, 2, "b", study="second", dataset="mnist")
    new = make_runs(app, 2, "new")
    store = app.extensions["normlab"].store
    store.set_status(first_runs[0], "running")
    with store.transaction() as conn:  # two completed with the same accuracy: the earlier is the best
        conn.execute("UPDATE runs SET status = 'completed', result = ? WHERE id IN (?, ?)",
                     (json.dumps({"test_accuracy": 0.75}), first_runs[1], first_runs[2]))

    answer = page(client, "fold=studies")
    assert [r["id"] for r in answer["runs"]] == (old + middle + new)[::-1]
    assert answer["total"] == 8 and answer["total_studies"] == 2
    assert [s["id"] for s in answer["studies"]] == [second, first]
    row = answer["studies"][1]
    assert row == {"id": first, "name": "first", "created": row["created"], "dataset": "synthetic", "runs": 4,
                   "matching": 4, "counts": {"queued": 1, "running": 1, "completed": 2},
                   "newest_run": first_runs[-1], "progress": {"runs": 4, "finished": 2, "fraction": 0.5},
                   "best": {"id": first_runs[1], "label": "a 1", "penalty": "none", "lam": 0.0, "test_accuracy": 0.75}}
    assert answer["studies"][0]["best"] is None
    # pages of 2 runs: each study once, ahead of the page's runs older than its newest run
    placed, before = {}, ""
    while True:
        part = page(client, f"fold=studies&limit=2{before}")
        for s in part["studies"]:
            assert s["id"] not in placed
            placed[s["id"]] = [r["id"] for r in part["runs"]]
        if part["next_before"] is None:
            break
        before = f"&before={part['next_before']}"
    assert placed == {second: [middle[2], middle[1]], first: [middle[0], old[2]]}
    # filters apply to a study's runs too: a study shows when one of its runs matches
    assert [s["id"] for s in page(client, "fold=studies&dataset=mnist")["studies"]] == [second]
    assert page(client, "fold=studies&status=running")["studies"][0]["matching"] == 1
    assert page(client, "fold=studies&q=nothing")["studies"] == []


def test_the_star_is_the_best_per_penalty_among_comparable_runs_only(client, app):
    synthetic = make_runs(app, 1, "synthetic", status="completed", accuracy=0.99)
    mnist = make_runs(app, 2, "mnist", status="completed", accuracy=0.90, dataset="mnist")
    mnist_better = make_runs(app, 1, "mnist", status="completed", accuracy=0.95, dataset="mnist")
    longer = make_runs(app, 1, "longer", status="completed", accuracy=0.50, dataset="mnist", epochs=3)
    other_seed = make_runs(app, 1, "seed", status="completed", accuracy=0.96, dataset="mnist", seed=4)
    l2 = make_runs(app, 1, "l2", status="completed", accuracy=0.10, dataset="mnist", penalty="l2", lam=0.1)
    failed = make_runs(app, 1, "failed", status="failed", accuracy=0.99, dataset="mnist")
    runs = {r["id"]: r for r in page(client, "limit=100")["runs"]}
    starred = {i for i, r in runs.items() if r["best"]}
    # the synthetic run does not take "best for none" from the MNIST runs, nor a failed run; the seed is what varies
    assert starred == {synthetic[0], other_seed[0], longer[0], l2[0]}
    assert not {*mnist, *mnist_better, *failed} & starred
    assert runs[other_seed[0]]["best_among"] == ("completed none runs on mnist with 300 examples, 2 epochs, hidden 8, "
                                                 "sigmoid, glorot_uniform init, lr 0.1, momentum 0, batch 50, float32")
    assert runs[l2[0]]["best_among"].startswith("completed L2 runs on mnist")
    assert "best_among" not in runs[mnist[0]]
    # only the page's runs are looked at, yet each ★ is against every comparable run
    alone = page(client, f"limit=1&before={other_seed[0]}")["runs"][0]
    assert alone["id"] == longer[0] and alone["best"]
    assert not page(client, f"limit=1&before={mnist_better[0]}")["runs"][0]["best"]  # mnist[1]: beaten


def test_the_comparable_column_is_every_setting_but_what_a_study_varies(app):
    from app.comparable import VARIED, comparable_settings

    (run_id,) = make_runs(app, 1, penalty="elastic", lam=0.01, lam_l2=0.02, seed=3)
    row = app.extensions["normlab"].store.get_run(run_id)
    assert json.loads(row["comparable"]) == comparable_settings(row["settings"])
    assert set(row["settings"]) - set(comparable_settings(row["settings"])) == set(VARIED)


def test_a_socket_that_fell_behind_gets_the_newest_page_not_every_run(live_server):
    from .test_ws import Viewer

    make_runs(live_server.app, 150)
    viewer = Viewer(live_server)
    try:
        viewer.wait_hello()
        hub = live_server.app.extensions["normlab"].hub
        for _ in range(1100):  # more than the hub keeps, faster than the socket looks
            hub.notify({"type": "data", "dataset": "x", "message": "filler", "fraction": None})
        message = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not (message and message["type"] == "runs"):
            message = viewer.next(1.0)
        assert message["type"] == "runs" and message["resync"] is True
        assert len(message["runs"]) == 100 and message["total"] == 150 and message["next_before"] is not None
    finally:
        viewer.close()
