"""Which runs the ★ compares: those with the same settings but for the penalty, its λ, the seed (and
the fine-tune steps of the pruning curve, which training never sees).

Only such runs differ in nothing but what a study varies, so only among them does "best test
accuracy for L2" say something about L2 (a synthetic run is no rival of an MNIST one). The store
keeps the same key as the ``comparable`` column (schema.sql), so the best of a group is one
index seek; this module says in words which runs a ★ was compared with.
"""
from __future__ import annotations

from typing import Any

from .settings import PENALTY_LABELS

# The settings a ★ does not hold equal: what a study varies (schema.sql's `comparable` leaves out the same).
VARIED = ("penalty", "lam", "lam_l2", "seed", "prune_fine_tune_steps")
# Settings a ★'s words name only when they differ from the default (most runs never change them).
UNLESS_DEFAULT = {"noise_features": 0, "subset": "random", "test_split": "test"}


def comparable_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """The settings that must be equal for two runs to be compared."""
    return {k: v for k, v in settings.items() if k not in VARIED}


def best_among(settings: dict[str, Any]) -> str:
    """The runs a run's ★ was the best of, in words, e.g. "completed L2 runs on mnist with 20 000
    examples, 20 epochs, hidden 200, sigmoid, glorot_uniform init, lr 0.1, momentum 0, batch 64,
    float32" (for the ★'s tooltip: "best test accuracy among …")."""
    rest = comparable_settings(settings)
    words = {
        "dataset": lambda v: f"on {v}",
        "train_size": lambda v: f"with {v:,} examples".replace(",", " "),
        "epochs": lambda v: f"{v} epoch{'s' if v != 1 else ''}",
        "hidden": lambda v: f"hidden {v}",
        "activation": str,
        "init": lambda v: f"{v} init",
        "lr": lambda v: f"lr {v:g}",
        "momentum": lambda v: f"momentum {v:g}",
        "batch_size": lambda v: f"batch {v}",
        "dtype": str,
        "noise_features": lambda v: f"{v} noise features",
        "subset": lambda v: f"the {v} images",
        "test_split": lambda v: f"measured on the {v} split",
    }
    rest = {k: v for k, v in rest.items() if k not in UNLESS_DEFAULT or v != UNLESS_DEFAULT[k]}
    ordered = [k for k in words if k in rest] + [k for k in rest if k not in words]  # a new setting still shows
    parts = [words[k](rest[k]) if k in words else f"{k} {rest[k]}" for k in ordered]
    penalty = PENALTY_LABELS.get(settings.get("penalty"), settings.get("penalty"))
    return " ".join([f"completed {penalty} runs", *parts[:2]]) + "".join(f", {p}" for p in parts[2:])
