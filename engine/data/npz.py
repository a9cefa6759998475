"""Keras-style ``mnist.npz`` files: read without pickle, write atomically."""

from __future__ import annotations

import os
import secrets
import zipfile
import zlib
from pathlib import Path

import numpy as np

from .dataset import IMAGE_SIDE, Splits, check_splits
from .errors import DataError

NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")


def load_npz(path: Path) -> Splits:
    """Read ``x_train``, ``y_train``, ``x_test``, ``y_test`` from an npz (never unpickling)."""
    try:
        loaded = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as e:
        raise DataError(f"{path}: not a readable .npz archive ({e})") from None
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        raise DataError(f"{path}: a single .npy array, not an .npz archive")
    with loaded:
        missing = [k for k in NPZ_KEYS if k not in loaded.files]
        if missing:
            present = ", ".join(loaded.files) or "none"
            raise DataError(f"{path}: missing arrays {', '.join(missing)} (has {present})")
        try:
            arrays = [loaded[k] for k in NPZ_KEYS]
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as e:
            raise DataError(f"{path}: damaged .npz archive ({e})") from None
    x_train, y_train, x_test, y_test = arrays
    return check_splits(x_train, y_train, x_test, y_test, origin=str(path))


def save_npz_atomic(path: Path, splits: Splits) -> None:
    """Write ``splits`` as a Keras-layout npz ((n, 28, 28) uint8 images, uint8 labels).

    The file appears complete or not at all (temp file in the same directory + os.replace),
    so a crash or a concurrent reader never sees half a cache file. Stored uncompressed: it
    loads in a few tens of milliseconds.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "xb") as f:  # a fresh name; permissions follow the umask
            np.savez(
                f,
                x_train=splits.x_train.reshape(-1, IMAGE_SIDE, IMAGE_SIDE),
                y_train=splits.y_train.astype(np.uint8),
                x_test=splits.x_test.reshape(-1, IMAGE_SIDE, IMAGE_SIDE),
                y_test=splits.y_test.astype(np.uint8),
            )
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
