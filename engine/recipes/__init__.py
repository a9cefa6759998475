"""Recipes: published regularisation results as study presets, with the published numbers beside ours.

``RECIPES`` names each recipe; ``get_recipe`` finds one. See ``model`` (a recipe and its arms),
``claims`` (what is checked and how a verdict is reached) and one module per source.
"""
from __future__ import annotations

from . import han, ng, nielsen, reference
from .claims import INCONCLUSIVE, NOT_CHECKED, NOT_REPRODUCED, REPRODUCED, VERDICTS, ClaimResult
from .model import Recipe

RECIPES: dict[str, Recipe] = {r.name: r for r in (reference.RECIPE, nielsen.OVERFITTING, nielsen.L2_100, ng.RECIPE,
                                                  han.RECIPE)}

__all__ = ["INCONCLUSIVE", "NOT_CHECKED", "NOT_REPRODUCED", "REPRODUCED", "RECIPES", "VERDICTS", "ClaimResult",
           "Recipe", "get_recipe"]


def get_recipe(name: str) -> Recipe | None:
    """The recipe called ``name``, or None."""
    return RECIPES.get(name)
