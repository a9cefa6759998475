"""Shared fixtures: small synthetic data (tests never need MNIST)."""
import pytest

from engine.data import synthetic_dataset


@pytest.fixture(scope="session")
def tiny_data():
    """A small deterministic synthetic dataset with MNIST's shape."""
    return synthetic_dataset(n_train=600, n_test=200, seed=0)
