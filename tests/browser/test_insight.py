"""Inside a run: loss parts, weight norms, histograms, first-layer images, the confusion heatmap;
the compare page; labels typed by a user stay text everywhere (issue 5); the executor in the footer."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .support import TINY, total_steps

SETTINGS = {**TINY, "hidden": 16, "epochs": 3}
XSS = "<script>alert(1)</script><img src=x onerror=alert(2)>"


@pytest.fixture(scope="module")
def two_runs(live_server):
    """An L1 run and a no-penalty run, same seed, finished."""
    l1 = live_server.launch(**SETTINGS, penalty="l1", lam=3e-3)
    none = live_server.launch(**SETTINGS, penalty="none")
    return [live_server.wait_for_status(r["id"], {"completed"}) for r in (l1, none)]


def chart_data(page, selector: str) -> list[dict]:
    return page.locator(selector).evaluate(
        "gd => (gd.data || []).map(t => ({uid: t.uid, type: t.type, n: (t.x || []).length, stack: t.stackgroup || null,"
        " y: Array.from(t.y || [])}))")


def scroll_to(page, selector: str) -> None:
    """Charts and the weight images below the fold are drawn (fetched) when scrolled to."""
    page.locator(selector).scroll_into_view_if_needed()


def test_the_run_page_shows_what_happened_inside_the_run(watched, live_server, two_runs):
    page = watched
    run = two_runs[0]
    rid = run["id"]
    weights = live_server.api("GET", f"/api/runs/{rid}/weights")[1]
    page.goto(f"{live_server.url}/runs/{rid}")

    # The loss split into data + penalty, stacked, per batch and per epoch (own x-axes).
    expect(page.locator("#parts-batch-chart")).to_have_attribute("data-points", str(total_steps(SETTINGS)))
    expect(page.locator("#parts-epoch-chart")).to_have_attribute("data-points", str(SETTINGS["epochs"]))
    scroll_to(page, "#parts-batch-chart")
    page.wait_for_function("() => document.querySelector('#parts-batch-chart').data")
    page.wait_for_function("() => document.querySelector('#parts-epoch-chart').data")
    parts = {t["uid"]: t for t in chart_data(page, "#parts-batch-chart")}
    assert parts["data"]["stack"] == parts["penalty"]["stack"] == "parts"
    assert all(v > 0 for v in parts["penalty"]["y"]), "an L1 run has a penalty on every batch"
    epoch_parts = {t["uid"]: t for t in chart_data(page, "#parts-epoch-chart")}
    metrics = live_server.api("GET", f"/api/runs/{rid}/metrics")[1]["epoch"]
    assert epoch_parts["penalty"]["y"] == pytest.approx(metrics["penalty"])
    assert epoch_parts["data"]["y"] == pytest.approx(metrics["data_loss"])
    titles = page.locator("#parts-batch-chart, #parts-epoch-chart").evaluate_all(
        "els => els.map(gd => gd.layout.xaxis.title.text)")
    assert titles == ["step (SGD batches)", "epoch"]

    # Weight norms and sparsity per epoch, per layer.
    scroll_to(page, "#norm1-chart")
    page.wait_for_function("() => ['#norm1-chart', '#norm2-chart', '#sparsity-chart'].every(s => document.querySelector(s).data)")
    for chart in ("#norm1-chart", "#norm2-chart"):
        expect(page.locator(chart)).to_have_attribute("data-points", str(SETTINGS["epochs"]))
        uids = [t["uid"] for t in chart_data(page, chart)]
        assert uids == [f"{rid}-W1", f"{rid}-W2"]
    assert [t["n"] for t in chart_data(page, "#sparsity-chart")] == [SETTINGS["epochs"]] * 3
    l1_w1 = chart_data(page, "#norm1-chart")[0]["y"]
    assert l1_w1 == pytest.approx([w[0]["l1"] for w in metrics["weights"]])

    # One histogram per layer, 80 fixed bins, log-scaled counts.
    scroll_to(page, "#hist-W1")
    for layer in ("W1", "W2"):
        chart = page.locator(f"#hist-{layer}")
        expect(chart).to_have_attribute("data-traces", "1")
        page.wait_for_function("sel => document.querySelector(sel).data", arg=f"#hist-{layer}")
        drawn = chart.evaluate("gd => ({n: gd.data[0].x.length, type: gd.data[0].type, ytype: gd.layout.yaxis.type})")
        assert drawn == {"n": 80, "type": "bar", "ytype": "log"}
        expect(chart.locator(".barlayer .point").first).to_be_attached()

    # The first layer as 28×28 images, one per hidden unit, with the colour bar and its scale.
    scroll_to(page, "#weight-figure")
    grid = page.locator("#weight-grid")
    expect(grid).to_have_attribute("data-images", str(SETTINGS["hidden"]))
    expect(grid).to_have_attribute("data-dead", str(weights["dead_units"]))
    expect(page.locator("#dead-units")).to_contain_text(f"dead units (every incoming |w| < 10⁻³): {weights['dead_units']}")
    largest = max(abs(v) for unit in weights["first_layer"] for v in unit)
    assert float(grid.get_attribute("data-scale")) == pytest.approx(largest)
    assert float(page.get_attribute("#weight-bar", "data-scale")) == pytest.approx(largest)
    canvas = grid.locator("canvas")
    size = canvas.evaluate("c => [c.width, c.height]")
    assert size[0] % 30 == 28 and size[1] % 30 == 28  # whole 28-pixel units with 2-pixel gaps
    # Pointing at a pixel says which unit and its weight.
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 3, box["y"] + 3)
    expect(page.locator("#weight-readout")).to_contain_text("unit 1 · pixel")
    # The 99th-percentile scale is smaller, and shared by the grid and the bar.
    before = grid.get_attribute("data-scale")
    page.select_option("#weight-scale", "p99")
    expect(page.locator("#weight-bar")).not_to_have_attribute("data-scale", before)
    assert float(page.get_attribute("#weight-bar", "data-scale")) < largest
    assert page.get_attribute("#weight-bar", "data-scale") == grid.get_attribute("data-scale")

    # The confusion matrix as a heatmap (and as a table).
    scroll_to(page, "#confusion-heatmap")
    heat = page.locator("#confusion-heatmap")
    expect(heat).to_have_attribute("data-cells", "100")
    expect(heat).to_have_attribute("data-total", "10000")  # the synthetic test set
    assert heat.evaluate("gd => gd.data[0].type") == "heatmap"
    expect(page.locator("#confusion tbody tr")).to_have_count(10)


def test_fit_to_quantiles_ignores_outliers_on_the_loss_charts(watched, live_server, two_runs):
    page = watched
    rid = two_runs[1]["id"]
    page.goto(f"{live_server.url}/runs/{rid}")
    expect(page.locator("#batch-chart")).to_have_attribute("data-points", str(total_steps(SETTINGS)))
    page.wait_for_function("() => document.querySelector('#batch-chart').layout")
    losses = live_server.api("GET", f"/api/runs/{rid}/metrics")[1]["batch"]["loss"]
    assert page.locator("#batch-chart").evaluate("gd => gd.layout.yaxis.autorange") is True
    page.locator("#fit-quantiles").check()
    ordered = sorted(losses)
    q05, q95 = ordered[int(0.05 * (len(ordered) - 1))], ordered[int(0.95 * (len(ordered) - 1)) + 1]
    for chart in ("#batch-chart", "#parts-batch-chart"):
        scroll_to(page, chart)
        page.wait_for_function("sel => document.querySelector(sel).layout?.yaxis.autorange === false", arg=chart)
        low, high = page.locator(chart).evaluate("gd => gd.layout.yaxis.range")
        assert low < q05 and high > q95 and high < max(losses), (chart, low, high, q05, q95, max(losses))
    page.wait_for_function("() => document.querySelector('#epoch-chart').layout.yaxis.autorange === false")
    page.locator("#fit-quantiles").uncheck()
    page.wait_for_function("() => document.querySelector('#batch-chart').layout.yaxis.autorange === true")


def test_compare_ticked_runs_shows_grids_side_by_side_on_one_scale(watched, live_server, two_runs):
    page = watched
    ids = [str(r["id"]) for r in two_runs]
    page.goto(live_server.url + "/")
    button = page.get_by_role("button", name=re.compile("^Compare ticked runs"))
    expect(button).to_be_disabled()
    for run_id in ids:
        page.locator(f'#runs-table tr[data-run="{run_id}"] input[type="checkbox"]').check()
    expect(button).to_have_text("Compare ticked runs (2)")
    button.click()
    page.wait_for_url(re.compile(r"/compare\?runs=" + ",".join(sorted(ids, key=int)) + "$"))

    grids = page.locator(".compare-grids .weight-grid")
    expect(grids).to_have_count(2)
    for run_id in ids:
        expect(page.locator(f"#grid-{run_id}")).to_have_attribute("data-images", str(SETTINGS["hidden"]))
    scales = grids.evaluate_all("els => els.map(e => e.dataset.scale)")
    assert len(set(scales)) == 1 and scales[0] == page.get_attribute("#weight-bar", "data-scale")
    weights = [live_server.api("GET", f"/api/runs/{i}/weights")[1] for i in ids]
    largest = max(abs(v) for w in weights for unit in w["first_layer"] for v in unit)
    assert float(scales[0]) == pytest.approx(largest)
    for run_id, w in zip(ids, weights):
        expect(page.locator(f"#grid-{run_id}")).to_have_attribute("data-dead", str(w["dead_units"]))
    # Histograms overlaid: one trace per run, per layer.
    for layer in ("W1", "W2"):
        expect(page.locator(f"#hist-{layer}")).to_have_attribute("data-traces", "2")
    expect(page.locator("#norm1-chart")).to_have_attribute("data-points", str(2 * SETTINGS["epochs"]))
    # The final numbers per run.
    rows = page.locator("#compare-table tbody tr")
    expect(rows).to_have_count(2)
    for run in two_runs:
        row = page.locator(f'#compare-table tr[data-run="{run["id"]}"]')
        expect(row.locator('td[data-col="accuracy"]')).to_have_text(f'{run["result"]["test_accuracy"] * 100:.2f} %')
        expect(row.locator('td[data-col="dead"]')).to_have_text(f'{run["result"]["dead_units"]} of {SETTINGS["hidden"]}')

    # Unknown ids are named, not an error.
    page.goto(f"{live_server.url}/compare?runs={ids[0]},999999,abc")
    expect(page.locator("#compare-missing")).to_contain_text("999999")
    expect(page.locator(".compare-grids .weight-grid")).to_have_count(1)


def test_a_typed_label_is_text_everywhere_and_runs_nothing(watched, live_server, two_runs):
    """Issue 5: a label with markup shows as those characters on every page; no script runs."""
    page = watched
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    live_server.wait_idle()
    page.goto(live_server.url + "/")
    expect(page.locator("#connection")).to_have_attribute("data-state", "open")
    run = live_server.launch(**SETTINGS, label=XSS)  # its progress row stays a few seconds after it ends
    rid = run["id"]
    assert run["label"] == XSS

    # The progress row (while it runs), the table, the chart legend.
    live_row = page.locator(f'#live-list .live-row[data-run="{rid}"]')
    expect(live_row.locator(".live-label")).to_have_text(f"#{rid} {XSS}")
    table_row = page.locator(f'#runs-table tr[data-run="{rid}"]')
    expect(table_row.locator(".run-label-cell")).to_have_text(XSS)
    expect(page.locator("#batch-chart .legend")).to_contain_text(XSS)
    expect(table_row).to_have_attribute("data-status", "completed", timeout=40000)

    # Its own page: the heading and the window title.
    page.goto(f"{live_server.url}/runs/{rid}")
    expect(page.locator("h1 .run-label")).to_have_text(XSS)
    assert XSS in page.title()
    expect(page.locator("#batch-chart .legend")).to_contain_text(XSS)

    # A study named the same way, on the studies list and its page; the run on the compare page.
    status, study = live_server.api("POST", "/api/studies", {"name": XSS, "penalties": ["none"], "seeds": 1,
                                                           "settings": {**SETTINGS, "epochs": 1}})
    assert status == 201, study
    live_server.wait_idle()
    page.goto(live_server.url + "/studies")
    expect(page.locator(f'#studies-table tr[data-study="{study["id"]}"] .study-name')).to_have_text(XSS)
    page.goto(f"{live_server.url}/studies/{study['id']}")
    expect(page.locator("#study-name")).to_have_text(XSS)
    assert XSS in page.title()
    expect(page.locator("#count-completed")).to_have_text("1")
    page.goto(f"{live_server.url}/compare?runs={rid}")
    expect(page.locator(f'#compare-table tr[data-run="{rid}"] .run-label-cell')).to_have_text(XSS)
    expect(page.locator(".compare-grids figcaption .run-label")).to_have_text(XSS)

    # Nothing was made of the markup: no alert, no injected element anywhere we went.
    for url in ("/", f"/runs/{rid}", f"/studies/{study['id']}", "/studies", f"/compare?runs={rid}"):
        page.goto(live_server.url + url)
        page.wait_for_timeout(300)
        assert page.locator('img[src="x"]').count() == 0, url
        # Only our module scripts and JSON data blocks (whose text is data, never run) are on the page.
        assert page.evaluate("() => [...document.scripts].filter(s => !s.src && s.type !== 'application/json').length") == 0, url
        assert page.evaluate("() => [...document.scripts].filter(s => s.textContent.includes('</script')).length") == 0, url
    assert dialogs == []


def test_the_footer_names_the_executor_on_every_page(watched, live_server, two_runs):
    page = watched
    status = live_server.api("GET", "/api/status")[1]
    run = two_runs[0]["id"]
    for path in ("/", "/studies", f"/runs/{run}", f"/compare?runs={run}"):
        page.goto(live_server.url + path)
        expect(page.locator("#server-status")).to_have_attribute("data-executor", status["executor"])
        expect(page.locator("#executor")).to_contain_text(f"executor: {status['executor']}")
        expect(page.locator("#executor")).to_contain_text(f"workers: {status['workers']}")
        expect(page.locator("#executor")).to_contain_text(re.compile(rf"queue: \d+ of at most {status['queue_limit']}"))
        expect(page.locator("#executor")).to_contain_text(
            re.compile(rf"study runs queued: \d+ of at most {status['study_queue_limit']}"))
