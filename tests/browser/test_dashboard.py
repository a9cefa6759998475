"""The dashboard (/): launching from the form, refused values, a none/L1/L2 comparison, the runs table."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from .support import TINY, WATCHABLE, fill_settings, total_steps

PERCENT = re.compile(r"\d+\.\d\d %")


def points(page, chart: str = "#batch-chart") -> int:
    return int(page.get_attribute(chart, "data-points"))


def test_launch_from_the_form_shows_progress_and_a_growing_chart(watched, live_server):
    page = watched
    page.goto(live_server.url + "/")
    fill_settings(page, WATCHABLE)
    page.get_by_role("button", name="Launch run").click()

    row = page.locator("#live-list .live-row").first
    expect(row).to_be_visible()
    run_id = row.get_attribute("data-run")
    expect(page.locator("#form-status")).to_contain_text(f"#{run_id}")
    bar = f'#live-list .live-row[data-run="{run_id}"] progress'

    # The bar moves and the chart grows while the run is running.
    page.wait_for_function("sel => document.querySelector(sel).value > 0", arg=bar)
    value, seen = page.eval_on_selector(bar, "b => b.value"), points(page)
    page.wait_for_function("([sel, v]) => document.querySelector(sel).value > v", arg=[bar, value])
    page.wait_for_function("n => +document.querySelector('#batch-chart').dataset.points > n", arg=seen)
    assert live_server.run(int(run_id))["status"] == "running", "the run ended before growth could be seen"
    expect(page.locator(f'#live-list .live-row[data-run="{run_id}"] .live-epoch')).to_contain_text(
        f"/{WATCHABLE['epochs']}")

    # It ends completed, with its accuracy in the table and every batch point in the chart once.
    table_row = page.locator(f'#runs-table tr[data-run="{run_id}"]')
    expect(table_row).to_have_attribute("data-status", "completed", timeout=40000)
    expect(table_row.locator('td[data-col="accuracy"]')).to_have_text(PERCENT)
    expect(page.locator("#batch-chart")).to_have_attribute("data-points", str(total_steps(WATCHABLE)))
    expect(page.locator("#epoch-chart")).to_have_attribute("data-points", str(WATCHABLE["epochs"]))
    final = live_server.run(int(run_id))
    assert final["settings"]["dataset"] == "synthetic" and final["settings"]["hidden"] == WATCHABLE["hidden"]


def test_invalid_values_are_refused_next_to_the_field(watched, live_server):
    page = watched
    live_server.wait_idle()
    before = len(live_server.runs())
    page.goto(live_server.url + "/")

    page.fill("#f-hidden", "-1")  # 0 is allowed: no hidden layer
    page.get_by_role("button", name="Launch run").click()
    expect(page.locator("#f-hidden-error")).to_contain_text("0 to 4096")
    expect(page.locator("#f-hidden")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-hidden")).to_be_focused()
    page.fill("#f-hidden", "16")
    expect(page.locator("#f-hidden-error")).to_have_text("")

    # A field inside "Advanced": refused while the section is closed, it opens to show the reason.
    page.locator("details.advanced > summary").click()
    page.fill("#f-lr", "-1")
    page.locator("details.advanced > summary").click()
    expect(page.locator("#f-lr")).to_be_hidden()
    page.get_by_role("button", name="Launch run").click()
    expect(page.locator("#f-lr-error")).to_contain_text("from")
    expect(page.locator("#f-lr")).to_be_visible()

    # What only the server knows (batch size above the training-set size) comes back next to the field.
    fill_settings(page, {"lr": "0.1", "dataset": "synthetic", "train_size": "300", "batch_size": "500"})
    page.get_by_role("button", name="Launch run").click()
    expect(page.locator("#f-batch_size-error")).to_contain_text("train_size")
    expect(page.locator("#form-status")).to_contain_text("Not launched")
    expect(page.locator("#f-batch_size")).to_have_value("500")  # nothing typed is lost
    expect(page.locator("#f-train_size")).to_have_value("300")

    # A comparison's own λ is checked too.
    page.fill("#f-batch_size", "50")
    page.fill("#c-lam_l1", "20")
    page.get_by_role("button", name="Compare none / L1 / L2").click()
    expect(page.locator("#c-lam_l1-error")).to_contain_text("0 to 10")

    assert len(live_server.runs()) == before


def test_compare_none_l1_l2_runs_three_and_marks_the_best(watched, live_server):
    page = watched
    live_server.wait_idle()
    before = {r["id"] for r in live_server.runs()}
    page.goto(live_server.url + "/")
    fill_settings(page, TINY)
    page.get_by_role("button", name="Compare none / L1 / L2").click()
    expect(page.locator("#compare-status")).to_contain_text("Comparison queued")  # under its own button

    new = [r for r in live_server.runs() if r["id"] not in before]
    assert sorted(r["settings"]["penalty"] for r in new) == ["l1", "l2", "none"]
    assert len({r["group"] for r in new}) == 1
    lams = {r["settings"]["penalty"]: r["settings"]["lam"] for r in new}
    assert lams == {"none": 0.0, "l1": 1e-4, "l2": 0.01}

    for run in new:
        row = page.locator(f'#runs-table tr[data-run="{run["id"]}"]')
        expect(row).to_have_attribute("data-status", "completed", timeout=40000)
        expect(row.locator('td[data-col="accuracy"]')).to_have_text(PERCENT)
        expect(row.locator('input[type="checkbox"]')).to_be_checked()  # overlaid in the charts

    # All three overlaid, every point once (charts draw near the view: the form's button is further down).
    page.locator("#batch-chart").scroll_into_view_if_needed()
    expect(page.locator("#batch-chart")).to_have_attribute("data-points", str(3 * total_steps(TINY)))
    legend = page.locator("#batch-chart .legend")
    for run in new:
        expect(legend).to_contain_text(f"#{run['id']}")

    # ★ where the server puts it (the best of each penalty among comparable runs), on the page shown.
    page_runs = live_server.api("GET", "/api/runs?fold=studies&limit=50")[1]["runs"]
    starred_by_api = {r["id"] for r in page_runs if r["best"]}
    assert {r["id"] for r in new} & starred_by_api, "none of three comparable runs is the best of its penalty"
    starred = page.locator("#runs-table tr.best")
    expect(starred).to_have_count(len(starred_by_api))
    assert {int(i) for i in starred.evaluate_all("rows => rows.map(r => r.dataset.run)")} == starred_by_api
    expect(starred.first.locator(".star")).to_have_text("★")


def test_table_overlay_sort_rerun_and_delete(watched, live_server):
    page = watched
    live_server.wait_idle()
    run = live_server.launch(**TINY)
    live_server.wait_for_status(run["id"], {"completed"})
    page.goto(live_server.url + "/")
    rid = run["id"]
    row = page.locator(f'#runs-table tr[data-run="{rid}"]')
    expect(row).to_have_attribute("data-status", "completed")

    # Finished runs are not in the charts until ticked; ticking loads the stored curve.
    expect(page.locator("#batch-chart")).to_have_attribute("data-points", "0")
    row.get_by_role("checkbox").check()
    expect(page.locator("#batch-chart")).to_have_attribute("data-points", str(total_steps(TINY)))
    expect(page.locator("#epoch-chart")).to_have_attribute("data-points", str(TINY["epochs"]))
    row.get_by_role("checkbox").uncheck()
    expect(page.locator("#batch-chart")).to_have_attribute("data-points", "0")

    # Sorting by test accuracy (descending first), then by it ascending.
    header = page.locator('#runs-table th[data-sort="accuracy"]')
    header.get_by_role("button").click()
    expect(header).to_have_attribute("aria-sort", "descending")
    values = accuracy_column(page)
    assert values == sorted(values, reverse=True) and len(values) >= 2
    header.get_by_role("button").click()
    expect(header).to_have_attribute("aria-sort", "ascending")
    assert accuracy_column(page) == sorted(values)

    # Run again: a new run with the same settings, shown live.
    count = len(live_server.runs())
    row.get_by_role("button", name=f"Run {rid} again with the same settings").click()
    page.wait_for_function("n => document.querySelectorAll('#runs-table tbody tr').length > n", arg=count)
    again = live_server.runs()[0]
    assert again["id"] != rid and again["settings"] == run["settings"]
    again_row = page.locator(f'#runs-table tr[data-run="{again["id"]}"]')
    expect(again_row).to_have_attribute("data-status", "completed", timeout=30000)

    # Delete asks once more on the button itself.
    delete = row.get_by_role("button", name=f"Delete run {rid}")
    delete.click()
    expect(delete).to_have_text("Confirm delete")
    delete.click()
    expect(row).to_have_count(0)
    assert live_server.api("GET", f"/api/runs/{rid}")[0] == 404

    # Export CSV is a plain link to the API.
    expect(page.get_by_role("link", name="Export CSV")).to_have_attribute("href", "/api/runs.csv")


def accuracy_column(page) -> list[float]:
    texts = page.locator('#runs-table tbody tr td[data-col="accuracy"] .acc').all_inner_texts()
    return [float(t.rstrip(" %")) for t in texts if t.strip() != "—"]


def test_form_controls_are_labelled_with_ranges_and_defaults(watched, live_server):
    page = watched
    page.goto(live_server.url + "/")
    schema = live_server.api("GET", "/api/schema")[1]
    settings = schema["settings"] if isinstance(schema, dict) else schema
    for s in settings:
        control = page.locator(f"#f-{s['name']}")
        expect(control).to_have_count(1)
        label = page.locator(f'label[for="f-{s["name"]}"]')
        expect(label).to_have_text(s["label"])
        if s["type"] != "choice":
            expect(page.locator(f"#f-{s['name']}-hint")).to_contain_text("–")
            expect(control).to_have_attribute("aria-describedby", re.compile(f"f-{s['name']}-hint"))
    # Primary settings up front (epochs among them: the first a newcomer changes), the rest under "Advanced".
    for name in ("penalty", "hidden", "epochs", "dataset"):
        expect(page.locator(f"details.advanced #f-{name}")).to_have_count(0)
        expect(page.locator(f"#f-{name}")).to_be_visible()
    expect(page.locator("details.advanced #f-lr")).to_have_count(1)
    expect(page.locator("#f-hidden")).to_have_value("200")
    expect(page.locator("#f-hidden-hint")).to_contain_text("0 – 4096")
    # λ appears with a penalty, and takes the reference study's value for it (written as everywhere: 1e-4).
    expect(page.locator("#f-lam")).to_be_hidden()
    page.select_option("#f-penalty", "l2")
    expect(page.locator("#f-lam")).to_have_value("0.01")
    page.select_option("#f-penalty", "l1")
    expect(page.locator("#f-lam")).to_have_value("1e-4")
    expect(page.locator("#f-lam_l2")).to_be_hidden()
    page.select_option("#f-penalty", "elastic")
    expect(page.locator("#f-lam_l2")).to_be_visible()
    # The smoothing slider.
    page.locator("#smoothing").fill("0.9")
    expect(page.locator("#smoothing-value")).to_have_text("0.90")
