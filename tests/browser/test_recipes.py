"""Recipes in the browser: /recipes lists them with their sources; Run queues one (tried small, on synthetic
data) and opens its study page, which shows the verdict table and the published values on the accuracy chart."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from engine.recipes import RECIPES


def test_the_recipes_page_lists_each_recipe_with_its_source_and_claims(watched, live_server):
    page = watched
    page.goto(live_server.url + "/recipes")
    expect(page.get_by_role("link", name="Recipes")).to_have_attribute("aria-current", "page")
    expect(page.locator("section.recipe")).to_have_count(len(RECIPES))
    nielsen = page.locator("#recipe-nielsen-overfitting")
    expect(nielsen.locator("blockquote").first).to_have_text("Meanwhile, our test accuracy tops out at just 82.27 percent.")
    expect(nielsen.locator(".recipe-claims tbody tr")).to_have_count(3)
    expect(nielsen.locator(".recipe-claims")).to_contain_text("± 1 points")
    # A bad seed count is refused next to the field, and nothing is queued.
    reference = page.locator("#recipe-reference")
    reference.locator("input[name=seeds]").fill("11")
    reference.get_by_role("button", name="Run the recipe reference").click()
    expect(reference.locator("#seeds-reference-error")).to_contain_text("must be from 1 to 10")
    expect(reference.locator("#seeds-reference")).to_have_attribute("aria-invalid", "true")
    assert live_server.api("GET", "/api/studies")[1] == []


def test_run_opens_the_study_with_its_verdicts_and_the_published_marks(watched, live_server):
    page = watched
    page.goto(live_server.url + "/recipes")
    page.get_by_label("Try it small first").check()
    reference = page.locator("#recipe-reference")
    reference.locator("input[name=seeds]").fill("1")
    reference.get_by_role("button", name="Run the recipe reference").click()
    page.wait_for_url(re.compile(r"/studies/\d+$"))
    study_id = int(page.url.rsplit("/", 1)[1])
    expect(page.locator("#study-page")).to_have_attribute("data-live", "0", timeout=60000)
    panel = page.locator("#recipe-panel")
    expect(panel).to_have_attribute("data-recipe", "reference")
    expect(panel.get_by_role("heading", name=re.compile("^Recipe: The reference study"))).to_be_visible()
    expect(page.locator("#recipe-scaled")).to_contain_text("these verdicts say nothing about the published figures")
    rows = page.locator("#recipe-verdicts tbody tr")
    expect(rows).to_have_count(5)
    study = live_server.api("GET", f"/api/studies/{study_id}")[1]
    for i, claim in enumerate(study["recipe"]["claims"]):
        row = rows.nth(i)
        expect(row).to_have_attribute("data-verdict", claim["verdict"])
        expect(row.locator("td").nth(1)).to_have_text(claim["published_text"])
        expect(row.locator("td").nth(2)).to_have_text(claim["ours_text"])
        expect(row.locator("td").nth(4)).to_have_text(claim["verdict"])
    expect(rows.nth(2).locator("td").nth(1)).to_have_text("91.88 %")
    # The three published accuracies are drawn on the accuracy trade-off chart.
    chart = page.locator("#tradeoff-accuracy")
    expect(chart).to_have_attribute("data-marks", "3")
    names = page.evaluate("() => document.getElementById('tradeoff-accuracy').data.map((t) => t.name)")
    assert [n.replace("&#37;", "%") for n in names if (n or "").startswith("published")] == [  # % is escaped for Plotly
        "published: test accuracy, no penalty 91.88 %", "published: test accuracy, L1 λ = 1e-4 89.47 %",
        "published: test accuracy, L2 λ = 0.01 85.14 %"]
    diamonds = page.evaluate("""() => document.getElementById('tradeoff-accuracy').data
        .filter((t) => (t.name || "").startsWith("published") && t.mode === "markers").map((t) => [t.x[0], t.y[0]])""")
    assert diamonds == [[1e-4, 0.8947], [0.01, 0.8514]]
