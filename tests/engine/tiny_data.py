"""Tiny fabricated MNIST-shaped splits and the spec that accepts them (shared by the data tests)."""
import numpy as np

from engine.data.dataset import Splits
from engine.data.verify import DatasetSpec

TINY_SPEC = DatasetSpec("tiny", train_counts=(2,) * 10, test_counts=(1,) * 10,
                        first_train_labels=tuple(range(10)))


def tiny_splits(seed: int = 0) -> Splits:
    """20 train / 10 test examples of random bytes; labels 0..9 repeated (fits TINY_SPEC)."""
    rng = np.random.default_rng(seed)
    return Splits(
        rng.integers(0, 256, (20, 784), dtype=np.uint8),
        np.arange(20, dtype=np.int64) % 10,
        rng.integers(0, 256, (10, 784), dtype=np.uint8),
        np.arange(10, dtype=np.int64),
    )
