"""The recipes API: list the recipes, and queue one as a study (which records the recipe's name and version)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from engine import ConfigError
from engine.recipes import RECIPES, Recipe, get_recipe
from engine.recipes.model import SCALABLE

from .api import ApiError, job_errors, json_body, lab, parse_config
from .recipe_view import stored_spec

bp = Blueprint("recipes_api", __name__, url_prefix="/api/recipes")
RUN_FIELDS = ("seeds", "scale")
# The /recipes page's "try it small" scale: the same machinery on synthetic data in seconds.
TRY_SMALL = {"dataset": "synthetic", "train_size": 300, "epochs": 2, "hidden": 16, "prune_fine_tune_steps": 5}


def recipe_or_404(name: str) -> Recipe:
    recipe = get_recipe(name)
    if recipe is None:
        raise ApiError(404, f"there is no recipe {name[:40]!r}; the recipes are {', '.join(RECIPES)}")
    return recipe


@bp.get("")
def list_recipes():
    """Every recipe: name, version, title, question, source (citations and quotes), settings, claims, notes."""
    return jsonify([r.describe() for r in RECIPES.values()])


@bp.get("/<name>")
def get_one(name: str):
    return jsonify(recipe_or_404(name).describe())


@bp.post("/<name>/run")
@job_errors
def run_recipe(name: str):
    """Queue the recipe's study. Body (optional): ``seeds`` (1–10) and ``scale`` (sizes only: dataset, train_size,
    epochs, prune_fine_tune_steps, to try a recipe small) → 201 with the study, as ``POST /api/studies``."""
    recipe, scale = with_body(recipe_or_404(name), json_body())
    configs = recipe.configs()
    parse_config(configs[0][1].to_dict())  # the dataset must be one runs can load here (every arm shares it)
    several = len(recipe.arms) > 1
    labels = [f"{arm + ' · ' if several else ''}{c.describe_penalty()} · seed {c.seed}" for arm, c in configs]
    study_name = f"recipe {recipe.name} v{recipe.version}" + (" (scaled)" if scale else "")
    study_id, runs = lab().jobs.submit_study(study_name, stored_spec(recipe, scale), [c for _, c in configs], labels)
    return jsonify({"id": study_id, "name": study_name, "runs": [r["id"] for r in runs],
                    "recipe": {"name": recipe.name, "version": recipe.version, "seeds": recipe.seeds}}), 201


def with_body(recipe: Recipe, data: dict[str, Any]) -> tuple[Recipe, dict[str, Any]]:
    """The recipe at the body's seeds and scale; a 400 naming the field for anything else or out of range."""
    for key in data:
        if key not in RUN_FIELDS:
            raise ApiError(400, f"unknown field; allowed: {', '.join(RUN_FIELDS)}", str(key)[:50])
    scale = data.get("scale", {})
    if not isinstance(scale, dict):
        raise ApiError(400, f"must be an object of sizes: any of {', '.join(SCALABLE)}", "scale")
    try:
        recipe = recipe.scaled(**scale)
        if "seeds" in data:
            recipe = recipe.with_seeds(data["seeds"])
    except ConfigError as exc:
        raise ApiError(400, exc.message, exc.field) from None
    return recipe, scale
