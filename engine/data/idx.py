"""Strict reader for the original IDX files (LeCun's MNIST format, also used by Fashion-MNIST).

An IDX file is: two zero bytes, a type byte (0x08 = unsigned byte), a dimension count, one
big-endian uint32 per dimension, then exactly prod(dims) data bytes. Files may be gzipped.
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from pathlib import Path

import numpy as np

from .dataset import IMAGE_SIDE, Splits, check_splits
from .errors import DataError

IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions (n, rows, cols)
LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension (n,)

IDX_NAMES = (
    ("train-images-idx3-ubyte", IMAGES_MAGIC),
    ("train-labels-idx1-ubyte", LABELS_MAGIC),
    ("t10k-images-idx3-ubyte", IMAGES_MAGIC),
    ("t10k-labels-idx1-ubyte", LABELS_MAGIC),
)


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped when it starts with the gzip signature."""
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as e:
        raise DataError(f"{path}: damaged or truncated gzip file ({e})") from None


def parse_idx(raw: bytes, magic: int, origin: str) -> np.ndarray:
    """Parse IDX bytes whose magic number must be ``magic``; exact length is required."""
    if len(raw) < 4:
        raise DataError(f"{origin}: {len(raw)} bytes is too short for an IDX header")
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        raise DataError(
            f"{origin}: magic number 0x{found:08x}, expected 0x{magic:08x}; "
            "not an IDX file of this kind (wrong file, or not gunzipped correctly?)"
        )
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{origin}: truncated IDX header ({len(raw)} of {header} bytes)")
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(dims, dtype=np.int64))
    actual = len(raw) - header
    if actual < expected:
        raise DataError(
            f"{origin}: truncated: header says shape {dims} ({expected} data bytes), "
            f"file has {actual}"
        )
    if actual > expected:
        raise DataError(
            f"{origin}: {actual - expected} unexpected bytes after the {dims} data"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def find_idx_files(directory: Path) -> list[Path] | None:
    """The four IDX files in ``directory`` (each plain or .gz), or None if none is there.

    Raises DataError when only some are present, naming the missing ones.
    """
    found: list[Path | None] = []
    for base, _ in IDX_NAMES:
        candidates = [directory / n for n in (base, base + ".gz")]
        found.append(next((p for p in candidates if p.is_file()), None))
    if all(p is None for p in found):
        return None
    missing = [base for (base, _), p in zip(IDX_NAMES, found, strict=True) if p is None]
    if missing:
        raise DataError(f"{directory}: IDX files incomplete, missing {', '.join(missing)} (or .gz)")
    return [p for p in found if p is not None]


def _read_checked(path: Path, sha256: str | None) -> bytes:
    """The file's (uncompressed) bytes; with ``sha256``, refused unless they hash to it."""
    raw = _read_bytes(path)
    if sha256 is not None:
        digest = hashlib.sha256(raw).hexdigest()
        if digest != sha256:
            raise DataError(f"{path}: sha256 {digest} of its data, expected {sha256}; refusing it")
    return raw


def load_idx_dir(directory: Path, hashes: dict[str, str] | None = None) -> Splits | None:
    """Load the four IDX files from ``directory``; None when there are none.

    ``hashes`` maps each file's base name (e.g. ``train-images-idx3-ubyte``) to the sha256 its
    uncompressed bytes must have; without it only their structure is checked.
    """
    paths = find_idx_files(directory)
    if paths is None:
        return None
    x_train, y_train, x_test, y_test = (
        parse_idx(_read_checked(p, None if hashes is None else hashes[base]), magic, str(p))
        for p, (base, magic) in zip(paths, IDX_NAMES, strict=True)
    )
    for p, x in ((paths[0], x_train), (paths[2], x_test)):
        if x.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
            raise DataError(f"{p}: images are {x.shape[1:]}, expected (28, 28)")
    return check_splits(x_train, y_train, x_test, y_test, origin=f"IDX files in {directory}")
