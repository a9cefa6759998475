"""The one exception the data package raises for data that cannot be had or trusted."""

from __future__ import annotations


class DataError(Exception):
    """Raised with a message a person can act on (names every source tried and why each failed)."""
