"""Bringing a database written by an older normlab up to this one's schema.

``schema.sql`` creates the current schema in a new database. An existing database records
the version it was written with (``PRAGMA user_version``); ``MIGRATIONS`` maps a version to
the step that turns the version before it into it, and ``migrate`` applies the steps above
the file's version in order, in one transaction together with the new version number, so a
database is never left half way. A version whose change ``schema.sql`` makes by itself on
every start (a new table or index, created ``IF NOT EXISTS``) needs no step.
"""
from __future__ import annotations

import json
import sqlite3
from typing import Callable

from .insight import RESULT_SCALARS, split_final


def add_column(conn: sqlite3.Connection, table: str, column: str, declaration: str) -> None:
    """``ALTER TABLE … ADD COLUMN`` unless the column is there already.

    Checked so that a step is safe on a database that already has its change (one made by a
    development build between two versions); the column goes last, as in ``schema.sql``.
    """
    if column not in {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}:
        conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")


def add_run_columns(conn: sqlite3.Connection) -> None:
    """Runs gain columns SQLite computes from their JSON, for the runs list's filters, indexes and ★
    (``schema.sql``'s indexes name them, so they come before it runs)."""
    generated = {
        "dataset": "TEXT GENERATED ALWAYS AS (json_extract(settings, '$.dataset')) VIRTUAL",
        "penalty": "TEXT GENERATED ALWAYS AS (json_extract(settings, '$.penalty')) VIRTUAL",
        "comparable": "TEXT GENERATED ALWAYS AS "
                      "(json_remove(settings, '$.penalty', '$.lam', '$.lam_l2', '$.seed', '$.prune_fine_tune_steps')) VIRTUAL",
        "accuracy": "REAL GENERATED ALWAYS AS (json_extract(result, '$.test_accuracy')) VIRTUAL",
    }
    for column, declaration in generated.items():
        add_column(conn, "runs", column, declaration)


def add_insight(conn: sqlite3.Connection) -> None:
    """Epochs keep their weight trajectory; artifacts a finished run's insight (``app.insight``).

    Runs whose done event carried the insight inside their row (version 1 with an engine that
    computed it) have it moved out, their rows left as version 3 writes them; runs stored
    before any of it have none: their trajectories and insight read as None.
    """
    add_column(conn, "epochs", "trajectory", "TEXT")
    add_column(conn, "artifacts", "insight", "TEXT")
    rows = conn.execute("SELECT id, final_event, result FROM runs "
                        "WHERE final_event IS NOT NULL AND json_extract(final_event, '$.pruning') IS NOT NULL").fetchall()
    for run_id, final_text, result_text in rows:
        final, insight = split_final(json.loads(final_text))
        result = (json.loads(result_text) if result_text else {}) | {k: final.get(k) for k in RESULT_SCALARS}
        conn.execute("UPDATE runs SET final_event = ?, result = ? WHERE id = ?",
                     (json.dumps(final), json.dumps(result), run_id))
        conn.execute("INSERT INTO artifacts (run_id, insight) VALUES (?, ?) "
                     "ON CONFLICT (run_id) DO UPDATE SET insight = excluded.insight", (run_id, json.dumps(insight)))


# Run settings added after runs were first stored, with the value every older run had (RunConfig's default).
LATER_SETTINGS = {"noise_features": 0, "subset": "random", "test_split": "test"}


def add_later_settings(conn: sqlite3.Connection) -> None:
    """Stored runs' settings gain the settings added since, at their defaults (what those runs trained with),
    so an older run stays comparable with a new one (the ★'s ``comparable`` column compares whole settings)
    and reruns as it ran. ``json_insert`` adds a key only where it is missing, at the end, as new runs have it."""
    for key, value in LATER_SETTINGS.items():
        conn.execute(f"UPDATE runs SET settings = json_insert(settings, '$.{key}', ?) "
                     f"WHERE json_type(settings, '$.{key}') IS NULL", (value,))


MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    2: add_run_columns,
    3: add_insight,
    4: add_later_settings,
}


def migrate(conn: sqlite3.Connection, version: int, target: int) -> None:
    """Apply the steps from ``version`` (the file's, at least 1) up to ``target`` and record ``target``.

    ``conn`` is in autocommit mode; the steps and the new version are one write transaction.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        for step_version in range(version + 1, target + 1):
            step = MIGRATIONS.get(step_version)
            if step is not None:
                step(conn)
        conn.execute(f"PRAGMA user_version = {int(target)}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
