"""The progress callback type shared by the loaders."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, float | None], None]
"""``progress(message, fraction_or_None)``: a human-readable step and, when known, 0..1."""


def quiet(message: str, fraction: float | None) -> None:
    """A progress callback that ignores everything."""
