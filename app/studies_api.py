"""The studies API: create a sweep of penalties × λ × seeds, read its runs and per-setting aggregates."""
from __future__ import annotations

import csv
import io
from typing import Any

from flask import Blueprint, Response, jsonify, request

from engine import ConfigError
from engine.config import is_finite_number
from engine.studies import StudySpec, log_range, run_metrics

from .api import ApiError, job_errors, json_body, lab, parse_config, user_text
from .run_view import LIVE, iso
from .comparison_view import between, comparison_json, parse_effect, parse_setting, power_analysis
from .recipe_view import RECIPE_INSIGHT
from .study_view import setting_order, study_view

bp = Blueprint("studies_api", __name__, url_prefix="/api/studies")

PRESETS: dict[str, dict[str, Any]] = {
    "seed": {"name": "the reference study", "penalties": ["none", "l2", "l1"], "lams": {"l2": [0.01], "l1": [1e-4]},
             "seeds": 1, "settings": {}},
    "sweep": {"name": "λ sweep", "penalties": ["none", "l1", "l2"], "lam_range": {"low": 1e-5, "high": 1e-1, "count": 5},
              "seeds": 3, "settings": {}},
}
CSV_FIELDS = ("run", "status", "penalty", "lam", "seed", "hidden", "epochs", "batch_size", "lr", "train_size", "dataset",
              "test_accuracy", "train_accuracy", "sparsity", "l1_norm", "l2_norm", "dead_units", "seconds",
              "active_weights", "dead_inputs", "prunable_fraction", "prunable_fraction_first_layer", "reason")


def spec_from_body(data: dict[str, Any]) -> tuple[str, StudySpec]:
    """Validate a study body: penalties, lams (a list, or per penalty) or lam_range, seeds, settings."""
    known = {"name", "penalties", "lams", "lam_range", "seeds", "settings"}
    for key in data:
        if key not in known:
            raise ApiError(400, f"unknown field; allowed: {', '.join(sorted(known))}", str(key)[:50])
    name = user_text(data.get("name", "study"), "name")
    penalties = data.get("penalties", ["none", "l1", "l2"])
    if not isinstance(penalties, list) or not all(isinstance(p, str) for p in penalties):
        raise ApiError(400, "must be a list of penalty names", "penalties")
    shared, per_penalty = _lambdas(data)
    settings = data.get("settings", {})
    if not isinstance(settings, dict):
        raise ApiError(400, "must be an object of shared run settings", "settings")
    settings = {k: v for k, v in settings.items() if k not in ("penalty", "lam", "lam_l2")}
    base = parse_config(settings)
    try:
        return name, StudySpec(tuple(penalties), shared, data.get("seeds", 1), base, per_penalty)
    except ConfigError as exc:
        raise ApiError(400, exc.message, exc.field) from None


def _lambdas(data: dict[str, Any]) -> tuple[tuple[float, ...], dict[str, tuple[float, ...]]]:
    if "lam_range" in data:
        r = data["lam_range"]
        if not isinstance(r, dict) or set(r) != {"low", "high", "count"}:
            raise ApiError(400, 'must be {"low": λ, "high": λ, "count": n}', "lam_range")
        if not all(is_finite_number(r[k]) for k in r):
            raise ApiError(400, "low, high and count must be finite numbers", "lam_range")
        try:
            return log_range(float(r["low"]), float(r["high"]), r["count"]), {}
        except ConfigError as exc:
            raise ApiError(400, exc.message, "lam_range") from None
    lams = data.get("lams", [1e-4, 1e-3, 1e-2])
    if isinstance(lams, dict):
        if not all(isinstance(v, list) for v in lams.values()):
            raise ApiError(400, "per-penalty λ values must be lists", "lams")
        return (), {str(k): tuple(v) for k, v in lams.items()}
    if not isinstance(lams, list):
        raise ApiError(400, "must be a list of λ values (or an object of lists per penalty)", "lams")
    return tuple(lams), {}


def study_or_404(study_id: int) -> dict[str, Any]:
    study = lab().store.get_study(study_id)
    if study is None:
        raise ApiError(404, f"there is no study {study_id}")
    return study


@bp.get("/presets")
def presets():
    return jsonify(PRESETS)


@bp.post("")
@job_errors
def create_study():
    name, spec = spec_from_body(json_body())
    configs = spec.configs()
    stored_spec = {"penalties": list(spec.penalties), "lams": list(spec.lams),
                   "lams_by_penalty": {k: list(v) for k, v in spec.lams_by_penalty.items()},
                   "seeds": spec.seeds, "settings": spec.base.to_dict()}
    labels = [f"{c.describe_penalty()} · seed {c.seed}" for c in configs]
    study_id, runs = lab().jobs.submit_study(name, stored_spec, configs, labels)
    return jsonify({"id": study_id, "name": name, "runs": [r["id"] for r in runs]}), 201


@bp.get("")
def list_studies():
    counts = lab().store.study_counts()
    return jsonify([{"id": s["id"], "name": s["name"], "created": iso(s["created"]), "spec": s["spec"],
                     "counts": counts.get(s["id"], {})} for s in lab().store.list_studies()])


@bp.post("/<id:study_id>/cancel")
def cancel_study(study_id: int):
    """Cancel every queued and running run of the study (then it can be deleted); 409 when none is."""
    study_or_404(study_id)
    cancelled = lab().jobs.cancel_study(study_id)
    if not cancelled:
        raise ApiError(409, f"none of study {study_id}'s runs is queued or running; there is nothing to cancel")
    counts = lab().store.study_counts().get(study_id, {})
    return jsonify({"id": study_id, "cancelled": cancelled, "counts": counts})


@bp.delete("/<id:study_id>")
def delete_study(study_id: int):
    """Delete a study and its runs, once none of them is queued or running."""
    study_or_404(study_id)
    active = [r["id"] for r in lab().store.study_runs(study_id) if r["status"] in LIVE]
    if active:
        raise ApiError(409, f"{len(active)} of its runs are queued or running; cancel them before deleting the study")
    for run in lab().store.study_runs(study_id):
        lab().hub.forget(run["id"])
    lab().store.delete_study(study_id)
    return jsonify({"deleted": study_id})


@bp.get("/<id:study_id>")
def get_study(study_id: int):
    """The study's view; ``?effect=`` (default 0.01) sets the difference its seeds-needed estimates are for."""
    effect = _query(parse_effect, request.args.get("effect"))
    store = lab().store
    study = study_or_404(study_id)
    insight = store.study_insight(study_id, RECIPE_INSIGHT) if "recipe" in study["spec"] else None
    return jsonify(study_view(study, store.study_runs(study_id), lab().hub, store.study_unit_norms(study_id), effect,
                              insight))


@bp.get("/<id:study_id>/comparison")
def compare_two(study_id: int):
    """Two settings a person picked (``?a=<penalty>:<λ>&b=<penalty>:<λ>``): a minus b, paired by seed."""
    study_or_404(study_id)
    effect = _query(parse_effect, request.args.get("effect"))
    runs = lab().store.study_runs(study_id)
    settings = setting_order(runs)
    a = _query(parse_setting, request.args.get("a"), "a", settings)
    b = _query(parse_setting, request.args.get("b"), "b", settings)
    if a == b:
        raise ApiError(400, "must be a setting other than a's", "b")
    rows = [run_metrics(r["settings"], r["final_event"]) for r in runs]
    return jsonify({"comparison": comparison_json(between(rows, a, b), effect), "power_analysis": power_analysis(effect)})


def _query(parse, *args):
    """``parse(*args)``, its ConfigError answered as a 400 naming the query field."""
    try:
        return parse(*args)
    except ConfigError as exc:
        raise ApiError(400, exc.message, exc.field) from None


@bp.get("/<id:study_id>.csv")
def study_csv(study_id: int):
    study_or_404(study_id)
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_FIELDS, extrasaction="ignore")
    writer.writeheader()
    for run in lab().store.study_runs(study_id):
        final = run["final_event"] or {}
        writer.writerow({**run["settings"], **{k: final.get(k) for k in CSV_FIELDS if k in final},
                         "run": run["id"], "status": run["status"], "reason": run["reason"]})
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=normlab-study-{study_id}.csv"})
