"""The synthetic dataset: deterministic, MNIST-shaped, learnable but not trivially."""

from __future__ import annotations

import time

import numpy as np
import pytest

from engine.data import load_dataset, synthetic_dataset


def test_deterministic_for_a_seed_and_different_for_another() -> None:
    a, b = synthetic_dataset(500, 200, seed=3), synthetic_dataset(500, 200, seed=3)
    assert a.checksum == b.checksum
    assert np.array_equal(a.x_train, b.x_train) and np.array_equal(a.y_test, b.y_test)
    c = synthetic_dataset(500, 200, seed=4)
    assert c.checksum != a.checksum and not np.array_equal(a.x_train, c.x_train)


def test_test_set_does_not_depend_on_train_size() -> None:
    assert np.array_equal(synthetic_dataset(100, 50).x_test, synthetic_dataset(300, 50).x_test)


def test_shapes_dtypes_read_only_and_labels() -> None:
    d = synthetic_dataset(1234, 567, seed=1)
    assert d.name == "synthetic" and d.source == "generated (seed 1)"
    assert d.x_train.shape == (1234, 784) and d.x_test.shape == (567, 784)
    assert d.x_train.dtype == np.uint8 and d.y_train.dtype == np.int64
    assert all(not a.flags.writeable for a in (d.x_train, d.y_train, d.x_test, d.y_test))
    for y in (d.y_train, d.y_test):
        counts = np.bincount(y, minlength=10)
        assert y.min() >= 0 and y.max() <= 9 and counts.max() - counts.min() <= 1


def test_pixels_look_like_mnist() -> None:
    x = synthetic_dataset(2000, 10).x_train
    assert 0.7 < (x == 0).mean() < 0.92          # mostly background
    assert 0.03 < (x > 200).mean() < 0.2         # bright strokes
    assert (x > 0).sum(1).min() > 20             # every image has ink


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"n_train": 0}, "n_train must be between 1 and 60000, got 0"),
    ({"n_train": 60001}, "n_train must be between 1 and 60000"),
    ({"n_test": 10001}, "n_test must be between 1 and 10000"),
    ({"n_test": 2.5}, "n_test must be an integer"),
    ({"n_train": True}, "n_train must be an integer"),
    ({"seed": -1}, "seed must be a non-negative integer"),
])
def test_arguments_are_validated(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        synthetic_dataset(**kwargs)


def test_learnable_but_not_trivially() -> None:
    d = synthetic_dataset(6000, 2000, seed=0)
    x, xt = d.x_train.astype(np.float32) / 255, d.x_test.astype(np.float32) / 255
    means = np.stack([x[d.y_train == c].mean(0) for c in range(10)])
    dist = (xt**2).sum(1)[:, None] - 2 * xt @ means.T + (means**2).sum(1)[None]
    accuracy = (dist.argmin(1) == d.y_test).mean()
    assert 0.5 < accuracy < 0.97


def test_full_size_is_fast_and_load_dataset_returns_it() -> None:
    synthetic_dataset(10, 10)                     # warm up imports and caches
    start = time.perf_counter()
    full = synthetic_dataset()
    elapsed = time.perf_counter() - start
    assert full.x_train.shape == (60000, 784) and full.x_test.shape == (10000, 784)
    assert elapsed < 3.0                          # ~0.4 s here; generous for slow CI
    assert load_dataset("synthetic").checksum == full.checksum
