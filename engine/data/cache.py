"""Where verified datasets are cached between runs."""

from __future__ import annotations

import os
from pathlib import Path


def default_cache_dir() -> Path:
    """$NORMLAB_DATA_DIR, else $XDG_CACHE_HOME/normlab, else ~/.cache/normlab.

    Empty variables count as unset; a relative XDG_CACHE_HOME is ignored, as the XDG spec says.
    """
    own = os.environ.get("NORMLAB_DATA_DIR", "")
    if own:
        return Path(own).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "normlab"
    return Path.home() / ".cache" / "normlab"


def cache_file(cache_dir: Path, name: str) -> Path:
    """The cache file of dataset ``name`` (a Keras-layout npz, e.g. ``mnist.npz``)."""
    return cache_dir / f"{name}.npz"
