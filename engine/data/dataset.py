"""The Dataset record: four frozen arrays, where they came from, and a stable checksum.

Loaders produce :class:`Splits` (raw arrays, checked for structure by :func:`check_splits`);
:meth:`Dataset.from_splits` freezes them into an immutable :class:`Dataset`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .errors import DataError

DATASET_NAMES: tuple[str, ...] = ("mnist", "fashion-mnist", "synthetic")
IMAGE_SIDE = 28
N_FEATURES = IMAGE_SIDE * IMAGE_SIDE
N_CLASSES = 10

_KEYS = ("x_train", "y_train", "x_test", "y_test")


class Splits(NamedTuple):
    """Train and test arrays as a loader found them, before verification and freezing."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def _pixels(x: np.ndarray, key: str, origin: str) -> np.ndarray:
    """Images as (n, 784) uint8; accepts (n, 28, 28) and any integer dtype holding 0..255."""
    x = np.asarray(x)
    if x.ndim == 3 and x.shape[1:] == (IMAGE_SIDE, IMAGE_SIDE):
        x = x.reshape(x.shape[0], N_FEATURES)
    if x.ndim != 2 or x.shape[1] != N_FEATURES:
        raise DataError(f"{origin}: {key} has shape {x.shape}; expected (n, 28, 28) or (n, 784)")
    if x.dtype != np.uint8:
        if x.dtype.kind not in "iu":
            raise DataError(
                f"{origin}: {key} has dtype {x.dtype}; expected raw pixel bytes (uint8 0..255)"
            )
        if x.size and (x.min() < 0 or x.max() > 255):
            raise DataError(f"{origin}: {key} has values outside 0..255")
        x = x.astype(np.uint8)
    return x


def _labels(y: np.ndarray, key: str, origin: str) -> np.ndarray:
    """Labels as (n,) int64 in 0..9."""
    y = np.asarray(y)
    if y.ndim != 1:
        raise DataError(f"{origin}: {key} has shape {y.shape}; expected (n,) class labels")
    if y.dtype.kind not in "iu":
        raise DataError(f"{origin}: {key} has dtype {y.dtype}; expected integer class labels")
    if y.size and (y.min() < 0 or y.max() >= N_CLASSES):
        raise DataError(f"{origin}: {key} has labels outside 0..{N_CLASSES - 1}")
    return y.astype(np.int64, copy=False)


def check_splits(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    origin: str,
) -> Splits:
    """Check the structure (shapes, dtypes, value ranges) and normalise to (n, 784) uint8 / int64.

    ``origin`` names the file or source in error messages so a person knows what is wrong where.
    """
    xs = (_pixels(x_train, "x_train", origin), _pixels(x_test, "x_test", origin))
    ys = (_labels(y_train, "y_train", origin), _labels(y_test, "y_test", origin))
    for part, x, y in (("train", xs[0], ys[0]), ("test", xs[1], ys[1])):
        if x.shape[0] != y.shape[0]:
            raise DataError(
                f"{origin}: {x.shape[0]} {part} images but {y.shape[0]} {part} labels"
            )
        if x.shape[0] == 0:
            raise DataError(f"{origin}: the {part} split is empty")
    return Splits(xs[0], ys[0], xs[1], ys[1])


def _frozen(a: np.ndarray, dtype: type, owned: bool = False) -> np.ndarray:
    """A C-ordered array that nobody else can write to: a private copy, or ``a`` itself when the
    caller hands it over (``owned``) and it is already of that type and order (no second copy of
    a dataset in memory)."""
    out: np.ndarray = np.asarray(a, dtype=dtype, order="C") if owned else np.array(a, dtype=dtype, order="C", copy=True)
    out.flags.writeable = False
    return out


def splits_checksum(splits: Splits) -> str:
    """sha256 hex over each array's name, dtype, shape and bytes, in Splits order.

    Independent of where the data came from and of the platform's byte order, so two runs on
    the same data can be matched through their manifests.
    """
    h = hashlib.sha256()
    for key, a in zip(_KEYS, splits, strict=True):
        a = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<"))
        h.update(f"{key}:{a.dtype.str}:{a.shape}\n".encode())
        h.update(a.data)
    return h.hexdigest()


@dataclass(frozen=True, eq=False)
class Dataset:
    """A verified train/test split: images (n, 784) uint8 and labels (n,) int64, all read-only."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str
    checksum: str

    def __post_init__(self) -> None:
        for key in _KEYS:
            a = getattr(self, key)
            if not isinstance(a, np.ndarray) or a.flags.writeable:
                raise ValueError(f"Dataset.{key} must be a read-only numpy array")
        pairs = ((self.x_train, self.y_train, "train"), (self.x_test, self.y_test, "test"))
        for x, y, part in pairs:
            if x.dtype != np.uint8 or x.ndim != 2 or x.shape[1] != N_FEATURES:
                raise ValueError(
                    f"Dataset.x_{part} must be (n, {N_FEATURES}) uint8, got {x.shape} {x.dtype}"
                )
            if y.dtype != np.int64 or y.shape != (x.shape[0],):
                raise ValueError(
                    f"Dataset.y_{part} must be ({x.shape[0]},) int64, got {y.shape} {y.dtype}"
                )

    @classmethod
    def from_splits(cls, name: str, splits: Splits, source: str, owned: bool = False) -> Dataset:
        """Freeze checked arrays (private read-only copies) and compute their checksum.

        ``owned``: the caller hands the arrays over and keeps no reference to them (a loader's
        fresh arrays), so they are frozen in place instead of copied.
        """
        frozen = Splits(
            _frozen(splits.x_train, np.uint8, owned),
            _frozen(splits.y_train, np.int64, owned),
            _frozen(splits.x_test, np.uint8, owned),
            _frozen(splits.y_test, np.int64, owned),
        )
        return cls(name, *frozen, source=source, checksum=splits_checksum(frozen))

    @property
    def splits(self) -> Splits:
        """The four arrays as a :class:`Splits` tuple."""
        return Splits(self.x_train, self.y_train, self.x_test, self.y_test)

    def __repr__(self) -> str:
        return (
            f"Dataset(name={self.name!r}, train={self.x_train.shape[0]}, "
            f"test={self.x_test.shape[0]}, source={self.source!r}, checksum={self.checksum[:12]}…)"
        )
