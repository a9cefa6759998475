"""The arrays one run trains and is measured on: its training subset, its test set, any noise columns.

Three settings shape them (``RunConfig``):

* ``subset``: ``random`` draws ``train_size`` training images at random without replacement (the
  reference study's); ``first`` takes the first ``train_size`` in the dataset's order (Nielsen's
  "the first 1 000 training images"), the same for every seed.
* ``test_split``: ``test`` measures on the test set; ``validation`` on the training images
  50 000–59 999 (the last 10 000 of MNIST's 60 000: Nielsen's validation set), and training
  then draws only from the first 50 000, so the two never share an image.
* ``noise_features``: k columns of pure noise appended to every image, training and test alike:
  irrelevant features (Ng 2004). Each value is a uniform byte 0…255, which the run's scaling maps
  to [−1, 1] like a pixel. They come from the run's own noise stream (``RandomStreams.noise``),
  so they depend on the seed and k only: runs that differ in penalty or λ see the very same noise.
  Training and test noise come from two children of that stream, so the test set's noise does
  not depend on the training set's size either.

Everything stays uint8 (one byte per value), so k = 10 000 costs 100 MB for MNIST's test set;
``RunConfig`` caps the training set's share.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .data import Dataset

VALIDATION_START = 50_000  # training images 50 000–59 999 are the validation split
VALIDATION_END = 60_000
NOISE_ROWS_PER_DRAW = 1_000  # noise is drawn this many rows at a time (bounded temporary memory)


@dataclass(frozen=True)
class RunData:
    """A run's inputs as raw bytes and its labels: ``x_*`` (n, features) uint8, ``y_*`` (n,) intp.

    ``indices`` are the training images' positions in the dataset's training split.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    indices: np.ndarray


def training_pool(dataset: Dataset, test_split: str) -> int:
    """How many of the dataset's training images (from the first) a run may train on."""
    n = len(dataset.y_train)
    if test_split == "validation":
        _require_validation(dataset)
        return VALIDATION_START
    return n


def training_indices(pool: int, size: int, subset: str, rng: np.random.Generator) -> np.ndarray:
    """``size`` positions among the first ``pool`` training images (``size`` ≤ ``pool``): at random, or the first ones."""
    if subset == "first":
        return np.arange(size)
    return rng.permutation(pool)[:size]


def test_rows(dataset: Dataset, test_split: str) -> tuple[np.ndarray, np.ndarray]:
    """The images and labels a run is measured on: the test set, or the validation images."""
    if test_split == "validation":
        _require_validation(dataset)
        return (dataset.x_train[VALIDATION_START:VALIDATION_END], dataset.y_train[VALIDATION_START:VALIDATION_END])
    return dataset.x_test, dataset.y_test


def with_noise(pixels: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """``pixels`` (n, features) uint8 with ``k`` columns of uniform bytes appended; a new array.

    Drawn ``NOISE_ROWS_PER_DRAW`` rows at a time in row order, so the noise of row i is the
    same whatever n is (a longer array only adds rows at its end).
    """
    if k == 0:
        return pixels
    n, features = pixels.shape
    out = np.empty((n, features + k), dtype=np.uint8)
    out[:, :features] = pixels
    for start in range(0, n, NOISE_ROWS_PER_DRAW):
        stop = min(n, start + NOISE_ROWS_PER_DRAW)
        out[start:stop, features:] = rng.integers(0, 256, (stop - start, k), dtype=np.uint8)
    return out


def run_data(dataset: Dataset, train_size: int, subset: str, test_split: str, noise_features: int,
             subset_rng: np.random.Generator, noise_rng: np.random.Generator) -> RunData:
    """The run's training and test arrays (see the module's docstring for each setting)."""
    pool = training_pool(dataset, test_split)
    if train_size > pool:
        held_out = " (the rest are held out for validation)" if test_split == "validation" else ""
        raise ValueError(f"train_size {train_size} is larger than the {pool} training examples of {dataset.name}"
                         f"{held_out}")
    indices = training_indices(pool, train_size, subset, subset_rng)
    x_test, y_test = test_rows(dataset, test_split)
    train_noise, test_noise = noise_rng.spawn(2)
    return RunData(
        x_train=with_noise(dataset.x_train[indices], noise_features, train_noise),
        y_train=np.asarray(dataset.y_train[indices], dtype=np.intp),
        x_test=with_noise(x_test, noise_features, test_noise),
        y_test=np.asarray(y_test, dtype=np.intp),
        indices=indices,
    )


def _require_validation(dataset: Dataset) -> None:
    n = len(dataset.y_train)
    if n < VALIDATION_END:
        raise ValueError(f"test_split: validation needs the {VALIDATION_END} training images of MNIST's split "
                         f"(its validation images are 50 000–59 999); {dataset.name} has {n}")
