"""The JSON API (documented in README): routes call the job manager or the store, then ``run_view``."""
from __future__ import annotations

import csv
import io
import uuid
from dataclasses import replace
from functools import wraps
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, NotFound, RequestEntityTooLarge

from engine import ConfigError, RunConfig

from .ids import MAX_ROW_ID, parse_seq
from .insight import missing
from .jobs import Conflict, QueueFull
from .run_view import run_view
from .runs_list import runs_page
from .runs_query import QueryError, parse_runs_query
from .settings import COMPARISON_LAMBDAS, LABEL_MAX, dataset_choices, schema_json

bp = Blueprint("api", __name__, url_prefix="/api")

CSV_FIELDS = ("id", "status", "label", "penalty", "lam", "lam_l2", "hidden", "epochs", "batch_size", "lr", "momentum",
              "train_size", "seed", "init", "activation", "dataset", "dtype", "test_accuracy", "train_loss",
              "data_loss", "penalty_loss", "sparsity", "dead_units", "seconds", "reason", "created", "finished")


class ApiError(Exception):
    """An error answered as ``{"error": ..., "field": ...}`` with an HTTP status."""

    def __init__(self, status: int, error: str, field: str | None = None):
        super().__init__(error)
        self.status, self.error, self.field = status, error, field


def lab():
    return current_app.extensions["normlab"]


def init_errors(app) -> None:
    """Answer API errors, and HTTP errors under /api, as JSON ``{"error", "field"}``."""
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)


def _api_error(exc: ApiError):
    body = {"error": exc.error}
    if exc.field:
        body["field"] = exc.field
    return jsonify(body), exc.status


def _http_error(exc: HTTPException):
    if not request.path.startswith("/api"):
        if exc.code == 404:  # a page of our own with a way back, not Werkzeug's bare one
            said = exc.description if exc.description != NotFound.description else None
            return render_template("404.html", message=said or f"There is no page at {request.path[:200]}."), 404
        return exc
    messages = {413: f"the request body is too large (at most {current_app.config['MAX_CONTENT_LENGTH']} bytes)",
                404: "no such API path", 405: f"method {request.method} is not allowed here"}
    return jsonify({"error": messages.get(exc.code, exc.description)}), exc.code


def json_body() -> dict[str, Any]:
    """The request's JSON object (an empty body counts as {})."""
    if not request_body():
        return {}
    try:
        data = request.get_json(silent=True)
    except RecursionError:
        raise ApiError(400, "the body is nested too deeply", "body") from None
    if data is None:
        raise ApiError(400, "the body must be JSON (Content-Type: application/json)", "body")
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object of run settings", "body")
    return data


def request_body() -> bytes:
    """The request's body (cached for ``get_json``); 413 past MAX_CONTENT_LENGTH, chunked or not.

    Werkzeug checks a Content-Length against the limit, but a chunked body it reads only up to
    the limit and hands back those bytes as if they were all: more after them means too large.
    """
    data = request.get_data(cache=True)
    limit = request.max_content_length
    if limit is not None and request.content_length is None and len(data) >= limit and request.input_stream.read(1):
        raise RequestEntityTooLarge()
    return data


def parse_config(data: dict[str, Any]) -> RunConfig:
    """The run settings of a request, refused (400 naming the field) when a run could not use them,
    its dataset too: one that is not on this server is refused now, not failed later."""
    try:
        config = RunConfig.from_dict(data)
    except ConfigError as exc:
        raise ApiError(400, exc.message if exc.field != "body" else str(exc), exc.field) from None
    choice = dataset_choices(*data_place())[config.dataset]
    if not choice["available"]:
        raise ApiError(400, f"{config.dataset} is not on this server: run `{choice['command']}` where the server "
                            f"runs, then try again", "dataset")
    return config


def data_place() -> tuple[Any, bool]:
    """Where runs look for their data (the data dir), and whether that is this machine (not a cluster's workers)."""
    return lab().datasets.data_dir, lab().executor.trains_here


def comparison_lambda(data: dict[str, Any], key: str, penalty: str) -> float:
    """The λ a comparison uses for ``penalty``, from ``data[key]`` or the reference study's value."""
    value = data.pop(key, COMPARISON_LAMBDAS[penalty])
    try:
        return RunConfig.from_dict({"penalty": penalty, "lam": value}).lam
    except ConfigError as exc:
        raise ApiError(400, exc.message, key) from None


def user_text(value: Any, field: str) -> str:
    """A name a person typed (a run's label, a study's name), trimmed: 1 to LABEL_MAX characters that
    UTF-8 can encode (JSON's ``\\ud800`` escapes decode to lone surrogates, which SQLite cannot store)."""
    text = value.strip() if isinstance(value, str) else ""
    if not 1 <= len(text) <= LABEL_MAX:
        raise ApiError(400, f"must be text of 1 to {LABEL_MAX} characters", field)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ApiError(400, "must be text that UTF-8 can encode (no lone surrogates such as \\ud800)", field) from None
    return text


def pop_label(data: dict[str, Any]) -> str | None:
    label = data.pop("label", None)
    return None if label is None else user_text(label, "label")


def run_or_404(run_id: int) -> dict[str, Any]:
    run = lab().store.get_run(run_id)
    if run is None:
        raise ApiError(404, f"there is no run {run_id}")
    return run


def job_errors(view):
    """Map the job manager's exceptions to API errors."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except Conflict as exc:
            raise ApiError(409, str(exc)) from None
        except QueueFull as exc:
            raise ApiError(429, str(exc)) from None
        except KeyError as exc:
            raise ApiError(404, f"there is no run {exc.args[0]}") from None
    return wrapped


@bp.get("/schema")
def schema():
    return Response(schema_json(lab().jobs, *data_place()), mimetype="application/json")


@bp.get("/status")
def status():
    return jsonify(lab().status())


@bp.post("/runs")
@job_errors
def create_run():
    data = json_body()
    label = pop_label(data)
    config = parse_config(data)
    return jsonify(lab().jobs.submit(config, label)), 201


@bp.post("/comparisons")
@job_errors
def create_comparison():
    data = json_body()
    lambdas = {p: comparison_lambda(data, f"lam_{p}", p) for p in ("l1", "l2")}
    for key in ("penalty", "lam"):
        data.pop(key, None)
    base = parse_config(data)
    group = f"cmp-{uuid.uuid4().hex[:8]}"
    runs = lab().jobs.submit_together([replace(base, penalty=p, lam=lambdas.get(p, 0.0)) for p in ("none", "l1", "l2")],
                                      group)
    return jsonify({"group": group, "runs": runs}), 201


@bp.get("/runs")
def list_runs():
    """A page of runs (docs/api.md, "Listing runs"); with no query parameter, every run as a bare list."""
    try:
        query = parse_runs_query(request.args.to_dict(flat=False))
    except QueryError as exc:
        raise ApiError(400, str(exc), exc.field) from None
    hub = lab().hub
    if query is None:
        return jsonify([run_view(r, hub) for r in lab().store.list_runs()])
    return jsonify(runs_page(lab().store, hub, query))


@bp.get("/runs/<id:run_id>")
def get_run(run_id: int):
    return jsonify(run_view(run_or_404(run_id), lab().hub))


@bp.get("/runs/<id:run_id>/metrics")
def metrics(run_id: int):
    run_or_404(run_id)
    after = request.args.get("after", "-1")
    after_seq = parse_seq(after)
    if after_seq is None:
        raise ApiError(400, f"must be -1 or a sequence number (0 to {MAX_ROW_ID}, digits 0-9), got {after[:20]!r}",
                       "after")
    events = lab().store.read_events(run_id, after_seq)
    kinds = request.args.get("kinds")
    if kinds is not None:
        wanted = set(kinds.split(","))
        allowed = {"start", "batch", "epoch", "final"}
        if not wanted <= allowed:
            raise ApiError(400, f"must be a comma-separated subset of {', '.join(sorted(allowed))}", "kinds")
        events = {k: v for k, v in events.items() if k in ("run", "last_seq") or k in wanted}
    return jsonify(events)


@bp.get("/runs/<id:run_id>/weights")
def weights(run_id: int):
    """The finished run's first-layer weights as images, its confusion matrix and what its weights show
    (input importance, dead inputs, unit norms, prior fits: None for runs that have not finished,
    or finished before these were kept)."""
    run = run_or_404(run_id)
    images = lab().store.first_layer(run_id)
    final = run.get("final_event") or {}
    insight = lab().store.insight(run_id) or {}
    return jsonify({"run": run_id, "confusion": final.get("confusion"), "dead_units": final.get("dead_units"),
                    "first_layer": None if images is None else [[round(float(v), 5) for v in img.ravel()] for img in images],
                    "input_importance": insight.get("input_importance"), "dead_inputs": final.get("dead_inputs"),
                    "unit_norms": insight.get("unit_norms"), "prior_fit": insight.get("prior_fit")})


@bp.get("/runs/<id:run_id>/pruning")
def pruning(run_id: int):
    """The finished run's pruning curve, with ``fine_tuned`` (the curve after fine-tuning, or None)."""
    run = run_or_404(run_id)
    insight = lab().store.insight(run_id) if run["status"] == "completed" else None
    if not insight or not insight.get("pruning"):
        raise ApiError(404, missing(run, "pruning curve"))
    return jsonify(insight["pruning"] | {"fine_tuned": insight.get("pruning_fine_tuned")})


@bp.get("/runs/<id:run_id>/batches.csv")
def batches_csv(run_id: int):
    """Every per-batch point of the run (exports keep every point; only the charts downsample)."""
    run_or_404(run_id)
    return series_csv(run_id, "batch", "batches", ("step", "epoch", "batch", "loss", "data_loss", "penalty"))


@bp.get("/runs/<id:run_id>/epochs.csv")
def epochs_csv(run_id: int):
    run_or_404(run_id)
    return series_csv(run_id, "epoch", "epochs", ("epoch", "step", "train_loss", "data_loss", "penalty",
                                                  "train_accuracy",
                                        "test_loss", "test_accuracy", "sparsity", "seconds", "train_seconds"))


def series_csv(run_id: int, kind: str, plural: str, columns: tuple[str, ...]) -> Response:
    """The run's ``kind`` events as a CSV download named normlab-run-<id>-<plural>.csv."""
    series = lab().store.read_events(run_id)[kind]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerows(zip(*(series[c] for c in columns)))
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=normlab-run-{run_id}-{plural}.csv"})


@bp.post("/runs/<id:run_id>/cancel")
@job_errors
def cancel(run_id: int):
    return jsonify(lab().jobs.cancel(run_id))


@bp.post("/runs/<id:run_id>/rerun")
@job_errors
def rerun(run_id: int):
    run = run_or_404(run_id)
    return jsonify(lab().jobs.submit(parse_config(run["settings"]), run["label"], run["grp"])), 201


@bp.delete("/runs/<id:run_id>")
@job_errors
def delete(run_id: int):
    lab().jobs.delete(run_id)
    return jsonify({"deleted": run_id})


@bp.get("/runs.csv")
def runs_csv():
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_FIELDS, extrasaction="ignore")
    writer.writeheader()
    for run in lab().store.list_runs():
        writer.writerow(csv_row(run_view(run, lab().hub)))
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=normlab-runs.csv"})


def csv_row(run: dict[str, Any]) -> dict[str, Any]:
    result = run["result"] or {}
    row = {**run["settings"], **{k: v for k, v in result.items() if k != "penalty"}}
    row.update(id=run["id"], status=run["status"], label=_csv_text(run["label"]), reason=_csv_text(run["reason"]),
               created=run["created"], finished=run["finished"], penalty_loss=result.get("penalty"),
               penalty=run["settings"]["penalty"])
    return row


def _csv_text(text: str | None) -> str | None:
    """Keep spreadsheet programs from reading user text as a formula."""
    if text and text[0] in "=+-@\t\r":
        return "'" + text
    return text
