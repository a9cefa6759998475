"""GET /api/runs's query: which runs (filters), how many from where (keyset paging, newest first),
and whether study runs are folded under their study. Parsed and checked here; the store applies it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from engine.data import DATASET_NAMES
from engine.penalties import PENALTY_NAMES

from .ids import MAX_ROW_ID, parse_row_id
from .run_view import LIVE
from .settings import LABEL_MAX, RUNS_PAGE_MAX
from .store import FINISHED

DEFAULT_LIMIT = 100
MAX_LIMIT = RUNS_PAGE_MAX
STATUSES = LIVE + FINISHED
PARAMETERS = ("limit", "before", "study", "dataset", "status", "penalty", "q", "fold")
# Query parameters other parts of the server read (the security layer's ?token=).
NOT_OURS = ("token",)


class QueryError(ValueError):
    """A query parameter that cannot be used; ``field`` names it."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class RunFilter:
    """Which runs: every given part must hold (an empty one holds for every run)."""

    study: int | None = None  # only this study's runs
    no_study: bool = False  # only runs launched on their own (in no study)
    datasets: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    penalties: tuple[str, ...] = ()
    label: str | None = None  # a case-insensitive part of the label, case-folded already


@dataclass(frozen=True)
class RunsQuery:
    """One page: runs matching ``filter`` with ids below ``before`` (all when None), newest first,
    at most ``limit``; with ``fold``, study runs are left out and their studies listed instead."""

    filter: RunFilter = RunFilter()
    limit: int = DEFAULT_LIMIT
    before: int | None = None
    fold: bool = False


def parse_runs_query(args: Mapping[str, Sequence[str]]) -> RunsQuery | None:
    """The query of ``args`` (each name with its values), or None when it has none of our parameters
    (the answer is then the bare list of every run that scripts have always had).

    An empty value counts as not given (a cleared search box). Raises QueryError naming the
    parameter and what it allows.
    """
    for name, values in args.items():
        if name not in PARAMETERS and name not in NOT_OURS:
            raise QueryError(name[:50], f"unknown parameter; allowed: {', '.join(PARAMETERS)}")
        if name in PARAMETERS and len(values) > 1:
            raise QueryError(name, "give it once (several values go in one, separated by commas)")
    if not any(name in args for name in PARAMETERS):
        return None
    given = {name: args[name][0] for name in PARAMETERS if name in args and args[name][0] != ""}
    study = given.get("study")
    if given.get("fold") not in (None, "studies"):
        raise QueryError("fold", "must be 'studies' (study runs folded under their study) or left out")
    if study is not None and "fold" in given:
        raise QueryError("fold", "cannot fold studies while showing one study's runs (study=…)")
    query_filter = RunFilter(
        study=None if study in (None, "none") else _row_id(study, "study", "or 'none' for runs in no study"),
        no_study=study == "none",
        datasets=_choices(given.get("dataset"), "dataset", DATASET_NAMES),
        statuses=_choices(given.get("status"), "status", STATUSES),
        penalties=_choices(given.get("penalty"), "penalty", PENALTY_NAMES),
        label=_label_part(given.get("q")),
    )
    before = given.get("before")
    return RunsQuery(query_filter, _limit(given.get("limit")), None if before is None else _row_id(before, "before"),
                     "fold" in given)


def _row_id(text: str, field: str, also: str = "") -> int:
    value = parse_row_id(text)
    if value is None:
        also = f" {also}" if also else ""
        raise QueryError(field, f"must be a run or study id (1 to {MAX_ROW_ID}, digits 0-9){also}, got {text[:20]!r}")
    return value


def _limit(text: str | None) -> int:
    if text is None:
        return DEFAULT_LIMIT
    value = parse_row_id(text)
    if value is None or value > MAX_LIMIT:
        raise QueryError("limit", f"must be a whole number from 1 to {MAX_LIMIT} (digits 0-9), got {text[:20]!r}")
    return value


def _choices(text: str | None, field: str, allowed: Sequence[str]) -> tuple[str, ...]:
    """A comma-separated list of names from ``allowed``, each once, in the order given."""
    if text is None:
        return ()
    names = tuple(dict.fromkeys(part.strip() for part in text.split(",")))
    wrong = [n for n in names if n not in allowed]
    if wrong:
        raise QueryError(field, f"must be one or more of {', '.join(allowed)}, separated by commas; "
                                f"got {wrong[0][:40]!r}")
    return names


def _label_part(text: str | None) -> str | None:
    """What to look for in labels: up to LABEL_MAX characters UTF-8 can encode, case-folded."""
    if text is None:
        return None
    if len(text) > LABEL_MAX:
        raise QueryError("q", f"must be at most {LABEL_MAX} characters (a label is no longer), got {len(text)}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise QueryError("q", "must be text that UTF-8 can encode") from None
    return text.casefold()
