"""HTML pages and the vendored Plotly.js (served from the installed plotly package, never a CDN)."""
from __future__ import annotations

import re
from pathlib import Path

import plotly
from flask import Blueprint, abort, current_app, redirect, render_template, request, send_file, url_for
from markupsafe import Markup

from engine.recipes import RECIPES

from .api import data_place
from .ids import parse_row_id
from .run_view import run_view
from .settings import COMPARE_MAX, COMPARISON_LAMBDAS, dataset_choices, schema_json, settings_schema
from .recipes_api import TRY_SMALL
from .studies_api import PRESETS

bp = Blueprint("pages", __name__)

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
# `import … from "./x.js"`, `export … from "./x.js"`, `import "./x.js"`: the static imports of our
# plain ES modules (relative paths only; there is no bundler).
STATIC_IMPORT = re.compile(r"""^\s*(?:import|export)\b[^;'"]*?['"](\.{1,2}/[^'"]+\.js)['"]""", re.M)


@bp.app_template_global()
def module_graph(entry: str) -> list[str]:
    """Every module the static file ``entry`` (e.g. ``js/run_page.js``) imports, directly or not, as
    paths under static/, for ``<link rel="modulepreload">``: the browser then fetches the whole
    graph at once instead of one level of imports after another (each a round trip, and on a
    reload each a revalidation). Read from the files on every call (a dozen small files), so it
    never goes stale; a module that cannot be read is left out (the import itself still works)."""
    root = Path(current_app.static_folder).resolve()
    seen: list[str] = []
    todo = [entry]
    while todo:
        path = todo.pop(0)
        try:
            text = (root / path).resolve().read_text(encoding="utf-8")
        except OSError:
            continue
        for spec in STATIC_IMPORT.findall(text):
            target = (root / path).parent.joinpath(spec).resolve()
            if root not in target.parents or not target.is_file():
                continue
            rel = target.relative_to(root).as_posix()
            if rel != entry and rel not in seen:
                seen.append(rel)
                todo.append(rel)
    return seen


@bp.app_template_global("schema_json")
def page_schema_json() -> Markup:
    """The schema GET /api/schema answers, for base.html to embed in every page (already safe
    inside ``<script>``; autoescaping would turn its quotes into entities a script never decodes)."""
    return Markup(schema_json(current_app.extensions["normlab"].jobs, *data_place()))


def form_schema() -> list[dict]:
    """The settings a form renders, its dataset choices saying which a run could load here."""
    return settings_schema(dataset_choices(*data_place()))


@bp.get("/")
def index():
    return render_template("index.html", schema=form_schema(), comparison_lambdas=COMPARISON_LAMBDAS)


def found(row: dict | None, what: str) -> dict:
    """The row a page shows, or the 404 page saying what is missing (``what``: "run 5")."""
    if row is None:
        abort(404, description=f"There is no {what}: it may have been deleted.")
    return row


@bp.get("/runs/<id:run_id>")
def run_page(run_id: int):
    lab = current_app.extensions["normlab"]
    return render_template("run.html", run=run_view(found(lab.store.get_run(run_id), f"run {run_id}"), lab.hub))


@bp.get("/studies")
def studies():
    """Launch a study (penalties × λ × seeds) and list the studies."""
    return render_template("studies.html", schema=form_schema(), presets=PRESETS)


@bp.get("/studies/<id:study_id>")
def study_page(study_id: int):
    lab = current_app.extensions["normlab"]
    study = found(lab.store.get_study(study_id), f"study {study_id}")
    return render_template("study.html", study={"id": study["id"], "name": study["name"], "spec": study["spec"]},
                           workers=lab.config.workers)


@bp.get("/recipes")
def recipes():
    """Published results to reproduce: each recipe's question, sources, settings and claims, and a Run button."""
    return render_template("recipes.html", recipes=[r.describe() for r in RECIPES.values()], try_small=TRY_SMALL)


@bp.get("/compare")
def compare():
    """Runs side by side: /compare?runs=1,2,3 (unknown ids are named on the page)."""
    lab = current_app.extensions["normlab"]
    wanted: dict[int, None] = {}  # in order, once each
    bad: list[str] = []
    for part in request.args.get("runs", "").split(","):
        part = part.strip()
        if not part:
            continue
        run_id = parse_row_id(part)
        if run_id is not None:
            wanted[run_id] = None
        elif len(bad) < COMPARE_MAX:
            bad.append(part[:20])
    runs, missing = [], []
    for run_id in list(wanted)[:COMPARE_MAX]:
        row = lab.store.get_run(run_id)
        if row is None:
            missing.append(str(run_id))
        else:
            runs.append(run_view(row, lab.hub))
    return render_template("compare.html", runs=runs, missing=missing + bad,
                           dropped=max(0, len(wanted) - COMPARE_MAX), limit=COMPARE_MAX)


@bp.get("/favicon.ico")
def favicon():
    return redirect(url_for("static", filename="favicon.svg"), code=301)


@bp.get("/static/vendor/plotly.min.js")
def plotly_js():
    return send_file(PLOTLY_JS, mimetype="text/javascript", max_age=86400)
