"""The validated run configuration.

Every field is checked against a fixed list or range; a bad value raises
:class:`ConfigError` naming the field and what is allowed. Nothing is clamped.
"""
from __future__ import annotations

import math
import sys
from dataclasses import asdict, dataclass, fields
from typing import Any

from .activations import ACTIVATIONS
from .data import DATASET_NAMES
from .data.dataset import N_FEATURES as INPUT_FEATURES
from .formats import fmt_lambda
from .initializers import DEFAULT_INIT, INITIALIZERS
from .penalties import PENALTY_NAMES
from .pruning import PRUNING_FRACTIONS
from .run_data import VALIDATION_START

DTYPES = ("float32", "float64")
# Which training images a run trains on: drawn at random (the reference study's), or the first ones in
# the dataset's order (Nielsen's "the first 1 000 training images").
SUBSETS = ("random", "first")
# What "test" measures: the test set, or the validation images (training images 50 000–59 999,
# Nielsen's validation set), which training then never draws from.
TEST_SPLITS = ("test", "validation")

# Inclusive numeric ranges: (low, high). Resource caps keep one run within memory and hours.
RANGES: dict[str, tuple[float, float]] = {
    "lam": (0.0, 10.0),
    "lam_l2": (0.0, 10.0),
    "hidden": (0, 4096),  # 0: no hidden layer (softmax regression, inputs → 10)
    "epochs": (1, 1000),
    "batch_size": (1, 60000),
    "lr": (1e-8, 1000.0),
    "momentum": (0.0, 0.999),
    "train_size": (1, 60000),
    "seed": (0, 2**32 - 1),
    # Steps of the optional fine-tuned pruning curve (engine.fine_tune), per point; 0: no such curve.
    "prune_fine_tune_steps": (0, 1000),
    # Columns of pure noise appended to every input (engine.run_data): irrelevant features.
    "noise_features": (0, 10_000),
}
CHOICES: dict[str, tuple[str, ...]] = {
    "penalty": PENALTY_NAMES,
    "init": tuple(INITIALIZERS),
    "activation": tuple(name for name in ACTIVATIONS),
    "dataset": DATASET_NAMES,
    "dtype": DTYPES,
    "subset": SUBSETS,
    "test_split": TEST_SPLITS,
}
INT_FIELDS = ("hidden", "epochs", "batch_size", "train_size", "seed", "prune_fine_tune_steps", "noise_features")
# Resource caps across fields: total examples seen (time) and one batch's activations (memory).
MAX_EXAMPLE_PASSES = 20_000_000  # epochs × train_size: 1000 epochs of the reference setup's 20 000 examples
MAX_BATCH_ACTIVATIONS = 16_777_216  # batch_size × hidden (64 MB of float32 per buffer)
# The training inputs a run holds as bytes, train_size × (784 + noise_features): 256 MB (the test
# set's noise is at most 10 000 × 10 000 bytes more).
MAX_TRAIN_INPUT_BYTES = 268_435_456


class ConfigError(ValueError):
    """A configuration value outside what is allowed; ``field`` names it."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines one training run. Defaults are the reference study's setup."""

    penalty: str = "none"
    lam: float = 0.0
    lam_l2: float = 0.0
    hidden: int = 200
    epochs: int = 20
    batch_size: int = 64
    lr: float = 0.1
    momentum: float = 0.0
    train_size: int = 20000
    seed: int = 0
    init: str = DEFAULT_INIT
    activation: str = "sigmoid"
    dataset: str = "mnist"
    dtype: str = "float32"
    # Not part of training: after it, each point of the pruning curve is also fine-tuned this
    # many steps with its mask held (off by default; it costs 26 × the steps).
    prune_fine_tune_steps: int = 0
    # Added last, so that runs stored before them read them as these defaults (app.migrations).
    noise_features: int = 0
    subset: str = "random"
    test_split: str = "test"

    def __post_init__(self) -> None:
        for f in fields(self):
            _check(f.name, getattr(self, f.name))
        # A λ the penalty does not use is refused, not dropped: a run must be what was asked for.
        if self.penalty == "none" and self.lam != 0:
            raise ConfigError("lam", f"is only used with a penalty (got {_fmt(self.lam)} with penalty none): "
                                     "choose penalty l1, l2 or elastic, or leave λ at 0")
        if self.penalty != "elastic" and self.lam_l2 != 0:
            raise ConfigError("lam_l2", f"is only used with the elastic net (got {_fmt(self.lam_l2)} with penalty "
                                        f"{self.penalty}): choose penalty elastic, or leave λ₂ at 0")
        if self.batch_size > self.train_size:
            raise ConfigError("batch_size", f"must be at most train_size ({self.train_size}), got {self.batch_size}")
        if self.epochs * self.train_size > MAX_EXAMPLE_PASSES:
            raise ConfigError("epochs", f"epochs × train_size must be at most {MAX_EXAMPLE_PASSES:,} "
                                        f"(got {self.epochs * self.train_size:,}); such a run would take days")
        if self.batch_size * self.hidden > MAX_BATCH_ACTIVATIONS:
            raise ConfigError("batch_size", f"batch_size × hidden must be at most {MAX_BATCH_ACTIVATIONS:,} "
                                            f"(got {self.batch_size * self.hidden:,}) to keep memory bounded")
        _check_fine_tune_cost(self)
        if self.test_split == "validation" and self.train_size > VALIDATION_START:
            raise ConfigError("train_size", f"must be at most {VALIDATION_START:,} with test_split validation "
                                            f"(training images {VALIDATION_START:,}–59 999 are held out), "
                                            f"got {self.train_size:,}")
        inputs = self.train_size * (INPUT_FEATURES + self.noise_features)
        if inputs > MAX_TRAIN_INPUT_BYTES:
            raise ConfigError("noise_features", f"train_size × (784 + noise_features) must be at most "
                                                f"{MAX_TRAIN_INPUT_BYTES:,} (got {inputs:,}) to keep memory bounded; "
                                                "use fewer examples or fewer noise features")

    @classmethod
    def from_dict(cls, data: Any) -> "RunConfig":
        """Build from a JSON-like mapping; unknown keys and wrong types are errors."""
        if not isinstance(data, dict):
            raise ConfigError("body", "expected an object of run settings")
        known = {f.name: f for f in fields(cls)}
        for key in data:
            if key not in known:
                raise ConfigError(str(key)[:50], f"unknown setting; allowed: {', '.join(known)}")
        values = {key: _coerce(key, value) for key, value in data.items()}
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe_penalty(self) -> str:
        """A short label such as ``L2 λ=0.01``, ``L1 λ=1e-4`` or ``none``."""
        if self.penalty == "none":
            return "none"
        if self.penalty == "elastic":
            return f"elastic λ1={fmt_lambda(self.lam)} λ2={fmt_lambda(self.lam_l2)}"
        return f"{self.penalty.upper()} λ={fmt_lambda(self.lam)}"


def _check_fine_tune_cost(config: RunConfig) -> None:
    """The fine-tuned pruning curve sees steps × batch × points examples: held to the cap of training itself."""
    points = 2 * len(PRUNING_FRACTIONS)  # two schemes (global, first layer), each point fine-tuned apart
    examples = config.prune_fine_tune_steps * config.batch_size * points
    if examples > MAX_EXAMPLE_PASSES:
        raise ConfigError("prune_fine_tune_steps", f"prune_fine_tune_steps × batch_size × {points} must be at most "
                                                   f"{MAX_EXAMPLE_PASSES:,} (got {examples:,})")


def is_finite_number(value: Any) -> bool:
    """A real number a float can hold: not a bool, NaN or ±inf, nor an integer past the float range.

    JSON integers have any size; ``math.isfinite`` and ``float()`` raise OverflowError on those
    beyond ~1.8e308 (comparing them with a float is exact and never raises).
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if isinstance(value, int):
        return -sys.float_info.max <= value <= sys.float_info.max
    return math.isfinite(value)


def _coerce(key: str, value: Any) -> Any:
    """Check a raw value's type (no string-to-number guessing; bools are not numbers)."""
    if key in CHOICES:
        if not isinstance(value, str):
            raise ConfigError(key, f"must be one of {', '.join(CHOICES[key])}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(key, f"must be a number, got {type(value).__name__}")
    if key in INT_FIELDS:
        if isinstance(value, float):
            if not value.is_integer():
                raise ConfigError(key, f"must be a whole number, got {value!r}")
            value = int(value)
        return value
    return float(value) if is_finite_number(value) else value  # _check names what is allowed


def _check(name: str, value: Any) -> None:
    if name in CHOICES:
        if value not in CHOICES[name]:
            raise ConfigError(name, f"must be one of {', '.join(CHOICES[name])}; got {str(value)[:40]!r}")
        return
    low, high = RANGES[name]
    if name in INT_FIELDS:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(name, f"must be a whole number from {low} to {high}")
    elif not is_finite_number(value):
        raise ConfigError(name, f"must be a finite number from {low:g} to {high:g}")
    if not low <= value <= high:
        raise ConfigError(name, f"must be from {_fmt(low)} to {_fmt(high)}, got {_fmt(value)}")


def _fmt(x: float) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)
