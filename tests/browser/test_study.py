"""Studies in the browser: launching one from /studies, and its page filling in with the trade-off view."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .support import fill_settings

# 3 penalties × 2 λ (none once) × 2 seeds = 10 tiny synthetic runs, a few seconds in all.
SHARED = {"dataset": "synthetic", "train_size": 400, "batch_size": 50, "hidden": 16, "epochs": 2}
LAMS = "1e-3, 1e-2"
TRADEOFF_CHARTS = ("#tradeoff-accuracy", "#tradeoff-sparsity", "#tradeoff-gap", "#tradeoff-l1", "#tradeoff-l2")


def fill_shared(page, settings: dict) -> None:
    fill_settings(page, settings, form=".study-launch", prefix="s")


def studies_count(live_server) -> int:
    status, body = live_server.api("GET", "/api/studies")
    assert status == 200
    return len(body)


@pytest.fixture(scope="module")
def finished_study(browser, live_server):
    """The study launched from the page, run to completion (shared by the tests that look at it)."""
    page = browser.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    try:
        page.goto(live_server.url + "/studies")
        page.fill("#st-name", "tiny sweep")
        for penalty, on in (("none", True), ("l1", True), ("l2", True), ("elastic", False)):
            box = page.locator(f"#st-pen-{penalty}")
            box.check() if on else box.uncheck()
        page.locator("#st-mode-list").check()
        page.fill("#st-lams", LAMS)
        page.fill("#st-seeds", "2")
        fill_shared(page, SHARED)
        expect(page.locator("#study-plan")).to_have_attribute("data-runs", "10")
        expect(page.locator("#study-plan")).to_contain_text("5 settings")
        page.get_by_role("button", name="Launch study").click()
        page.wait_for_url(re.compile(r"/studies/\d+$"))
        study_id = int(page.url.rsplit("/", 1)[1])
        # The page fills in live: it is seen with runs still to go, then complete.
        expect(page.locator("#study-page")).to_have_attribute("data-runs", "10")
        expect(page.locator("#study-page")).to_have_attribute("data-live", "0", timeout=60000)
        assert not problems, problems
        return study_id
    finally:
        page.close()


def test_the_study_page_shows_the_trade_off_with_the_right_points(watched, live_server, finished_study):
    page = watched
    study = live_server.api("GET", f"/api/studies/{finished_study}")[1]
    assert len(study["runs"]) == 10 and study["spec"]["lams"] == [1e-3, 1e-2]
    assert all(r["settings"]["hidden"] == SHARED["hidden"] and r["settings"]["dataset"] == "synthetic" for r in study["runs"])

    page.goto(f"{live_server.url}/studies/{finished_study}")
    expect(page.locator("h1")).to_contain_text("tiny sweep")
    expect(page.locator("#count-completed")).to_have_text("10")
    expect(page.locator("#count-total")).to_have_text("10")
    expect(page.locator("#verdict")).to_have_text(study["verdict"])
    workers = live_server.api("GET", "/api/status")[1]["workers"]  # by default one per core
    expect(page.locator("#study-concurrency")).to_have_text(
        f"This server trains {workers} run{'s' if workers != 1 else ''} at a time; the others wait in the queue.")

    # Each trade-off chart: 2 λ × (L1, L2) setting means, the baseline band, the 8 runs as dots.
    for chart in TRADEOFF_CHARTS:
        node = page.locator(chart)
        expect(node).to_have_attribute("data-points", "4")
        expect(node).to_have_attribute("data-baseline", "1")
        expect(node).to_have_attribute("data-penalties", "l1,l2")
        expect(node).to_have_attribute("data-runs", "8")
        drawn = node.evaluate("""gd => ({
            means: gd.data.filter(t => t.uid.endsWith('-mean')).map(t => [t.uid, t.x.length, !!t.error_y]),
            traces: gd.data.length, x: gd.layout.xaxis.title.text, xtype: gd.layout.xaxis.type,
            y: gd.layout.yaxis.title.text, hover: gd.data.every(t => t.hoverinfo === 'skip' || !!t.hovertemplate),
            legend: [...gd.querySelectorAll('.legendtext')].map(n => n.textContent)})""")
        assert drawn["means"] == [["l1-mean", 2, True], ["l2-mean", 2, True]], chart
        assert drawn["traces"] == int(node.get_attribute("data-traces"))
        assert drawn["xtype"] == "log" and "λ" in drawn["x"] and drawn["y"], chart
        assert drawn["hover"], chart
        assert any("L1" in t for t in drawn["legend"]) and any("L2" in t for t in drawn["legend"])
        assert any(t.startswith("none") for t in drawn["legend"]), drawn["legend"]
        # Plotly drew the mean points (SVG).
        assert node.locator(".scatterlayer .trace .points path").count() >= 4

    # The best setting is starred where it is not the baseline.
    best = study["best"]
    if best["penalty"] != "none":
        star = page.locator("#tradeoff-accuracy").evaluate(
            "gd => gd.data.filter(t => t.uid === 'best').map(t => [t.x[0], t.y[0], t.hovertemplate])")
        assert len(star) == 1 and star[0][1] == pytest.approx(best["accuracy"])
        assert star[0][0] == pytest.approx(best["lam"], rel=0.1)  # drawn a little aside per penalty
        assert f"λ={best['lam']:g}".replace("e-0", "e-") in star[0][2]
        expect(page.locator(f'#settings-table tr.best[data-setting="{best["penalty"]}:{best["lam"]}"]')).to_have_count(1)

    # Hovering a setting's mean says its value and spread.
    page.locator("#tradeoff-accuracy").scroll_into_view_if_needed()
    page.locator("#tradeoff-accuracy").evaluate(
        "gd => Plotly.Fx.hover(gd, [{curveNumber: gd.data.findIndex(t => t.uid === 'l2-mean'), pointNumber: 0}])")
    expect(page.locator("#tradeoff-accuracy .hoverlayer")).to_contain_text(re.compile(r"L2 λ=0\.001.*± .*sd, n=2"))

    # One table row per setting (none, L1 × 2, L2 × 2), every run listed and linked.
    rows = page.locator("#settings-table tbody tr")
    expect(rows).to_have_count(5)
    expect(rows.first.locator('td[data-col="penalty"]')).to_contain_text("none")
    for setting in study["settings"]:
        key = f'{setting["penalty"]}:{0 if setting["penalty"] == "none" else setting["lam"]}'
        row = page.locator(f'#settings-table tr[data-setting="{key}"]')
        expect(row.locator('td[data-col="runs"]')).to_have_text("2")
        acc = setting["metrics"]["test_accuracy"]
        expect(row.locator('td[data-col="accuracy"]')).to_have_text(f'{acc["mean"] * 100:.2f} % ± {acc["std"] * 100:.2f} %')
    expect(page.locator("#study-runs tbody tr")).to_have_count(10)
    first = study["runs"][0]["id"]
    expect(page.locator(f'#study-runs tr[data-run="{first}"] a[href="/runs/{first}"]')).to_have_count(1)
    expect(page.get_by_role("link", name="Export CSV")).to_have_attribute("href", f"/api/studies/{finished_study}.csv")

    # Ticking two runs and comparing them opens the compare page.
    ids = [str(r["id"]) for r in study["runs"][:2]]
    for run_id in ids:
        page.locator(f'#study-runs tr[data-run="{run_id}"] input[type="checkbox"]').check()
    page.get_by_role("button", name="Compare ticked runs (2)").click()
    page.wait_for_url(re.compile(r"/compare\?runs=" + ",".join(ids) + "$"))
    expect(page.locator(".compare-grids .weight-grid[data-images='16']")).to_have_count(2)


def test_the_studies_list_links_to_the_study(watched, live_server, finished_study):
    page = watched
    page.goto(live_server.url + "/studies")
    row = page.locator(f'#studies-table tr[data-study="{finished_study}"]')
    expect(row).to_contain_text("tiny sweep")
    expect(row).to_contain_text("10 completed")
    expect(row.get_by_role("link", name="tiny sweep")).to_have_attribute("href", f"/studies/{finished_study}")
    expect(page.locator('nav a[href="/studies"]')).to_have_attribute("aria-current", "page")


def test_presets_fill_the_form(watched, live_server):
    page = watched
    page.goto(live_server.url + "/studies")
    presets = live_server.api("GET", "/api/studies/presets")[1]

    page.get_by_role("button", name=presets["seed"]["name"]).click()
    expect(page.locator("#st-name")).to_have_value(presets["seed"]["name"])
    expect(page.locator("#st-mode-per")).to_be_checked()
    expect(page.locator("#st-lams-l1")).to_have_value("1e-4")
    expect(page.locator("#st-lams-l2")).to_have_value("0.01")
    expect(page.locator("#st-lams-elastic")).to_be_hidden()
    expect(page.locator("#st-seeds")).to_have_value("1")
    expect(page.locator("#s-hidden")).to_have_value("200")  # the reference setup
    expect(page.locator("#study-plan")).to_have_attribute("data-runs", "3")

    page.get_by_role("button", name=presets["sweep"]["name"]).click()
    expect(page.locator("#st-mode-range")).to_be_checked()
    expect(page.locator("#st-lam-low")).to_have_value("1e-5")
    expect(page.locator("#st-lam-high")).to_have_value("0.1")
    expect(page.locator("#st-lam-count")).to_have_value("5")
    expect(page.locator("#st-seeds")).to_have_value("3")
    for penalty in ("none", "l1", "l2"):
        expect(page.locator(f"#st-pen-{penalty}")).to_be_checked()
    expect(page.locator("#st-pen-elastic")).not_to_be_checked()
    expect(page.locator("#study-plan")).to_have_attribute("data-runs", "33")
    expect(page.locator("#study-plan")).to_contain_text("11 settings")


def test_refused_values_show_next_to_their_field(watched, live_server):
    page = watched
    before = studies_count(live_server)
    page.goto(live_server.url + "/studies")

    # Checked in the page.
    page.locator("#st-mode-list").check()
    page.fill("#st-lams", "1e-3, lots")
    page.get_by_role("button", name="Launch study").click()
    expect(page.locator("#st-lams-error")).to_contain_text("lots is not a number")
    expect(page.locator("#st-lams")).to_have_attribute("aria-invalid", "true")
    page.fill("#st-lams", "1e-3")
    expect(page.locator("#st-lams-error")).to_have_text("")
    for penalty in ("none", "l1", "l2", "elastic"):
        page.locator(f"#st-pen-{penalty}").uncheck()
    page.get_by_role("button", name="Launch study").click()
    expect(page.locator("#st-penalties-error")).to_contain_text("at least one")
    page.locator("#st-pen-l1").check()
    expect(page.locator("#st-penalties-error")).to_have_text("")

    # Only the server knows: a batch larger than the training set. Its reason comes back next to the field.
    fill_shared(page, {**SHARED, "train_size": 300, "batch_size": 500})
    page.get_by_role("button", name="Launch study").click()
    expect(page.locator("#s-batch_size-error")).to_contain_text("train_size")
    expect(page.locator("#s-batch_size")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#study-status")).to_contain_text("Not launched")
    expect(page.locator("#s-batch_size")).to_have_value("500")  # nothing typed is lost

    # And a λ range the server refuses (checked here too).
    page.locator("#st-mode-range").check()
    page.fill("#st-lam-low", "0.1")
    page.fill("#st-lam-high", "0.001")
    page.get_by_role("button", name="Launch study").click()
    expect(page.locator("#st-lam_range-error")).to_contain_text("from ≤ to")
    assert studies_count(live_server) == before


def test_an_unknown_study_is_a_404(watched, live_server):
    response = watched.goto(live_server.url + "/studies/987654")
    assert response.status == 404
