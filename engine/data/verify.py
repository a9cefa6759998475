"""Checks that a loaded split is the real dataset (sizes, per-class counts, first labels).

A :class:`DatasetSpec` holds the facts; loaders take one as a parameter so tests can run the
whole loading path on tiny fabricated data with a matching tiny spec.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .dataset import N_CLASSES, Splits
from .errors import DataError


@dataclass(frozen=True)
class DatasetSpec:
    """What a genuine copy of a dataset looks like."""

    name: str
    train_counts: tuple[int, ...]
    test_counts: tuple[int, ...]
    first_train_labels: tuple[int, ...] = ()

    @property
    def n_train(self) -> int:
        return sum(self.train_counts)

    @property
    def n_test(self) -> int:
        return sum(self.test_counts)


MNIST_SPEC = DatasetSpec(
    name="mnist",
    train_counts=(5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949),
    test_counts=(980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009),
    first_train_labels=(5, 0, 4, 1, 9, 2, 1, 3, 1, 4),
)

FASHION_MNIST_SPEC = DatasetSpec(
    name="fashion-mnist",
    train_counts=(6000,) * N_CLASSES,
    test_counts=(1000,) * N_CLASSES,
    first_train_labels=(9, 0, 0, 3, 0, 2, 7, 2, 5, 5),
)


def _counts(y: np.ndarray) -> tuple[int, ...]:
    return tuple(int(c) for c in np.bincount(y, minlength=N_CLASSES))


def verify_splits(splits: Splits, spec: DatasetSpec) -> None:
    """Raise DataError naming the first mismatch if ``splits`` is not ``spec``'s dataset."""
    what = f"not the real {spec.name}"
    for part, y, n, counts in (
        ("train", splits.y_train, spec.n_train, spec.train_counts),
        ("test", splits.y_test, spec.n_test, spec.test_counts),
    ):
        if y.shape[0] != n:
            raise DataError(f"{what}: {y.shape[0]} {part} examples, expected {n}")
        found = _counts(y)
        if found != counts:
            raise DataError(
                f"{what}: {part} label counts {list(found)}, expected {list(counts)}"
            )
    k = len(spec.first_train_labels)
    first = tuple(int(v) for v in splits.y_train[:k])
    if first != spec.first_train_labels:
        raise DataError(
            f"{what}: first train labels {list(first)}, expected {list(spec.first_train_labels)}"
        )


def verify_mnist(splits: Splits) -> None:
    """Raise DataError unless ``splits`` has MNIST's sizes, label counts and first labels."""
    verify_splits(splits, MNIST_SPEC)
