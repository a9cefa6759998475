"""The runs table at scale: filters kept in the address bar, pages, studies folded (and unfolded), the ★
only among comparable runs. Runs are stored straight into the server's store (support.store_runs)."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from .support import LiveServer, store_runs

TINY_SETTINGS = {"dataset": "synthetic", "train_size": 300, "batch_size": 50, "hidden": 8, "epochs": 2}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server of its own (the other modules' runs would change the counts), with a study of 6 runs
    and 14 runs launched on their own across datasets, statuses, penalties and labels."""
    live = LiveServer(tmp_path_factory.mktemp("runs-list") / "db.sqlite")
    try:
        study_id, study_runs = store_runs(live, [
            {**TINY_SETTINGS, "penalty": p, "lam": lam, "seed": s, "accuracy": 0.5 + 0.01 * i, "label": f"sweep {p} seed {s}"}
            for i, (p, lam, s) in enumerate([("none", 0, 0), ("none", 0, 1), ("l1", 1e-3, 0), ("l1", 1e-3, 1),
                                             ("l2", 1e-2, 0), ("l2", 1e-2, 1)])], study="alpha sweep")
        _, own = store_runs(live, [
            {**TINY_SETTINGS, "dataset": "mnist", "penalty": "l2", "lam": 0.01, "accuracy": 0.90, "label": "wide mnist a"},
            {**TINY_SETTINGS, "dataset": "mnist", "penalty": "l2", "lam": 0.001, "accuracy": 0.95, "label": "wide mnist b"},
            {**TINY_SETTINGS, "dataset": "mnist", "penalty": "l2", "lam": 0.01, "hidden": 32, "accuracy": 0.80,
             "label": "narrow mnist"},
            {**TINY_SETTINGS, "penalty": "l2", "lam": 0.01, "accuracy": 0.99, "label": "wide synthetic"},
            {**TINY_SETTINGS, "penalty": "l1", "lam": 1e-4, "status": "failed", "label": "broken",
             "reason": "diverged: loss is NaN at step 3\nlower the learning rate"},
            *({**TINY_SETTINGS, "penalty": "none", "accuracy": 0.6, "label": f"filler {i}"} for i in range(9)),
        ])
        live.fixture = {"study": study_id, "study_runs": study_runs, "own": own}
        yield live
    finally:
        live.close()


def table_ids(page) -> list[int]:
    return [int(i) for i in page.locator("#runs-table tbody tr[data-run]").evaluate_all("rows => rows.map(r => r.dataset.run)")]


def api_ids(server, query: str) -> list[int]:
    status, body = server.api("GET", f"/api/runs?{query}")
    assert status == 200, body
    return [r["id"] for r in body["runs"]]


def url_filters(page) -> dict[str, list[str]]:
    return {k: v for k, v in parse_qs(urlparse(page.url).query).items() if k.startswith("runs_")}


def wait_table(page, ids: list[int]) -> None:
    page.wait_for_function("ids => JSON.stringify([...document.querySelectorAll('#runs-table tbody tr[data-run]')]"
                           ".map(r => +r.dataset.run)) === JSON.stringify(ids)", arg=ids)


def test_filters_round_trip_through_the_address_bar(watched, server):
    page = watched
    # A shared link opens with its filters chosen and the server's rows for them.
    page.goto(f"{server.url}/?runs_dataset=mnist&runs_penalty=l2&runs_q=WIDE")
    expect(page.locator("#filter-dataset")).to_have_value("mnist")
    expect(page.locator("#filter-penalty")).to_have_value("l2")
    expect(page.locator("#filter-q")).to_have_value("WIDE")
    expected = api_ids(server, "limit=50&dataset=mnist&penalty=l2&q=WIDE&fold=studies")
    assert len(expected) == 2
    wait_table(page, expected)
    expect(page.locator("#runs-summary")).to_contain_text("Runs 1–2 of 2 matching the filters")

    # Changing a filter: the address bar and the rows follow; a reload keeps both.
    page.select_option("#filter-status", "failed,cancelled,interrupted")
    page.locator("#filter-q").fill("")
    page.select_option("#filter-dataset", "")
    page.select_option("#filter-penalty", "l1")
    wait_table(page, api_ids(server, "limit=50&status=failed,cancelled,interrupted&penalty=l1&fold=studies"))
    assert url_filters(page) == {"runs_status": ["failed,cancelled,interrupted"], "runs_penalty": ["l1"]}
    page.reload()
    expect(page.locator("#filter-status")).to_have_value("failed,cancelled,interrupted")
    wait_table(page, api_ids(server, "limit=50&status=failed,cancelled,interrupted&penalty=l1&fold=studies"))

    # Runs in no study, one study (its name in the list), then everything again.
    page.get_by_role("button", name="Clear filters").click()
    assert url_filters(page) == {}
    page.select_option("#filter-study", "none")
    wait_table(page, api_ids(server, "limit=50&study=none"))
    assert url_filters(page) == {"runs_study": ["none"]}
    expect(page.locator("#filter-fold")).to_be_disabled()
    study = server.fixture["study"]
    expect(page.locator(f'#filter-study option[value="{study}"]')).to_contain_text("alpha sweep")
    page.select_option("#filter-study", str(study))
    wait_table(page, sorted(server.fixture["study_runs"], reverse=True))
    expect(page.locator(f'#runs-table tr[data-run="{server.fixture["study_runs"][0]}"] td[data-col="study"]')).to_contain_text(
        "alpha sweep")


def test_study_runs_are_folded_under_their_study_and_unfold(watched, server):
    page = watched
    study, study_runs = server.fixture["study"], server.fixture["study_runs"]
    page.goto(server.url + "/")
    wait_table(page, api_ids(server, "limit=50&fold=studies"))
    row = page.locator(f'#runs-table tr.study-row[data-study="{study}"]')
    expect(row).to_have_count(1)
    expect(row).to_contain_text("alpha sweep")
    expect(row).to_contain_text("6 completed")
    expect(row.locator('td[data-col="accuracy"]')).to_contain_text("best 55.00 %")  # its best run, from the server
    for run_id in study_runs:
        expect(page.locator(f'#runs-table tr[data-run="{run_id}"]')).to_have_count(0)

    # Unfolding fetches the study's runs (with the table's filters) and shows them under its row.
    toggle = row.get_by_role("button", name=f"Show the runs of study {study}")
    toggle.click()
    expect(page.locator("#runs-table tr.child")).to_have_count(6)
    expect(row.get_by_role("button", name=f"Hide the runs of study {study}")).to_have_attribute("aria-expanded", "true")
    order = page.locator("#runs-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.study || r.dataset.run)")
    at = order.index(str(study))
    assert [int(i) for i in order[at + 1:at + 7]] == sorted(study_runs, reverse=True)
    row.get_by_role("button", name=f"Hide the runs of study {study}").click()
    expect(page.locator("#runs-table tr.child")).to_have_count(0)

    # Unfolded for good: study runs are rows like the others.
    page.locator("#filter-fold").uncheck()
    assert url_filters(page) == {"runs_fold": ["off"]}
    wait_table(page, api_ids(server, "limit=50"))
    expect(page.locator("#runs-table tr.study-row")).to_have_count(0)


def test_the_star_marks_the_best_only_among_comparable_runs(watched, server):
    page = watched
    page.goto(server.url + "/?runs_study=none")
    runs = server.api("GET", "/api/runs?limit=50&study=none")[1]["runs"]
    by_label = {r["label"]: r for r in runs}
    starred = {r["id"] for r in runs if r["best"]}
    # The synthetic run's 99 % does not take the ★ from the MNIST runs, nor the 32-unit run's from the 8-unit ones.
    assert by_label["wide mnist b"]["best"] and by_label["wide synthetic"]["best"] and by_label["narrow mnist"]["best"]
    assert not by_label["wide mnist a"]["best"] and not by_label["broken"]["best"]
    expect(page.locator("#runs-table tr.best")).to_have_count(len(starred))
    got = {int(i) for i in page.locator("#runs-table tr.best").evaluate_all("rows => rows.map(r => r.dataset.run)")}
    assert got == starred
    # The tooltip says which runs it was compared with (the server's words).
    cell = page.locator(f'#runs-table tr[data-run="{by_label["wide mnist b"]["id"]}"] td[data-col="accuracy"]')
    expect(cell.locator(".star")).to_have_text("★")
    among = by_label["wide mnist b"]["best_among"]
    assert among.startswith("completed L2 runs on mnist"), among
    expect(cell).to_have_attribute("title", f"★ The best test accuracy among the {among}")
    expect(cell.locator(".visually-hidden")).to_have_text("best for L2 among comparable runs: ")


def test_pages_of_runs_newest_first(watched, server):
    page = watched
    store_runs(server, [{**TINY_SETTINGS, "accuracy": 0.7 + 0.001 * (i % 7), "label": f"page filler {i}"} for i in range(45)])
    page.goto(server.url + "/?runs_study=none")
    first = api_ids(server, "limit=50&study=none")
    wait_table(page, first)
    total = server.api("GET", "/api/runs?limit=1&study=none")[1]["total"]
    expect(page.locator("#runs-summary")).to_contain_text(f"Runs 1–50 of {total}")
    expect(page.locator("#page-newer")).to_be_disabled()
    page.get_by_role("checkbox", name=f"Show run {first[0]} in the charts").check()
    page.get_by_role("button", name="Older →").click()
    second = api_ids(server, f"limit=50&study=none&before={first[-1]}")
    wait_table(page, second)
    # Ticked runs stay ticked across pages, for the charts and "Compare ticked runs".
    page.get_by_role("checkbox", name=f"Show run {second[0]} in the charts").check()
    expect(page.get_by_role("button", name="Compare ticked runs (2)")).to_be_enabled()
    expect(page.locator("#runs-summary")).to_contain_text(f"Runs 51–{50 + len(second)} of {total}")
    expect(page.locator("#page-text")).to_have_text(re.compile(r"page 2 of \d+"))
    page.get_by_role("button", name="← Newer").click()
    wait_table(page, first)
    expect(page.get_by_role("checkbox", name=f"Show run {first[0]} in the charts")).to_be_checked()
    # Sorting orders the rows of the page shown.
    page.locator('#runs-table th[data-sort="accuracy"] button').click()
    shown = table_ids(page)
    assert sorted(shown) == sorted(first) and shown != first
    page.get_by_role("button", name="Compare ticked runs (2)").click()
    page.wait_for_url(re.compile(rf"/compare\?runs={min(first[0], second[0])},{max(first[0], second[0])}$"))
