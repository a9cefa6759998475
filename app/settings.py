"""What a person can choose and within which limits, described once for the pages, the API and
validation: GET /api/schema, embedded in every page as ``schema_json()`` (README, "Schema")."""
from __future__ import annotations

import json
from dataclasses import fields
from typing import TYPE_CHECKING, Any

from engine.config import CHOICES, INT_FIELDS, RANGES, RunConfig
from engine.metrics import SPARSITY_THRESHOLD
from engine.penalties import PENALTY_NAMES
from engine.studies import MAX_LAMBDAS, MAX_RUNS, MAX_SEEDS

if TYPE_CHECKING:
    from .jobs import JobManager

LABELS = {
    "penalty": "Penalty", "lam": "λ (strength)", "lam_l2": "λ₂ (elastic net's L2 part)",
    "hidden": "Hidden units", "epochs": "Epochs", "batch_size": "Batch size", "lr": "Learning rate",
    "momentum": "Momentum", "train_size": "Training examples", "seed": "Seed", "init": "Initializer",
    "activation": "Activation", "dataset": "Dataset", "dtype": "Precision",
    "prune_fine_tune_steps": "Fine-tune steps per pruning point (0: no fine-tuned curve)",
}
# Shown up front in the form; the rest go under "advanced".
PRIMARY = ("penalty", "lam", "lam_l2", "hidden")
# The seed study's λ for the one-click comparison.
COMPARISON_LAMBDAS = {"l1": 1e-4, "l2": 0.01}
# Each penalty's name on the pages and its colour in every chart, in the engine's (display) order;
# a penalty the engine gains without a label and a colour here stops the app at import.
PENALTY_LABELS = {"none": "none", "l1": "L1", "l2": "L2", "elastic": "elastic net"}
PENALTY_COLORS = {"none": "#616e7c", "l1": "#e15759", "l2": "#4e79a7", "elastic": "#59a14f"}
PENALTIES = tuple({"name": name, "label": PENALTY_LABELS[name], "color": PENALTY_COLORS[name]}
                  for name in PENALTY_NAMES)
LABEL_MAX = 100  # characters in a run's label or a study's name
COMPARE_MAX = 12  # runs the compare page shows side by side


def settings_schema() -> list[dict[str, Any]]:
    """Each setting's name, label, type, default and allowed range or choices, in form order."""
    defaults = RunConfig()
    out = []
    for f in fields(RunConfig):
        entry: dict[str, Any] = {"name": f.name, "label": LABELS[f.name], "default": getattr(defaults, f.name),
                                 "primary": f.name in PRIMARY}
        if f.name in CHOICES:
            entry.update(type="choice", choices=list(CHOICES[f.name]))
        else:
            low, high = RANGES[f.name]
            entry.update(type="int" if f.name in INT_FIELDS else "float", min=low, max=high)
        out.append(entry)
    return out


def limits(jobs: JobManager) -> dict[str, Any]:
    """Every limit a page checks before sending, each the value of the constant that enforces it."""
    return {"label_max": LABEL_MAX, "study_max_runs": MAX_RUNS, "seeds_max": MAX_SEEDS, "lams_max": MAX_LAMBDAS,
            "lam_min": RANGES["lam"][0], "lam_max": RANGES["lam"][1], "compare_max": COMPARE_MAX,
            "queue_limit": jobs.queue_limit, "study_queue_limit": jobs.study_queue_limit}


def schema(jobs: JobManager) -> dict[str, Any]:
    """The settings, the comparison's λ, the penalties, the limits and the sparsity threshold."""
    return {"settings": settings_schema(), "comparison_lambdas": COMPARISON_LAMBDAS, "penalties": list(PENALTIES),
            "limits": limits(jobs), "sparsity_threshold": SPARSITY_THRESHOLD}


def schema_json(jobs: JobManager) -> str:
    """``schema`` as JSON that is also safe inside a page's ``<script>`` (no ``<``, ``>`` or ``&``),
    so the API and every page send the very same text."""
    text = json.dumps(schema(jobs), separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
