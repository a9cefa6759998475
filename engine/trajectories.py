"""Weight trajectories: a fixed sample of first-layer weights followed epoch by epoch.

The sample's positions come from the run's own random stream for them
(``training.RandomStreams.trajectory``), drawn from the seed and W1's shape only, so runs
that differ only in penalty or λ (paired runs) follow the very same weights from the very
same initial values.
"""
from __future__ import annotations

import numpy as np

TRAJECTORY_SIZE = 64

Positions = tuple[tuple[int, int], ...]


def trajectory_positions(rng: np.random.Generator, shape: tuple[int, int], size: int = TRAJECTORY_SIZE) -> Positions:
    """``min(size, rows·cols)`` distinct ``(row, col)`` positions of a matrix of ``shape``, in row-major order.

    One draw from ``rng``, without replacement; a matrix with fewer entries than ``size``
    gives all of them.
    """
    rows, cols = shape
    count = min(size, rows * cols)
    flat = np.sort(rng.choice(rows * cols, size=count, replace=False))
    return tuple((int(i), int(j)) for i, j in zip(*np.divmod(flat, cols)))


def trajectory_values(w: np.ndarray, positions: Positions) -> tuple[float, ...]:
    """The entries of ``w`` (rows, cols) at ``positions``, as floats, in the positions' order."""
    if not positions:
        return ()
    rows, cols = zip(*positions)
    return tuple(float(v) for v in w[list(rows), list(cols)])
