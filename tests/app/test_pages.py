"""The pages' HTML: what the browser is told to fetch before any script runs (issue 3, page speed)."""
import re
from pathlib import Path

import pytest

from app.pages import module_graph

from .conftest import TINY, wait_finished

ENTRIES = {"/": "js/dashboard.js", "/studies": "js/studies.js", "/compare?runs=1": "js/compare_page.js",
           "/recipes": "js/recipes_page.js"}


def relative_imports(root: Path, path: str) -> list[str]:
    """The modules ``path`` imports (or re-exports) by relative path, as paths under static/."""
    specs = re.findall(r"""from\s+["'](\.{1,2}/[^"']+\.js)["']""", (root / path).read_text())
    return [(root / path).parent.joinpath(spec).resolve().relative_to(root.resolve()).as_posix() for spec in specs]


def test_module_graph_lists_every_module_an_entry_imports_once(app):
    root = Path(app.static_folder)
    with app.app_context():
        graph = module_graph("js/run_page.js")
        assert module_graph("js/missing.js") == []
    assert "js/run_page.js" not in graph and len(graph) == len(set(graph))
    # smoothing.js only through the charts, base.js only through the chart kinds, plotly_text.js only through base.js
    assert {"js/charts/batch.js", "js/charts/histogram.js", "js/smoothing.js", "js/charts/base.js", "js/plotly_text.js"} <= set(graph)
    # Checked another way: every relative import of every module in the graph is in the graph.
    for path in ["js/run_page.js", *graph]:
        for name in relative_imports(root, path):
            assert name in graph, (path, name)


def test_the_run_page_asks_for_its_curves_and_all_its_modules_up_front(client):
    run = client.post("/api/runs", json=TINY).get_json()
    wait_finished(client, run["id"])
    html = client.get(f"/runs/{run['id']}").get_data(as_text=True)
    # The same URL and mode as api.metrics(id) (fetch: cors, same-origin credentials): one request.
    assert f'<link rel="preload" as="fetch" crossorigin href="/api/runs/{run["id"]}/metrics?after=-1">' in html
    assert '<script type="module" async src="/static/js/run_page.js"></script>' in html
    with client.application.app_context():
        graph = module_graph("js/run_page.js")
    for path in graph:
        assert f'<link rel="modulepreload" href="/static/{path}">' in html


@pytest.mark.parametrize("page", ENTRIES)
def test_every_page_preloads_its_module_graph(client, page):
    html = client.get(page).get_data(as_text=True)
    entry = ENTRIES[page]
    assert f'<script type="module" src="/static/{entry}"></script>' in html
    with client.application.app_context():
        graph = module_graph(entry)
    assert graph
    for path in graph:
        assert f'<link rel="modulepreload" href="/static/{path}">' in html
