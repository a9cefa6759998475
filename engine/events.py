"""The immutable records a training run emits, and their one serializer.

Every event carries ``seq``: its position in the run's stream, starting at 0,
so a consumer can tell exactly which events it already has.
"""
from __future__ import annotations

import math
from dataclasses import MISSING, dataclass, fields
from typing import Any, ClassVar

import numpy as np


@dataclass(frozen=True)
class StartEvent:
    """The run is about to take its first step."""

    kind: ClassVar[str] = "start"
    seq: int
    epochs: int
    batches_per_epoch: int
    total_steps: int
    train_size: int
    test_size: int
    n_params: int
    dataset_checksum: str
    subset_checksum: str  # sha256 of the training indices drawn
    init_checksum: str  # sha256 of the initial parameters
    numpy_version: str
    # The first-layer weights every epoch event follows (engine.trajectories): (row, col) of W1,
    # the same for runs of one seed whatever their penalty; and their initial values.
    trajectory_positions: tuple[tuple[int, int], ...]
    trajectory_initial: tuple[float, ...]


@dataclass(frozen=True)
class BatchEvent:
    """One SGD step. ``loss = data_loss + penalty``, measured before the update."""

    kind: ClassVar[str] = "batch"
    seq: int
    step: int
    epoch: int
    batch: int
    loss: float
    data_loss: float
    penalty: float


@dataclass(frozen=True)
class WeightStats:
    """Summary of one weight matrix: norms, sparsity, a fixed-bin histogram of w and one of |w| on
    fixed log bins (``metrics.LOG_HIST_EDGES``; empty for events stored before it existed)."""

    name: str
    shape: tuple[int, int]
    l1: float
    l2: float
    sparsity: float
    histogram: tuple[int, ...]
    log_histogram: tuple[int, ...] = ()


@dataclass(frozen=True)
class EpochEvent:
    """End of an epoch: mean training losses over its batches and a test evaluation."""

    kind: ClassVar[str] = "epoch"
    seq: int
    epoch: int
    step: int
    train_loss: float
    data_loss: float
    penalty: float
    train_accuracy: float
    test_loss: float
    test_accuracy: float
    sparsity: float
    seconds: float
    train_seconds: float
    weights: tuple[WeightStats, ...]
    trajectory: tuple[float, ...]  # W1 at the start event's trajectory_positions, in their order


@dataclass(frozen=True, eq=False)
class DoneEvent:
    """The run finished all its epochs."""

    kind: ClassVar[str] = "done"
    seq: int
    epochs: int
    steps: int
    test_accuracy: float
    test_loss: float
    train_accuracy: float
    train_loss: float
    sparsity: float
    l1_norm: float  # Σ|w| over all weight matrices
    l2_norm: float  # sqrt(Σw²) over all weight matrices
    dead_units: int
    seconds: float
    confusion: tuple[tuple[int, ...], ...]
    first_layer: np.ndarray  # (hidden, 28, 28), read-only
    input_importance: tuple[float, ...]  # (features,) Σⱼ|W1[i, j]| per input (metrics.input_importance)
    dead_inputs: int  # inputs whose outgoing |w| are all below the sparsity threshold
    unit_norms: tuple[float, ...]  # (hidden,) ‖W1[:, j]‖₂, largest first (metrics.unit_norms)
    active_weights: int  # weight-matrix entries with |w| ≥ the sparsity threshold
    pruning: dict[str, Any]  # engine.pruning.PruningCurve.to_dict()
    pruning_fine_tuned: dict[str, Any] | None  # the same after a fine-tune, plus "steps"; None unless asked for
    prior_fit: dict[str, Any]  # engine.priors.fit_network_priors: per matrix and "all"
    # The best test accuracy over the epochs and the (first) epoch it was reached in: Nielsen's
    # "peak". None for done events stored before normlab kept them.
    peak_test_accuracy: float | None = None
    peak_epoch: int | None = None


@dataclass(frozen=True)
class FailedEvent:
    """The run stopped because it could not go on (e.g. the loss became NaN)."""

    kind: ClassVar[str] = "failed"
    seq: int
    reason: str
    epoch: int
    step: int
    seconds: float


@dataclass(frozen=True)
class CancelledEvent:
    """The run stopped because ``should_stop`` returned True."""

    kind: ClassVar[str] = "cancelled"
    seq: int
    reason: str
    epoch: int
    step: int
    seconds: float


Event = StartEvent | BatchEvent | EpochEvent | DoneEvent | FailedEvent | CancelledEvent
FINAL_KINDS = ("done", "failed", "cancelled")


def to_jsonable(value: Any) -> Any:
    """Turn event values into JSON-safe ones; NaN and ±inf become the strings "NaN", "Infinity", "-Infinity"."""
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if hasattr(value, "__dataclass_fields__"):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in fields(value)}
    return value


def event_to_dict(event: Event) -> dict[str, Any]:
    """Serialize an event to a JSON-safe dict with an ``event`` key naming its kind."""
    out = {"event": event.kind}
    out.update(to_jsonable(event))
    return out


EVENT_TYPES = {cls.kind: cls for cls in (StartEvent, BatchEvent, EpochEvent, DoneEvent, FailedEvent, CancelledEvent)}


def _from_jsonable(value: Any) -> Any:
    if value == "NaN":
        return math.nan
    if value == "Infinity":
        return math.inf
    if value == "-Infinity":
        return -math.inf
    return value


def event_from_dict(data: dict[str, Any]) -> Event:
    """Rebuild an event from ``event_to_dict``'s output (e.g. after crossing a process or machine)."""
    cls = EVENT_TYPES[data["event"]]
    # A field with a default was added later: an older event's dict may not have it.
    values = {f.name: _from_jsonable(data[f.name] if f.default is MISSING else data.get(f.name, f.default))
              for f in fields(cls)}
    if cls is StartEvent:
        values["trajectory_positions"] = tuple(tuple(p) for p in values["trajectory_positions"])
        values["trajectory_initial"] = tuple(values["trajectory_initial"])
    if cls is EpochEvent:
        values["weights"] = tuple(
            WeightStats(w["name"], tuple(w["shape"]), w["l1"], w["l2"], w["sparsity"], tuple(w["histogram"]),
                        tuple(w.get("log_histogram", ())))
            for w in values["weights"])
        values["trajectory"] = tuple(values["trajectory"])
    if cls is DoneEvent:
        values["confusion"] = tuple(tuple(row) for row in values["confusion"])
        values["input_importance"] = tuple(values["input_importance"])
        values["unit_norms"] = tuple(values["unit_norms"])
        images = np.asarray(values["first_layer"], dtype=np.float32).reshape(-1, 28, 28)
        images.flags.writeable = False
        values["first_layer"] = images
    return cls(**values)
