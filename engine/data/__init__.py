"""Datasets for normlab: MNIST, Fashion-MNIST and a synthetic stand-in, verified and cached.

``load_dataset(name)`` tries each dataset's sources in order (the user's files, the cache,
then downloads) and returns an immutable :class:`Dataset` of uint8 images and int64 labels.
``availability(name)`` says, from file names alone, whether a run could load it, and which
command obtains it when not.
"""

from .availability import Availability, availability, obtain_command
from .cache import default_cache_dir
from .dataset import DATASET_NAMES, Dataset
from .errors import DataError
from .loader import load_dataset
from .synthetic import synthetic_dataset

__all__ = [
    "Availability",
    "DATASET_NAMES",
    "DataError",
    "Dataset",
    "availability",
    "default_cache_dir",
    "load_dataset",
    "obtain_command",
    "synthetic_dataset",
]
