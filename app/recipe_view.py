"""Recipes as the API, the pages and ``normlab recipe`` show them: the list, a study's verdict table, and the
stored spec that ties a study to the recipe (and version) that made it.

The verdicts are computed here from the study's runs by the engine's claims
(``engine.recipes``); pages and the CLI format them and judge nothing themselves.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from engine import ConfigError
from engine.events import to_jsonable
from engine.recipes import ClaimResult, Recipe, get_recipe

# The parts of a run's insight (``app.insight``) claims read: the pruning curves.
RECIPE_INSIGHT = ("pruning", "pruning_fine_tuned")


def claim_json(result: ClaimResult) -> dict[str, Any]:
    """One verdict row: quantity, published (number or null, and in words), ours ({mean, sd, n} or null, and in
    words), tolerance, verdict, note, and the points a recipe's own chart draws."""
    ours = result.ours
    return to_jsonable({
        "quantity": result.quantity, "published": result.published, "published_text": result.published_text,
        "ours": None if ours is None else {"mean": ours.mean, "sd": ours.sd, "n": ours.n},
        "ours_text": result.ours_text, "tolerance": result.tolerance, "verdict": result.verdict,
        "note": result.note, "points": list(result.points), "axes": result.axes,
    })


def stored_spec(recipe: Recipe, scale: Mapping[str, Any]) -> dict[str, Any]:
    """A recipe study's spec: its first arm as a study spec (what the study page describes) plus ``recipe``
    (name, version, seeds, scale and arms), from which ``recipe_of`` rebuilds the very recipe that ran."""
    first = recipe.arms[0].spec
    return {"penalties": list(first.penalties), "lams": list(first.lams),
            "lams_by_penalty": {k: list(v) for k, v in first.lams_by_penalty.items()},
            "seeds": first.seeds, "settings": first.base.to_dict(),
            "recipe": {"name": recipe.name, "version": recipe.version, "seeds": recipe.seeds, "scale": dict(scale),
                       "arms": [arm.name for arm in recipe.arms]}}


def recipe_of(spec: Mapping[str, Any]) -> tuple[Recipe | None, str | None]:
    """The recipe a stored study spec names, rebuilt at its seeds and scale, and a note when this normlab's
    version of it is not the one the study ran (or it is unknown); ``(None, None)`` for other studies."""
    stored = spec.get("recipe") if isinstance(spec, Mapping) else None
    if not isinstance(stored, Mapping):
        return None, None
    recipe = get_recipe(str(stored.get("name")))
    if recipe is None:
        return None, f"this study was made by a recipe this normlab does not have ({str(stored.get('name'))[:40]})"
    try:
        recipe = recipe.scaled(**dict(stored.get("scale") or {})).with_seeds(stored.get("seeds", recipe.seeds))
    except (ConfigError, TypeError) as exc:
        return None, f"this study's recipe settings can no longer be rebuilt: {exc}"
    note = None
    if stored.get("version") != recipe.version:
        note = (f"made by version {stored.get('version')} of the recipe; its claims are judged by this normlab's "
                f"version {recipe.version}")
    return recipe, note


def recipe_section(spec: Mapping[str, Any], runs: Sequence[tuple[Mapping[str, Any], Mapping[str, Any] | None]],
                   ) -> dict[str, Any] | None:
    """A recipe study's ``recipe`` object for ``GET /api/studies/<id>``: name, version, title, the primary arm
    the study's charts show, the verdict table (``claims``), the marks for the accuracy chart, and notes.

    ``runs`` are ``(settings, final event dict with its insight)`` pairs; None for a study no recipe made.
    """
    recipe, version_note = recipe_of(spec)
    if recipe is None:
        return None if version_note is None else {"name": spec["recipe"].get("name"), "error": version_note}
    stored = spec["recipe"]
    return {"name": recipe.name, "version": stored.get("version"), "title": recipe.title,
            "question": recipe.question, "scale": stored.get("scale") or None,
            "arms": [arm.name for arm in recipe.arms], "primary_arm": recipe.arms[0].name,
            "claims": [claim_json(c) for c in recipe.evaluate(runs)], "marks": to_jsonable(recipe.marks()),
            "notes": list(recipe.notes) + ([version_note] if version_note else [])}


def primary_arm(spec: Mapping[str, Any], runs: Sequence[Mapping[str, Any]]) -> set[int]:
    """The ids of the runs a study's charts and per-setting aggregates cover: every run, but for a study a
    recipe of several arms made, those of its first arm (the others are in its verdict table)."""
    recipe, _ = recipe_of(spec)
    if recipe is None or len(recipe.arms) == 1:
        return {r["id"] for r in runs}
    first = recipe.arms[0].name
    return {r["id"] for r in runs if recipe.arm_of(r["settings"]) == first}
