"""Run and study ids, and sequence numbers, as they come in paths, queries and socket messages.

Only ASCII digits count: Werkzeug's ``int`` converter and Python's ``int()`` also take other
scripts' digits (``/api/runs/５`` would be run 5), so one resource would have many addresses.
Values stop at SQLite's largest integer; a larger one names nothing and cannot be bound.
"""
from __future__ import annotations

import re

from werkzeug.routing import BaseConverter

MAX_ROW_ID = 2**63 - 1  # SQLite's integers (row ids and our sequence numbers) are signed 64-bit
DIGITS = re.compile(r"[0-9]{1,19}")


def parse_row_id(text: str) -> int | None:
    """The id ``text`` spells (1 … MAX_ROW_ID, ASCII digits only), or None."""
    if not DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ROW_ID else None


def parse_seq(text: str) -> int | None:
    """A sequence number cursor: -1 (nothing held yet) or 0 … MAX_ROW_ID in ASCII digits, or None."""
    if text == "-1":
        return -1
    if not DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if value <= MAX_ROW_ID else None


class RowIdConverter(BaseConverter):
    """``<id:name>`` in a route: 1 to 19 ASCII digits; any other path part matches no route (404).

    A number of 19 digits past MAX_ROW_ID reaches the view, whose store lookup finds nothing
    there (404 "there is no run …"): refusing it here with ValidationError would make Werkzeug
    answer 405 whenever a route for another method shares the path (GET and DELETE /api/studies/<id>).
    """

    regex = DIGITS.pattern

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(int(value))
