"""The run settings a person can choose, described once for the form, the API and validation."""
from __future__ import annotations

from dataclasses import fields
from typing import Any

from engine.config import CHOICES, INT_FIELDS, RANGES, RunConfig

LABELS = {
    "penalty": "Penalty", "lam": "λ (strength)", "lam_l2": "λ₂ (elastic net's L2 part)",
    "hidden": "Hidden units", "epochs": "Epochs", "batch_size": "Batch size", "lr": "Learning rate",
    "momentum": "Momentum", "train_size": "Training examples", "seed": "Seed", "init": "Initializer",
    "activation": "Activation", "dataset": "Dataset", "dtype": "Precision",
}
# Shown up front in the form; the rest go under "advanced".
PRIMARY = ("penalty", "lam", "lam_l2", "hidden")
# The seed study's λ for the one-click comparison.
COMPARISON_LAMBDAS = {"l1": 1e-4, "l2": 0.01}


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
