"""Labels a person typed are text in the charts too: Plotly reads a subset of HTML (links, bold,
styled spans) and %{...} templates in what it draws, and none of that may come alive."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .support import TINY

LABELS = ['<a href="https://evil.example/">click me</a>', "<b>bold</b>", "%{y} & <i>x</i>",
          '<span style="font-size:40px">&lt;big&gt; &amp; 100%</span>']

# Every Plotly chart of the page, each scrolled to (charts draw when near the view), with its legend
# texts, the hover label of each trace that has one (Plotly throttles hovers to one per 50 ms), and
# any markup Plotly drew in either: links, and styled text (bold, italic, a span's style).
CHART_TEXTS = """async () => {
  const MARKUP = 'a, tspan[style]';
  const pause = (ms) => new Promise((done) => setTimeout(done, ms));
  const out = [];
  for (const gd of document.querySelectorAll('.chart')) {
    gd.scrollIntoView();
    for (let i = 0; i < 100 && !(gd.data && gd._fullLayout); i++) await pause(50);
    if (!gd.data) continue;
    const hovers = [];
    const markup = [];
    for (const [i, trace] of gd.data.entries()) {
      const ys = Array.from(trace.y || []);
      const j = ys.findIndex((v) => v !== null && Number.isFinite(v));
      if (trace.hoverinfo === 'skip' || j < 0) continue;
      await pause(60);
      Plotly.Fx.hover(gd, [{curveNumber: i, pointNumber: j}]);
      const layer = gd.querySelector('.hoverlayer');
      hovers.push(layer ? layer.textContent : '');
      if (layer) markup.push(...[...layer.querySelectorAll(MARKUP)].map((n) => n.outerHTML));
      Plotly.Fx.unhover(gd);
    }
    const legend = [...gd.querySelectorAll('.legendtext')];
    markup.push(...legend.flatMap((n) => [...n.querySelectorAll(MARKUP)].map((m) => m.outerHTML)));
    out.push({id: gd.id, hovers, legend: legend.map((n) => n.textContent), markup});
  }
  return out;
}"""

EVIL_LINKS = """() => [...document.querySelectorAll('a')].filter((a) =>
  [a.getAttribute('href'), a.getAttributeNS('http://www.w3.org/1999/xlink', 'href')].some((h) => h && h.includes('evil.example'))
).length"""


@pytest.fixture(scope="module")
def labelled(live_server):
    """One finished run per label."""
    runs = [live_server.launch(**TINY, penalty="l2", lam=1e-3, label=label) for label in LABELS]
    return [live_server.wait_for_status(r["id"], {"completed"}, timeout=60) for r in runs]


def chart_texts(page) -> tuple[list[str], list[str]]:
    """Legend texts and hover texts of every chart; fails where a chart drew any markup."""
    charts = page.evaluate(CHART_TEXTS)
    assert charts, "no chart on the page"
    for chart in charts:
        assert chart["markup"] == [], (chart["id"], chart["markup"])
    assert page.evaluate(EVIL_LINKS) == 0
    return [t for c in charts for t in c["legend"]], [t for c in charts for t in c["hovers"]]


def assert_shown_as_typed(page, runs, attempts: int = 4) -> None:
    """Each run's name and label, exactly as typed, in a legend and a hover of the page's charts.
    Looked at again a little later while one is missing: a per-epoch chart redraws at most once a second."""
    for _ in range(attempts):
        legends, hovers = chart_texts(page)
        names = [f"#{run['id']} {run['label']}" for run in runs]
        missing = [n for n in names if n not in legends or not any(n in text for text in hovers)]
        if not missing:
            return
        page.wait_for_timeout(1200)
    raise AssertionError(f"not shown as typed: {missing}\nlegends: {legends}\nhovers: {hovers}")


def test_labels_are_text_in_the_run_pages_charts(watched, live_server, labelled):
    for run in labelled:
        watched.goto(f"{live_server.url}/runs/{run['id']}")
        expect(watched.locator("#batch-chart")).to_have_attribute("data-points", str(run["progress"]["total_steps"]))
        assert_shown_as_typed(watched, [run])


def test_labels_are_text_in_the_compare_pages_charts(watched, live_server, labelled):
    watched.goto(f"{live_server.url}/compare?runs={','.join(str(r['id']) for r in labelled)}")
    expect(watched.locator("#compare-page")).to_have_attribute("data-loaded", "1")
    assert_shown_as_typed(watched, labelled)


def test_labels_are_text_in_the_dashboards_charts(watched, live_server, labelled):
    watched.goto(live_server.url + "/")
    for run in labelled:
        watched.locator(f"#show-{run['id']}").check()
    total = sum(r["progress"]["total_steps"] for r in labelled)
    expect(watched.locator("#batch-chart")).to_have_attribute("data-points", str(total))
    assert_shown_as_typed(watched, labelled)


def test_a_study_named_with_markup_draws_none(watched, live_server, labelled):
    status, study = live_server.api("POST", "/api/studies", {
        "name": LABELS[0], "penalties": ["none", "l2"], "lams": {"l2": [0.01]}, "seeds": 1,
        "settings": {**TINY, "epochs": 1}})
    assert status == 201, study
    live_server.wait_idle()
    watched.goto(f"{live_server.url}/studies/{study['id']}")
    expect(watched.locator("#study-name")).to_have_text(LABELS[0])
    expect(watched.locator("#tradeoff-accuracy")).to_have_attribute("data-points", "1")
    legends, hovers = chart_texts(watched)
    assert any(text.startswith("L2") for text in legends) and hovers


TRICKY = ["<br>", "a<br/>b", "<sup>2</sup>", "<sub>i</sub>", "<em>e</em>", "<s>s</s>", "<u>u</u>", "&nbsp;", "&#65;",
          "&#x41;", "&amp;lt;", "&", "100%", "%{x}", "%{fullData.name}", "%{y:.2f}", "<extra>x</extra>",
          '<a href="javascript:alert(1)">j</a>', "<span style='color:red'>r</span>", "a < b > c", "{}", "λ ‖W‖₁ 10⁻³"]


@pytest.fixture
def js_page(watched, live_server):
    """A light page of the site (the studies list) with Plotly.js loaded."""
    watched.goto(live_server.url + "/studies")
    watched.wait_for_function("() => window.Plotly")
    return watched


def test_plotly_draws_every_escaped_label_as_typed(js_page):
    """plotlyText against Plotly itself: in trace names (the legend) and written into hover templates."""
    page = js_page
    texts = page.evaluate("""async (labels) => {
      const { plotlyText, runName } = await import('/static/js/plotly_text.js');
      const gd = document.createElement('div');
      gd.style.width = '900px';
      document.body.append(gd);
      const traces = labels.map((label, i) => ({
        x: [i], y: [i], name: runName(i, label), hovertemplate: `${plotlyText(label)}<extra>${runName(i, label)}</extra>`}));
      await Plotly.newPlot(gd, traces, {showlegend: true, hovermode: 'closest'});
      const hovers = [];
      for (const i of labels.keys()) {
        await new Promise((done) => setTimeout(done, 60));
        Plotly.Fx.hover(gd, [{curveNumber: i, pointNumber: 0}]);
        hovers.push([...gd.querySelectorAll('.hoverlayer text')].map((n) => n.textContent));
      }
      return {legend: [...gd.querySelectorAll('.legendtext')].map((n) => n.textContent), hovers,
              links: gd.querySelectorAll('svg a').length};
    }""", TRICKY)
    assert texts["legend"] == [f"#{i} {label}" for i, label in enumerate(TRICKY)]
    assert [sorted(h) for h in texts["hovers"]] == [sorted([label, f"#{i} {label}"]) for i, label in enumerate(TRICKY)]
    assert texts["links"] == 0
