"""Trying a dataset's sources in order, verifying each result, caching the first good one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .dataset import Dataset, Splits
from .errors import DataError
from .idx import load_idx_dir
from .npz import load_npz, save_npz_atomic
from .progress import Progress
from .verify import DatasetSpec, verify_splits


@dataclass(frozen=True)
class Source:
    """One place a dataset may come from.

    ``fetch`` returns None when there is nothing there, and raises DataError (or OSError) when
    something is there but unusable. ``cacheable`` sources are slow or remote: their verified
    result is written to the cache.
    """

    label: str
    fetch: Callable[[Progress], Splits | None]
    cacheable: bool = False


def npz_source(path: Path, label: str) -> Source:
    """A Keras-style npz file that may or may not exist."""
    return Source(label, lambda progress: load_npz(path) if path.is_file() else None)


def idx_source(directory: Path, label: str, cacheable: bool = False) -> Source:
    """A directory that may hold the four IDX files."""
    return Source(label, lambda progress: load_idx_dir(directory), cacheable)


def _write_cache(path: Path, splits: Splits, progress: Progress) -> None:
    """Cache the splits; a cache that cannot be written only costs time, so it is not fatal."""
    progress(f"caching to {path}", 0.95)
    try:
        save_npz_atomic(path, splits)
    except OSError as e:
        progress(f"could not write the cache {path}: {e}", None)


def _failure_message(name: str, failures: list[tuple[str, str]], hint: str) -> str:
    lines = [f"could not load {name}; tried, in order:"]
    lines += [f"  {i}. {label}: {why}" for i, (label, why) in enumerate(failures, 1)]
    if hint:
        lines.append(hint)
    return "\n".join(lines)


def resolve(
    name: str,
    sources: list[Source],
    spec: DatasetSpec,
    cache_path: Path | None,
    progress: Progress,
    hint: str = "",
) -> Dataset:
    """Return a Dataset from the first source whose data passes ``spec``'s checks.

    Raises DataError listing every source tried and why each failed, followed by ``hint``.
    """
    failures: list[tuple[str, str]] = []
    for source in sources:
        progress(f"trying {source.label}", None)
        try:
            splits = source.fetch(progress)
            if splits is None:
                failures.append((source.label, "not found"))
                continue
            progress(f"verifying {name}", 0.9)
            verify_splits(splits, spec)
        except (DataError, OSError) as e:
            failures.append((source.label, str(e)))
            progress(f"{source.label}: {e}", None)
            continue
        if source.cacheable and cache_path is not None:
            _write_cache(cache_path, splits, progress)
        dataset = Dataset.from_splits(name, splits, source.label, owned=True)  # fetched for this call alone
        progress(f"loaded {name} from {source.label}", 1.0)
        return dataset
    raise DataError(_failure_message(name, failures, hint))
