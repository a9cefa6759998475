"""The papercuts a newcomer hits in the first hour: the form that keeps its settings and takes them
from a link, the datasets it offers, a failed run that says so, a study cancelled and deleted from
its page, a run deleted from its page, normlab's own 404 page, errors that go once fixed."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from engine.data.loader import DEBIAN_FASHION_DIR

from .support import TINY, WATCHABLE, LiveServer, store_runs

LINKED = {"penalty": "l1", "lam": "1e-4", "epochs": "3", "hidden": "16", "dataset": "synthetic", "train_size": "600",
          "batch_size": "50"}


def query_of(page) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def test_a_link_fills_the_form_and_the_form_keeps_its_settings(watched, live_server):
    page = watched
    live_server.wait_idle()
    page.goto(live_server.url + "/?" + "&".join(f"{k}={v}" for k, v in LINKED.items()))
    for name, value in LINKED.items():
        expect(page.locator(f"#f-{name}")).to_have_value(value)
    expect(page.locator("#f-lr")).to_have_value("0.1")  # the others at their defaults
    expect(page.locator("details.advanced")).to_have_attribute("open", "")  # a linked setting sits there
    expect(page.locator("#form-status")).to_contain_text("Filled in from the link: 7 settings")

    page.get_by_role("button", name="Launch run").click()
    expect(page.locator("#form-status")).to_contain_text("queued")
    run = live_server.runs()[0]
    assert {k: run["settings"][k] for k in LINKED} == {"penalty": "l1", "lam": 1e-4, "epochs": 3, "hidden": 16,
                                                       "dataset": "synthetic", "train_size": 600, "batch_size": 50}

    # A change goes into the address bar at once; a reload keeps it; the dashboard without a link
    # shows the last settings (kept in this browser), and its address bar says them again.
    page.fill("#f-epochs", "4")
    page.wait_for_function("() => new URLSearchParams(location.search).get('epochs') === '4'")
    page.reload()
    expect(page.locator("#f-epochs")).to_have_value("4")
    expect(page.locator("#f-penalty")).to_have_value("l1")
    page.goto(live_server.url + "/")
    expect(page.locator("#f-epochs")).to_have_value("4")
    expect(page.locator("#f-lam")).to_have_value("1e-4")
    expect(page.locator("details.advanced")).to_have_attribute("open", "")
    page.wait_for_function("() => new URLSearchParams(location.search).get('lam') === '1e-4'")

    # Reset: every setting back at its default, the address bar without any.
    page.get_by_role("button", name="Reset to defaults").click()
    expect(page.locator("#f-penalty")).to_have_value("none")
    expect(page.locator("#f-epochs")).to_have_value("20")
    page.wait_for_function("() => !['penalty', 'epochs', 'lam'].some(k => new URLSearchParams(location.search).has(k))")

    # The run's page links to the form with its settings; so does the table's "Edit".
    live_server.wait_for_status(run["id"], {"completed"})
    page.goto(f"{live_server.url}/runs/{run['id']}")
    link = page.get_by_role("link", name="Edit settings and run")
    assert parse_qs(urlparse(link.get_attribute("href")).query) == {k: [v] for k, v in LINKED.items()}
    link.click()
    page.wait_for_url(re.compile(r"/\?"))
    expect(page.locator("#f-lam")).to_have_value("1e-4")
    expect(page.locator("#f-epochs")).to_have_value("3")
    page.get_by_role("button", name="Reset to defaults").click()
    row = page.locator(f'#runs-table tr[data-run="{run["id"]}"]')
    row.get_by_role("link", name=f"Put run {run['id']}'s settings in the launch form").click()
    expect(page.locator("#f-penalty")).to_have_value("l1")
    expect(page.locator("#f-hidden")).to_have_value("16")
    expect(page.locator("#form-status")).to_contain_text(f"Run #{run['id']}'s settings are in the form")


def test_a_link_with_wrong_values_says_what_is_wrong(watched, live_server):
    page = watched
    page.goto(live_server.url + "/?hidden=abc&penalty=nope&epochs=0")
    expect(page.locator("#f-hidden-error")).to_have_text("not a number: abc")
    expect(page.locator("#f-penalty-error")).to_contain_text("no such choice; choose one of none, l1, l2, elastic")
    expect(page.locator("#f-epochs-error")).to_contain_text("must be from 1 to 1000")
    expect(page.locator("#form-status")).to_contain_text("3 need fixing")


def test_errors_show_where_they_belong_and_go_once_fixed(watched, live_server):
    page = watched
    page.goto(live_server.url + "/")
    page.fill("#f-hidden", "abc")  # a text field: the page parses it, "abc" is not a number
    page.get_by_role("button", name="Launch run").click()
    expect(page.locator("#f-hidden-error")).to_have_text("not a number: abc")
    status = page.locator("#form-status")
    expect(status).to_have_text("Not launched: one value needs fixing.")
    # The launch's message sits under the Launch button, before the comparison's section.
    assert page.evaluate("() => !!(document.querySelector('#form-status').compareDocumentPosition("
                         "document.querySelector('fieldset.compare')) & Node.DOCUMENT_POSITION_FOLLOWING)")
    page.fill("#f-hidden", "16")
    expect(status).to_have_text("")

    # The study form: a wrong λ list gives no run count, and the "Not launched" goes with the fix.
    page.goto(live_server.url + "/studies")
    page.locator("#st-mode-list").check()
    page.fill("#st-lams", "1e-4, abc")
    expect(page.locator("#study-plan")).to_have_text("The plan appears once the λ values are valid.")
    expect(page.locator("#study-plan")).to_have_attribute("data-runs", "0")
    page.fill("#st-seeds", "x")
    page.get_by_role("button", name="Launch study").click()
    expect(page.locator("#study-status")).to_have_text("Not launched: 2 values need fixing.")
    page.fill("#st-lams", "1e-4, 1e-3")
    expect(page.locator("#study-status")).to_have_text("Not launched: 2 values need fixing.")  # one is still wrong
    page.fill("#st-seeds", "2")
    expect(page.locator("#study-status")).to_have_text("")
    expect(page.locator("#study-plan")).to_contain_text("× 2 seeds = ")


@pytest.fixture(scope="module")
def no_data_server(tmp_path_factory):
    """A server whose data dir is empty: Fashion-MNIST is not on this machine (unless Debian's package is)."""
    tmp = tmp_path_factory.mktemp("no-data")
    (tmp / "data").mkdir()
    live = LiveServer(tmp / "db.sqlite", DATA_DIR=str(tmp / "data"))
    try:
        yield live
    finally:
        live.close()


def test_the_form_offers_a_dataset_only_when_a_run_can_load_it(watched, no_data_server):
    page = watched
    schema = no_data_server.api("GET", "/api/schema")[1]
    availability = next(s for s in schema["settings"] if s["name"] == "dataset")["availability"]
    page.goto(no_data_server.url + "/")
    for name, a in availability.items():
        option = page.locator(f'#f-dataset option[value="{name}"]')
        if a["available"]:
            expect(option).to_be_enabled()
        else:
            expect(option).to_be_disabled()
            expect(option).to_contain_text("not on this machine")
            # The one command that makes it available, always shown under the list.
            expect(page.locator(f'#f-dataset-hint [data-choice="{name}"]')).to_be_visible()
            expect(page.locator(f'#f-dataset-hint [data-choice="{name}"] code')).to_have_text(a["command"])
    if Path(DEBIAN_FASHION_DIR).exists():
        pytest.skip("Debian's Fashion-MNIST package is installed: every dataset is available here")
    assert not availability["fashion-mnist"]["available"]
    assert availability["fashion-mnist"]["command"].startswith("normlab data --dataset fashion-mnist --data-dir ")
    # A link asking for it gets the reason next to the field, and nothing is launched.
    page.goto(no_data_server.url + "/?dataset=fashion-mnist")
    expect(page.locator("#f-dataset-error")).to_contain_text("normlab data --dataset fashion-mnist")
    page.get_by_role("button", name="Launch run").click()
    expect(page.locator("#form-status")).to_contain_text("Not launched")
    assert no_data_server.runs() == []
    # The studies form offers the same.
    page.goto(no_data_server.url + "/studies")
    expect(page.locator('#s-dataset option[value="fashion-mnist"]')).to_be_disabled()


def test_a_failed_run_says_so_in_full_wherever_it_is_shown(watched, live_server):
    page = watched
    reason = "diverged at step 3: the loss is NaN\n" + "lower the learning rate (now 1000) " * 6
    _, (failed, cancelled) = store_runs(live_server, [{**TINY, "status": "failed", "reason": reason},
                                                      {**TINY, "status": "cancelled", "reason": "cancelled by a test"}])
    page.goto(f"{live_server.url}/runs/{failed}")
    outcome = page.locator("#run-outcome")
    expect(outcome).to_be_visible()
    expect(outcome.locator("h2")).to_have_text("This run failed")
    expect(page.locator("#outcome-reason")).to_have_text(reason)
    assert page.locator("#outcome-reason").evaluate("n => getComputedStyle(n).whiteSpace") == "pre-wrap"  # line breaks kept
    # The charts and the weights say it will not come, instead of waiting for it.
    page.wait_for_function("() => document.querySelector('#batch-chart .annotation-text')")
    expect(page.locator("#batch-chart .annotation-text")).to_have_text("No data: the run failed before any")
    expect(page.locator("#weight-note")).to_have_text("No final weights: the run failed before it finished.")
    expect(page.get_by_role("button", name=f"Delete run {failed}")).to_be_visible()

    page.goto(f"{live_server.url}/runs/{cancelled}")
    expect(page.locator("#weight-note")).to_have_text("No final weights: the run was cancelled before it finished.")
    expect(page.locator("#run-outcome h2")).to_have_text("This run was cancelled")

    # In the table: the whole reason on a line of its own under the run, wrapped within the table.
    page.goto(live_server.url + "/?runs_status=failed")
    row = page.locator(f'#runs-table tr[data-run="{failed}"]')
    expect(row.locator('td[data-col="status"] .status')).to_have_text("failed")
    note = page.locator(f'#runs-table tr.reason-row[data-reason-for="{failed}"]')
    expect(note.locator(".reason")).to_have_text(f"failed: {reason}")
    assert row.evaluate("tr => tr.nextElementSibling.dataset.reasonFor") == str(failed)
    inside = note.evaluate("tr => { const r = tr.querySelector('.reason').getBoundingClientRect(),"
                           " t = tr.closest('.table-wrap').getBoundingClientRect(); return r.right <= t.right + 1 && r.height > 30; }")
    assert inside, "the reason runs out of the table or is not wrapped"

    # Deleted from its own page (asked once more), which then opens the dashboard.
    page.goto(f"{live_server.url}/runs/{failed}")
    delete = page.get_by_role("button", name=f"Delete run {failed}")
    delete.click()
    expect(delete).to_have_text("Confirm delete")
    delete.click()
    page.wait_for_url(live_server.url + "/")
    assert live_server.api("GET", f"/api/runs/{failed}")[0] == 404


def test_a_study_is_cancelled_and_deleted_from_its_page(watched, live_server):
    page = watched
    live_server.wait_idle()
    status, study = live_server.api("POST", "/api/studies", {
        "name": "to cancel", "penalties": ["none", "l2"], "lams": [0.01], "seeds": 3,
        "settings": {**WATCHABLE, "epochs": 1000}})
    assert status == 201, study
    page.goto(f"{live_server.url}/studies/{study['id']}")
    delete = page.get_by_role("button", name="Delete the study")
    expect(delete).to_be_disabled()  # runs are queued or running
    cancel = page.get_by_role("button", name=re.compile(r"Cancel the study \(6 runs to go\)"))
    cancel.click()
    expect(page.locator("#study-actions-status")).to_have_text("Cancelled 6 runs of the study.")
    expect(page.locator("#study-page")).to_have_attribute("data-live", "0")
    expect(page.locator("#count-stopped")).to_have_text("6")
    expect(page.get_by_role("button", name=re.compile("Cancel the study"))).to_be_hidden()
    assert all(r["status"] == "cancelled" for r in live_server.api("GET", f"/api/studies/{study['id']}")[1]["runs"])

    expect(delete).to_be_enabled()
    delete.click()
    expect(delete).to_have_text("Confirm: delete the study and its runs")
    delete.click()
    page.wait_for_url(live_server.url + "/studies")
    assert live_server.api("GET", f"/api/studies/{study['id']}")[0] == 404
    assert live_server.api("GET", f"/api/runs/{study['runs'][0]}")[0] == 404


def test_a_missing_page_is_normlabs_own_with_a_way_back(watched, live_server):
    page = watched
    response = page.goto(f"{live_server.url}/runs/987654")
    assert response.status == 404
    expect(page.locator("h1")).to_have_text("Not found")
    expect(page.locator("#not-found-message")).to_contain_text("There is no run 987654")
    expect(page.get_by_role("link", name="Back to the dashboard")).to_have_attribute("href", "/")
    expect(page.locator("#executor")).to_contain_text("executor:")  # the site's own frame, footer and all
    response = page.goto(f"{live_server.url}/no/such/page")
    assert response.status == 404
    expect(page.locator("#not-found-message")).to_contain_text("/no/such/page")
    # The API stays JSON.
    status, body = live_server.api("GET", "/api/runs/987654")
    assert status == 404 and body == {"error": "there is no run 987654"}
