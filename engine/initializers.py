"""Named weight initializers.

The default is ``glorot_uniform`` (Glorot & Bengio 2010), the usual choice for
sigmoid and tanh units: it keeps pre-activations in the sigmoid's responsive
range. ``std_normal`` is the reference study's choice (N(0, 1)); it saturates sigmoid
units on 784 inputs and trains slowly, which is why it is not the default.
Biases always start at zero.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

Initializer = Callable[[np.random.Generator, int, int], np.ndarray]

DEFAULT_INIT = "glorot_uniform"


def glorot_uniform(rng: np.random.Generator, n_in: int, n_out: int) -> np.ndarray:
    """U(-l, l) with l = sqrt(6 / (n_in + n_out))."""
    limit = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-limit, limit, size=(n_in, n_out))


def glorot_normal(rng: np.random.Generator, n_in: int, n_out: int) -> np.ndarray:
    """N(0, 2 / (n_in + n_out))."""
    return rng.normal(0.0, np.sqrt(2.0 / (n_in + n_out)), size=(n_in, n_out))


def he_uniform(rng: np.random.Generator, n_in: int, n_out: int) -> np.ndarray:
    """U(-l, l) with l = sqrt(6 / n_in), suited to ReLU units."""
    limit = np.sqrt(6.0 / n_in)
    return rng.uniform(-limit, limit, size=(n_in, n_out))


def he_normal(rng: np.random.Generator, n_in: int, n_out: int) -> np.ndarray:
    """N(0, 2 / n_in), suited to ReLU units."""
    return rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_in, n_out))


def std_normal(rng: np.random.Generator, n_in: int, n_out: int) -> np.ndarray:
    """N(0, 1): the reference study's initializer."""
    return rng.standard_normal(size=(n_in, n_out))


INITIALIZERS: dict[str, Initializer] = {
    fn.__name__: fn for fn in (glorot_uniform, glorot_normal, he_uniform, he_normal, std_normal)
}
