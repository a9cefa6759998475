"""HTML pages and the vendored Plotly.js (served from the installed plotly package, never a CDN)."""
from __future__ import annotations

from pathlib import Path

import plotly
from flask import Blueprint, abort, current_app, redirect, render_template, send_file, url_for

from .serializers import run_summary
from .settings import COMPARISON_LAMBDAS, settings_schema

bp = Blueprint("pages", __name__)

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


@bp.get("/")
def index():
    return render_template("index.html", schema=settings_schema(), comparison_lambdas=COMPARISON_LAMBDAS)


@bp.get("/runs/<int:run_id>")
def run_page(run_id: int):
    lab = current_app.extensions["normlab"]
    row = lab.store.get_run(run_id)
    if row is None:
        abort(404)
    return render_template("run.html", run=run_summary(row, lab.hub))


@bp.get("/favicon.ico")
def favicon():
    return redirect(url_for("static", filename="favicon.svg"), code=301)


@bp.get("/static/vendor/plotly.min.js")
def plotly_js():
    return send_file(PLOTLY_JS, mimetype="text/javascript", max_age=86400)
