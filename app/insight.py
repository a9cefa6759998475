"""A finished run's insight: the large parts of its done event, kept apart from its row.

The done event carries, besides scalars, what the trained weights show: the input
importance (784 values), the sorted unit norms, the pruning curves and the prior fits,
some 24 KB of JSON. Lists of thousands of runs read the runs table, so these parts live in
the ``artifacts`` table (``insight``) and the run's stored final event keeps only scalars,
including the prunable fractions its study aggregates. The same slim final event is what
``/metrics`` and every socket frame (live or from the store) carry, so a page sees one shape.
"""
from __future__ import annotations

from typing import Any

# The done event's fields that go to the artifacts table ("first_layer" has its own column).
INSIGHT_FIELDS = ("input_importance", "unit_norms", "pruning", "pruning_fine_tuned", "prior_fit")
LARGE_FIELDS = ("first_layer", *INSIGHT_FIELDS)
# The slim final event's scalars a run's ``result`` (its row, its view, the runs list) carries.
RESULT_SCALARS = ("dead_inputs", "active_weights", "prunable_fraction")


def split_final(final: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A final event's dict (``event_to_dict``) as ``(slim final, insight)``.

    The slim final drops ``LARGE_FIELDS`` and, for a done event, adds the scalars a list or a
    study needs: ``prunable_fraction`` and ``prunable_fraction_first_layer`` (from ``pruning``),
    and ``prunable_fraction_fine_tuned`` (the global one after fine-tuning, or None). The
    insight is the dropped ``INSIGHT_FIELDS`` (None when the event has none: failed, cancelled).
    """
    slim = {k: v for k, v in final.items() if k not in LARGE_FIELDS}
    if "pruning" not in final:
        return slim, None
    fractions = final["pruning"]["prunable_fraction"]
    tuned = final.get("pruning_fine_tuned")
    slim.update(prunable_fraction=fractions["global"], prunable_fraction_first_layer=fractions["first_layer"],
                prunable_fraction_fine_tuned=tuned["prunable_fraction"]["global"] if tuned else None)
    return slim, {k: final.get(k) for k in INSIGHT_FIELDS}


def missing(run: dict[str, Any], what: str) -> str:
    """Why run ``run`` (a store row) has no ``what`` (e.g. "pruning curve"): a 404's error text."""
    status = run["status"]
    if status in ("queued", "running"):
        return f"run {run['id']} has no {what} yet: it is {status}, and the {what} is computed when it finishes"
    if status != "completed":
        return f"run {run['id']} has no {what}: it did not finish ({status})"
    return (f"run {run['id']} has no {what}: it was run by an older normlab, before runs kept one; "
            f"rerun it to get one")
