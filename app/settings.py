"""What a person can choose and within which limits, described once for the pages, the API and
validation: GET /api/schema, embedded in every page as ``schema_json()`` (README, "Schema")."""
from __future__ import annotations

import json
from dataclasses import fields
from typing import TYPE_CHECKING, Any

from engine.config import CHOICES, INT_FIELDS, RANGES, RunConfig
from engine.data import DATASET_NAMES, availability
from engine.metrics import SPARSITY_THRESHOLD
from engine.penalties import PENALTY_NAMES
from engine.studies import MAX_LAMBDAS, MAX_RUNS, MAX_SEEDS

if TYPE_CHECKING:
    from .jobs import JobManager

LABELS = {
    "penalty": "Penalty", "lam": "λ (strength)", "lam_l2": "λ₂ (elastic net's L2 part)",
    "hidden": "Hidden units (0: none, a softmax regression)", "epochs": "Epochs", "batch_size": "Batch size", "lr": "Learning rate",
    "momentum": "Momentum", "train_size": "Training examples", "seed": "Seed", "init": "Initializer",
    "activation": "Activation", "dataset": "Dataset", "dtype": "Precision",
    "prune_fine_tune_steps": "Fine-tune steps per pruning point (0: no fine-tuned curve)",
    "noise_features": "Noise features appended to every image", "subset": "Training images (random or the first)",
    "test_split": "Measured on (test set, or validation images 50 000–59 999)",
}
# Shown up front in the form (epochs is the first setting a newcomer changes, the dataset the
# second); the rest go under "advanced".
PRIMARY = ("penalty", "lam", "lam_l2", "hidden", "epochs", "dataset")
# The reference study's λ for the one-click comparison.
COMPARISON_LAMBDAS = {"l1": 1e-4, "l2": 0.01}
# Each penalty's name on the pages and its colour in every chart, in the engine's (display) order;
# a penalty the engine gains without a label and a colour here stops the app at import.
PENALTY_LABELS = {"none": "none", "l1": "L1", "l2": "L2", "elastic": "elastic net"}
PENALTY_COLORS = {"none": "#616e7c", "l1": "#e15759", "l2": "#4e79a7", "elastic": "#59a14f"}
PENALTIES = tuple({"name": name, "label": PENALTY_LABELS[name], "color": PENALTY_COLORS[name]}
                  for name in PENALTY_NAMES)
LABEL_MAX = 100  # characters in a run's label or a study's name
COMPARE_MAX = 12  # runs the compare page shows side by side
RUNS_PAGE_MAX = 500  # runs one GET /api/runs answers at most (?limit=)


def settings_schema(datasets: dict[str, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Each setting's name, label, type, default and allowed range or choices, in form order; the
    dataset's entry also says of each choice whether a run could load it (``dataset_choices``)."""
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
        if f.name == "dataset" and datasets is not None:
            entry["availability"] = datasets
        out.append(entry)
    return out


def dataset_choices(data_dir: Any = None, trains_here: bool = True) -> dict[str, dict[str, Any]]:
    """Per dataset: ``available`` (a run could load it), ``ready`` (its files are here now),
    ``command`` (what obtains it; null when nothing is needed) and a ``note`` for a person.

    From file names alone (engine.data.availability), so cheap enough for every page. When runs
    train on other machines (a cluster), their files are theirs: every dataset is offered.
    """
    if not trains_here:
        return {name: {"available": True, "ready": None, "command": None,
                       "note": "runs load it on the cluster's workers"} for name in DATASET_NAMES}
    out = {}
    for name in DATASET_NAMES:
        a = availability(name, data_dir)
        out[name] = {"available": a.available, "ready": a.ready, "command": a.command, "note": a.note}
    return out


def limits(jobs: JobManager) -> dict[str, Any]:
    """Every limit a page checks before sending, each the value of the constant that enforces it."""
    return {"label_max": LABEL_MAX, "study_max_runs": MAX_RUNS, "seeds_max": MAX_SEEDS, "lams_max": MAX_LAMBDAS,
            "lam_min": RANGES["lam"][0], "lam_max": RANGES["lam"][1], "compare_max": COMPARE_MAX,
            "runs_page_max": RUNS_PAGE_MAX, "queue_limit": jobs.queue_limit,
            "study_queue_limit": jobs.study_queue_limit}


def schema(jobs: JobManager, data_dir: Any = None, trains_here: bool = True) -> dict[str, Any]:
    """The settings (with which datasets runs can load, from ``data_dir``), the comparison's λ, the
    penalties, the limits and the sparsity threshold."""
    return {"settings": settings_schema(dataset_choices(data_dir, trains_here)),
            "comparison_lambdas": COMPARISON_LAMBDAS, "penalties": list(PENALTIES), "limits": limits(jobs),
            "sparsity_threshold": SPARSITY_THRESHOLD}


def schema_json(jobs: JobManager, data_dir: Any = None, trains_here: bool = True) -> str:
    """``schema`` as JSON that is also safe inside a page's ``<script>`` (no ``<``, ``>`` or ``&``),
    so the API and every page send the very same text."""
    text = json.dumps(schema(jobs, data_dir, trains_here), separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
