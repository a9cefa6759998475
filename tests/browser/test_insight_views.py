"""What the weights show (issue 16's pages): pruning curves, input importance and weight trajectories on
the run and compare pages; the forest plot, the comparison table, the any-two picker, the seeds-needed
control and the regularisation path on the study page. Each chart is checked against the API it draws."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .support import TINY, WATCHABLE

SETTINGS = {**TINY, "hidden": 16, "epochs": 3}
STUDY_SETTINGS = {**TINY, "hidden": 16, "epochs": 2}
LAMS = [1e-3, 1e-2]
THRESHOLD = 1e-3  # the schema's sparsity_threshold (checked below)
PATHS = 64


@pytest.fixture(scope="module")
def l1_run(live_server):
    """A finished L1 run whose pruning curve was also fine-tuned."""
    run = live_server.launch(**SETTINGS, penalty="l1", lam=3e-3, prune_fine_tune_steps=2)
    return live_server.wait_for_status(run["id"], {"completed"}, timeout=60)


def make_study(live_server, name: str, penalties: list[str], lams: list[float], seeds: int) -> dict:
    status, body = live_server.api("POST", "/api/studies", {"name": name, "penalties": penalties, "lams": lams,
                                                            "seeds": seeds, "settings": STUDY_SETTINGS})
    assert status == 201, body
    live_server.wait_idle(timeout=120)
    return live_server.api("GET", f"/api/studies/{body['id']}")[1]


@pytest.fixture(scope="module")
def study3(live_server):
    """none, L1 and L2 at two λ, three seeds: 15 tiny runs, every comparison testable."""
    return make_study(live_server, "three seeds", ["none", "l1", "l2"], LAMS, 3)


def drawn(page, selector: str, script: str):
    """Scroll the chart into view, wait for its first draw, then evaluate `script` on it."""
    page.locator(selector).scroll_into_view_if_needed()
    page.wait_for_function("sel => document.querySelector(sel).data", arg=selector)
    return page.locator(selector).evaluate(script)


LEGEND = "gd => [...gd.querySelectorAll('.legendtext, .legendtitletext')].map(n => n.textContent)"
POINTS = "gd => gd.data.reduce((n, t) => n + (t.x || []).filter(v => v !== null).length, 0)"


def signed_points(v: float, digits: int = 2) -> str:
    return ("+" if v > 0 else "−" if v < 0 else "±") + f"{abs(v) * 100:.{digits}f}"


def test_the_run_page_shows_trajectories_pruning_and_input_importance(watched, live_server, l1_run):
    page = watched
    rid = l1_run["id"]
    assert live_server.api("GET", "/api/schema")[1]["sparsity_threshold"] == THRESHOLD
    metrics = live_server.api("GET", f"/api/runs/{rid}/metrics")[1]
    pruning = live_server.api("GET", f"/api/runs/{rid}/pruning")[1]
    weights = live_server.api("GET", f"/api/runs/{rid}/weights")[1]
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"{live_server.url}/runs/{rid}")

    # Trajectories: 64 paths from epoch 0 (trajectory_initial) through every epoch.
    chart = page.locator("#trajectory-chart")
    expect(chart).to_have_attribute("data-points", str(PATHS * (SETTINGS["epochs"] + 1)))
    expect(chart).to_have_attribute("data-paths", str(PATHS))
    assert drawn(page, "#trajectory-chart", POINTS) == PATHS * (SETTINGS["epochs"] + 1)
    below = sum(abs(v) < THRESHOLD for v in metrics["epoch"]["trajectory"][-1])
    expect(chart).to_have_attribute("data-below", str(below))
    expect(page.locator("#trajectory-share")).to_contain_text(f"{below} of {PATHS} sampled weights")
    first = chart.evaluate("gd => gd.data.filter(t => t.x.length).map(t => [t.uid, t.y[0], t.x[0]])")
    starts = {uid: (y, x) for uid, y, x in first}
    initial = metrics["start"]["trajectory_initial"]
    assert all(x == 0 and any(y == pytest.approx(v) for v in initial) for y, x in starts.values())
    legend = chart.evaluate(LEGEND)
    assert any("L1 λ=0.003" in t for t in legend), legend
    assert any(f"|w| < 10⁻³ at epoch {SETTINGS['epochs']} ({below} of {PATHS})" in t for t in legend), legend

    # Pruning: global and first-layer curves, 13 points each, as the API has them; fine-tuned on demand.
    chart = page.locator("#pruning-chart")
    chart.scroll_into_view_if_needed()
    expect(chart).to_have_attribute("data-points", str(2 * len(pruning["fractions"])))
    expect(chart).to_have_attribute("data-curves", "2")
    curves = drawn(page, "#pruning-chart", "gd => Object.fromEntries(gd.data.map(t => [t.uid, t.y]))")
    assert curves[f"{rid}-global"] == pytest.approx(pruning["accuracy"]["global"])
    assert curves[f"{rid}-first_layer"] == pytest.approx(pruning["accuracy"]["first_layer"])
    assert curves[f"{rid}-global-prunable"] == [pytest.approx(pruning["accuracy"]["global"][
        pruning["fractions"].index(pruning["prunable_fraction"]["global"])])]
    legend = chart.evaluate(LEGEND)
    assert "all layers (global)" in legend and "first layer alone" in legend
    assert any("L1 λ=0.003" in t for t in legend), legend
    expect(page.locator("#pruning-note")).to_contain_text(f"{pruning['prunable_fraction']['global'] * 100:.0f} % of all weights")
    toggle = page.get_by_label("Show the fine-tuned curves (dotted)")
    assert pruning["fine_tuned"]["steps"] == 2
    toggle.check()
    expect(chart).to_have_attribute("data-curves", "4")
    page.wait_for_function("() => document.querySelector('#pruning-chart').data.some(t => t.uid.endsWith('-tuned'))")
    tuned = chart.evaluate("gd => gd.data.filter(t => t.uid.endsWith('global-tuned')).map(t => t.y)")
    assert tuned == [pytest.approx(pruning["fine_tuned"]["accuracy"]["global"])]
    toggle.uncheck()
    expect(chart).to_have_attribute("data-curves", "2")

    # Input importance: one 28 × 28 image of the server's 784 values; the dead inputs counted.
    chart = page.locator("#importance-chart")
    chart.scroll_into_view_if_needed()
    expect(chart).to_have_attribute("data-points", "784")
    expect(chart).to_have_attribute("data-dead", str(weights["dead_inputs"]))
    image = drawn(page, "#importance-chart", "gd => ({rows: gd.data[0].z.length, cols: gd.data[0].z[0].length,"
                  " raw: gd.data[0].customdata.flat(), type: gd.data[0].type, bar: gd.data[0].colorbar.title.text})")
    assert (image["rows"], image["cols"], image["type"]) == (28, 28, "heatmap")
    assert image["raw"] == pytest.approx(weights["input_importance"])
    assert "log" in image["bar"]
    expect(page.locator("#importance-note")).to_contain_text(f"{weights['dead_inputs']} of 784 pixels")
    # The images and the importance share one /weights answer.
    page.locator("#weight-figure").scroll_into_view_if_needed()
    expect(page.locator("#weight-grid")).to_have_attribute("data-images", str(SETTINGS["hidden"]))
    assert len([u for u in requests if u.endswith(f"/api/runs/{rid}/weights")]) == 1


PRIOR_NAMES = {"laplace": "Laplace (L1's prior)", "gaussian": "Gaussian (L2's prior)"}
PRIOR_TRACES = "gd => gd.data.filter(t => t.meta === 'prior').map(t => [t.uid, t.y, t.name])"


def test_the_prior_overlay_toggles_on_the_weight_histograms(watched, live_server, l1_run):
    page = watched
    rid = l1_run["id"]
    fits = live_server.api("GET", f"/api/runs/{rid}/weights")[1]["prior_fit"]
    page.goto(f"{live_server.url}/runs/{rid}")
    page.locator("#hist-W1").scroll_into_view_if_needed()
    box = page.get_by_label("Overlay the priors fitted to the final weights on the w view: Gaussian (L2's) and Laplace (L1's)")
    expect(box).to_be_enabled()
    for layer in ("W1", "W2"):
        better = fits[layer]["better"]
        expect(page.locator("#prior-summary")).to_contain_text(f"{layer}: the {PRIOR_NAMES[better]} fits better")
        assert drawn(page, f"#hist-{layer}", PRIOR_TRACES) == []

    box.check()
    for layer in ("W1", "W2"):
        page.wait_for_function("sel => document.querySelector(sel).data.some(t => t.meta === 'prior')", arg=f"#hist-{layer}")
        traces = {uid: (y, name) for uid, y, name in page.locator(f"#hist-{layer}").evaluate(PRIOR_TRACES)}
        assert set(traces) == {f"{rid}-gaussian", f"{rid}-laplace"}
        for kind in ("gaussian", "laplace"):
            y, name = traces[f"{rid}-{kind}"]
            counts = fits[layer][kind]["expected_counts"]
            assert len(y) == len(counts) == 80
            # The server's expected counts as they are; bins expecting under 0.1 weights left out.
            assert [v for v in y if v is not None] == pytest.approx([c for c in counts if c >= 0.1])
            assert [v is None for v in y] == [c < 0.1 for c in counts]
            assert name.startswith(f"{kind.capitalize()} fit")
    box.uncheck()
    page.wait_for_function("() => !document.querySelector('#hist-W1').data.some(t => t.meta === 'prior')")


def test_the_trajectory_paths_grow_live(watched, live_server):
    page = watched
    live_server.wait_idle()
    run = live_server.launch(**{**WATCHABLE, "epochs": 400}, penalty="l1", lam=1e-3)
    try:
        page.goto(f"{live_server.url}/runs/{run['id']}")
        page.locator("#trajectory-chart").scroll_into_view_if_needed()
        page.wait_for_function("() => { const gd = document.querySelector('#trajectory-chart');"
                               " return gd.data && +gd.dataset.epochs >= 1; }", timeout=30000)
        seen = page.locator("#trajectory-chart").evaluate(POINTS)
        assert seen < PATHS * 401 and seen % PATHS == 0
        # Later draws hold more epochs, while the run still runs.
        page.wait_for_function(f"n => ({POINTS})(document.querySelector('#trajectory-chart')) >= n + 2 * {PATHS}",
                               arg=seen, timeout=30000)
        assert live_server.run(run["id"])["status"] == "running"
    finally:
        live_server.api("POST", f"/api/runs/{run['id']}/cancel")
        live_server.wait_for_status(run["id"], {"cancelled", "completed"})
    # Cancelled: the server's word on why there is no pruning curve and no importance image.
    expect(page.locator("#run-status")).to_have_text("cancelled")
    page.locator("#pruning-chart").scroll_into_view_if_needed()
    expect(page.locator("#pruning-note")).to_have_text(f"run {run['id']} has no pruning curve: it did not finish (cancelled)")
    page.locator("#importance-chart").scroll_into_view_if_needed()
    expect(page.locator("#importance-note")).to_contain_text("No input importance was stored for this run")
    expect(page.locator("#pruning-chart")).to_have_attribute("data-points", "0")


def test_the_study_page_shows_the_forest_plot_table_and_regularisation_path(watched, live_server, study3):
    page = watched
    sid = study3["id"]
    comparisons = study3["comparisons"]
    assert len(comparisons) == 4 and all(c["testable"] for c in comparisons)
    page.goto(f"{live_server.url}/studies/{sid}")
    expect(page.locator("#verdict")).to_have_text(study3["verdict"])

    # The forest plot: one row per setting, a paired interval each, the zero line.
    forest = page.locator("#forest-chart")
    expect(forest).to_have_attribute("data-points", "4")
    expect(forest).to_have_attribute("data-rows", "4")
    got = drawn(page, "#forest-chart", """gd => ({
        ticks: gd.layout.yaxis.ticktext, zero: gd.layout.shapes.filter(s => s.x0 === 0 && s.x1 === 0 && s.yref === 'paper').length,
        means: gd.data.filter(t => t.uid.startsWith('paired-')).flatMap(t => t.x),
        highs: gd.data.filter(t => t.uid.startsWith('paired-')).flatMap(t => t.error_x.array),
        x: gd.layout.xaxis.title.text})""")
    assert got["ticks"] == [f"{'L1' if c['penalty'] == 'l1' else 'L2'} λ={c['lam']:g}".replace("e-0", "e-")
                            for c in comparisons]
    assert got["zero"] == 1
    assert got["means"] == pytest.approx([100 * c["mean_diff"] for c in comparisons])
    assert got["highs"] == pytest.approx([100 * (c["ci95_paired"][1] - c["mean_diff"]) for c in comparisons])
    assert got["x"] == "accuracy difference (points)"
    legend = forest.evaluate(LEGEND)
    assert any(t.startswith("L1") for t in legend) and any(t.startswith("L2") for t in legend)
    assert any("unpaired" in t for t in legend)

    # The table under it: every number the server's.
    rows = page.locator("#comparisons-table tbody tr")
    expect(rows).to_have_count(4)
    for c in comparisons:
        row = page.locator(f'#comparisons-table tr[data-setting="{c["penalty"]}:{c["lam"]:g}"]')
        expect(row.locator('[data-col="n_pairs"]')).to_have_text("3")
        expect(row.locator('[data-col="mean_diff"]')).to_have_text(signed_points(c["mean_diff"]))
        lo, hi = c["ci95_unpaired"]
        expect(row.locator('[data-col="ci95_unpaired"]')).to_have_text(f"{signed_points(lo, 1)} to {signed_points(hi, 1)}")
        expect(row.locator('[data-col="seeds_needed"]')).to_have_text(str(c["seeds_needed"]))
    for header in ("Paired 95 % CI", "Bootstrap 95 % CI", "Unpaired 95 % CI", "p (paired t)", "p (Wilcoxon)", "p (Holm)"):
        expect(page.locator("#comparisons-table thead")).to_contain_text(header)

    # The prunable fraction against λ, beside the sparsity chart: 2 penalties × 2 λ, and the baseline.
    chart = page.locator("#tradeoff-prunable")
    expect(chart).to_have_attribute("data-points", "4")
    expect(chart).to_have_attribute("data-baseline", "1")
    means = chart.evaluate("gd => Object.fromEntries(gd.data.filter(t => t.uid.endsWith('-mean')).map(t => [t.uid, t.y]))")
    for penalty in ("l1", "l2"):
        expect_means = [s["metrics"]["prunable_fraction"]["mean"] for s in sorted(study3["settings"], key=lambda s: s["lam"])
                        if s["penalty"] == penalty]
        assert means[f"{penalty}-mean"] == pytest.approx(expect_means)

    # The regularisation path: per penalty one line per rank (16 hidden units) over the 2 λ.
    path = page.locator("#reg-path-chart")
    expect(path).to_have_attribute("data-points", str(2 * len(LAMS) * STUDY_SETTINGS["hidden"]))
    expect(path).to_have_attribute("data-ranks", str(STUDY_SETTINGS["hidden"]))
    lines = drawn(page, "#reg-path-chart", "gd => Object.fromEntries(gd.data.map(t => [t.uid, t.y.filter(v => v !== null)]))")
    by_setting = {(s["penalty"], s["lam"]): s["unit_norms"] for s in study3["regularisation_path"]}
    # rank by rank: rank 1 at each λ, then rank 2 …
    assert lines["path-l1"] == pytest.approx([by_setting[("l1", lam)][r] for r in range(16) for lam in LAMS])
    assert lines["none"] == pytest.approx(by_setting[("none", 0.0)])
    legend = path.evaluate(LEGEND)
    assert any(t.startswith("L1") for t in legend) and any(t.startswith("L2") for t in legend)
    assert "log" in path.evaluate("gd => gd.layout.xaxis.type")
    expect(page.locator("#tradeoff-active")).to_have_attribute("data-points", "4")


def test_the_effect_control_changes_the_seeds_needed(watched, live_server, study3):
    page = watched
    sid = study3["id"]
    wide = live_server.api("GET", f"/api/studies/{sid}?effect=0.2")[1]
    before = [c["seeds_needed"] for c in study3["comparisons"]]
    after = [c["seeds_needed"] for c in wide["comparisons"]]
    assert before != after  # the premise: 20 points needs fewer seeds than 1 point somewhere
    page.goto(f"{live_server.url}/studies/{sid}")
    cells = page.locator('#comparisons-table tbody [data-col="seeds_needed"]')
    expect(cells).to_have_text([str(n) for n in before])
    expect(page.locator("#effect-points")).to_have_value("1")

    page.get_by_label("Effect to detect (points of test accuracy)").fill("20")
    page.get_by_role("button", name="Update seeds needed").click()
    expect(page.locator("#power-note")).to_have_attribute("data-effect", "0.2")
    expect(page.locator("#power-note")).to_contain_text("20.00 points")
    expect(cells).to_have_text([str(n) for n in after])

    # A refused effect: the server's reason next to the control, the numbers kept.
    page.get_by_label("Effect to detect (points of test accuracy)").fill("0")
    page.get_by_role("button", name="Update seeds needed").click()
    expect(page.locator("#effect-error")).to_contain_text("must be a number above 0")
    expect(page.locator("#effect-points")).to_have_attribute("aria-invalid", "true")
    expect(cells).to_have_text([str(n) for n in after])
    # The page's own refreshes keep the last accepted effect.
    page.evaluate("() => window.normlab.refresh()")
    page.wait_for_timeout(300)
    expect(cells).to_have_text([str(n) for n in after])


def test_the_any_two_picker_asks_the_api_and_shows_its_answer(watched, live_server, study3):
    page = watched
    sid = study3["id"]
    page.goto(f"{live_server.url}/studies/{sid}")
    options = page.locator("#pick-a option")
    expect(options).to_have_count(5)
    assert options.evaluate_all("os => os.map(o => o.value)") == ["none", "l1:0.001", "l1:0.01", "l2:0.001", "l2:0.01"]
    page.get_by_label("Setting", exact=True).select_option("l1:0.01")
    page.get_by_label("against", exact=True).select_option("l2:0.01")
    with page.expect_request(lambda r: "/comparison?" in r.url) as asked:
        page.get_by_role("button", name="Compare the two").click()
    assert "a=l1%3A0.01" in asked.value.url and "b=l2%3A0.01" in asked.value.url
    answer = live_server.api("GET", f"/api/studies/{sid}/comparison?a=l1:0.01&b=l2:0.01")[1]["comparison"]
    result = page.locator("#pick-result")
    expect(result).to_be_visible()
    expect(result.locator("tbody th")).to_contain_text("L1 λ=0.01 − L2 λ=0.01")
    expect(result.locator(".phrase")).to_have_text(answer["phrase"])
    expect(result.locator('[data-col="mean_diff"]')).to_have_text(signed_points(answer["mean_diff"]))
    expect(result.locator('[data-col="seeds_needed"]')).to_have_text(str(answer["seeds_needed"]))

    # The same setting twice: the server's reason, no stale result.
    page.get_by_label("against", exact=True).select_option("l1:0.01")
    page.get_by_role("button", name="Compare the two").click()
    expect(page.locator("#pick-status")).to_have_text("The second setting must be a setting other than a's")
    expect(result).to_be_hidden()


def test_with_two_seeds_the_page_says_no_test_is_possible(watched, live_server):
    page = watched
    study = make_study(live_server, "two seeds", ["none", "l1"], [1e-2], 2)
    comparison = study["comparisons"][0]
    assert not comparison["testable"] and comparison["mean_diff"] is None
    page.goto(f"{live_server.url}/studies/{study['id']}")
    row = page.locator("#comparisons-table tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("td.note")).to_have_text(comparison["note"])
    expect(row.locator('[data-col="mean_diff"]')).to_have_count(0)
    forest = page.locator("#forest-chart")
    expect(forest).to_have_attribute("data-points", "0")
    expect(forest).to_have_attribute("data-untestable", "1")
    notes = drawn(page, "#forest-chart", "gd => gd.layout.annotations.map(a => a.text)")
    assert comparison["note"] in notes
    expect(page.locator("#verdict")).to_have_text(study["verdict"])


def test_the_compare_page_overlays_pruning_curves_and_shows_images_and_paths_side_by_side(watched, live_server, study3):
    page = watched
    seed0 = [r for r in study3["runs"] if r["settings"]["seed"] == 0 and r["settings"]["lam"] in (0.0, 1e-2)]
    assert len(seed0) == 3
    ids = [str(r["id"]) for r in seed0]
    page.goto(f"{live_server.url}/compare?runs={','.join(ids)}")

    for chart in ("#cmp-pruning-global", "#cmp-pruning-first"):
        expect(page.locator(chart)).to_have_attribute("data-curves", "3")
        expect(page.locator(chart)).to_have_attribute("data-points", str(3 * 13))
    legend = drawn(page, "#cmp-pruning-global", LEGEND)
    for run in seed0:
        s = run["settings"]
        name = "none" if s["penalty"] == "none" else f"{s['penalty'].upper()} λ={s['lam']:g}"
        assert any(t.startswith(f"#{run['id']} {name} · seed 0") for t in legend), (name, legend)
    for run in seed0:
        rid = run["id"]
        curve = live_server.api("GET", f"/api/runs/{rid}/pruning")[1]
        y = page.locator("#cmp-pruning-first").evaluate(f"gd => gd.data.find(t => t.uid === '{rid}-first_layer').y")
        assert y == pytest.approx(curve["accuracy"]["first_layer"])
        expect(page.locator(f'#compare-table tr[data-run="{rid}"] [data-col="prunable"]')).to_have_text(
            f"{run['result']['prunable_fraction'] * 100:.0f} %")

    # One image per run on one colour scale; one set of 64 paths per run, from the same start (one seed).
    scales = set()
    starts = []
    for rid in ids:
        expect(page.locator(f"#importance-{rid}")).to_have_attribute("data-points", "784")
        scales.add(tuple(drawn(page, f"#importance-{rid}", "gd => [gd.data[0].zmin, gd.data[0].zmax]")))
        expect(page.locator(f"#trajectory-{rid}")).to_have_attribute("data-points", str(PATHS * (STUDY_SETTINGS["epochs"] + 1)))
        starts.append(sorted(drawn(page, f"#trajectory-{rid}", "gd => gd.data.flatMap(t => t.y.filter((_, i) => t.x[i] === 0))")))
    assert len(scales) == 1

    # The priors fitted to each run, over the overlaid histograms.
    page.locator("#hist-W1").scroll_into_view_if_needed()
    expect(page.locator("#prior-summary li")).to_have_count(3)
    page.get_by_label("Overlay each run's fitted priors", exact=False).check()
    page.wait_for_function("() => document.querySelector('#hist-W1').data.filter(t => t.meta === 'prior').length === 6")
    assert starts[1] == pytest.approx(starts[0]) and starts[2] == pytest.approx(starts[0])
