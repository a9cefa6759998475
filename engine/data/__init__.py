"""Datasets for normlab: MNIST, Fashion-MNIST and a synthetic stand-in, verified and cached.

``load_dataset(name)`` tries each dataset's sources in order (the user's files, the cache,
then downloads) and returns an immutable :class:`Dataset` of uint8 images and int64 labels.
"""

from .cache import default_cache_dir
from .dataset import DATASET_NAMES, Dataset
from .errors import DataError
from .loader import load_dataset
from .synthetic import synthetic_dataset

__all__ = [
    "DATASET_NAMES",
    "DataError",
    "Dataset",
    "default_cache_dir",
    "load_dataset",
    "synthetic_dataset",
]
