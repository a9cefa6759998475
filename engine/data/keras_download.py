"""MNIST from the canonical Keras ``mnist.npz`` URL (only works on a machine with internet)."""

from __future__ import annotations

import hashlib
import tempfile
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import IO

from .dataset import Splits
from .errors import DataError
from .npz import load_npz
from .progress import Progress, quiet

KERAS_URL = "https://storage.googleapis.com/tensorflow/keras-datasets/mnist.npz"
KERAS_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
TIMEOUT_S = 20.0
MAX_BYTES = 64 << 20  # the real file is about 11 MB

Opener = Callable[[str, float], IO[bytes]]


def _urlopen(url: str, timeout: float) -> IO[bytes]:
    return urllib.request.urlopen(url, timeout=timeout)  # noqa: S310 - fixed https URL


def download_keras_npz(
    dest: Path,
    url: str = KERAS_URL,
    sha256: str = KERAS_SHA256,
    opener: Opener = _urlopen,
    progress: Progress = quiet,
) -> Path:
    """Stream ``url`` into ``dest``, checking its size cap and sha256; returns ``dest``."""
    progress("downloading mnist.npz from the Keras mirror", 0.0)
    h = hashlib.sha256()
    got = 0
    try:
        with opener(url, TIMEOUT_S) as response, open(dest, "wb") as out:
            headers = getattr(response, "headers", None)
            length = headers.get("Content-Length") if headers is not None else None
            total = int(length) if length and length.isdigit() else None
            while block := response.read(1 << 16):
                got += len(block)
                if got > MAX_BYTES:
                    raise DataError(f"{url}: more than {MAX_BYTES} bytes; not mnist.npz")
                h.update(block)
                out.write(block)
                if total:
                    progress("downloading mnist.npz from the Keras mirror", min(got / total, 1.0))
    except DataError:
        raise
    except (OSError, ValueError) as e:  # URLError, HTTPError and timeouts are OSErrors
        raise DataError(f"download failed ({getattr(e, 'reason', e)})") from None
    digest = h.hexdigest()
    if digest != sha256:
        raise DataError(f"{url}: sha256 {digest}, expected {sha256}; refusing it")
    return dest


def load_keras_download(
    progress: Progress = quiet,
    opener: Opener = _urlopen,
) -> Splits:
    """Download the Keras ``mnist.npz`` into a temporary directory and read it."""
    with tempfile.TemporaryDirectory(prefix="normlab-keras-") as tmp:
        path = download_keras_npz(Path(tmp) / "mnist.npz", opener=opener, progress=progress)
        return load_npz(path)
