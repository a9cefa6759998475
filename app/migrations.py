"""Bringing a database written by an older normlab up to this one's schema.

``schema.sql`` creates the current schema in a new database. An existing database records
the version it was written with (``PRAGMA user_version``); ``MIGRATIONS`` maps a version to
the step that turns the version before it into it, and ``migrate`` applies the steps above
the file's version in order, in one transaction together with the new version number, so a
database is never left half way. A version whose change ``schema.sql`` makes by itself on
every start (a new table or index, created ``IF NOT EXISTS``) needs no step.
"""
from __future__ import annotations

import sqlite3
from typing import Callable


def add_column(conn: sqlite3.Connection, table: str, column: str, declaration: str) -> None:
    """``ALTER TABLE … ADD COLUMN`` unless the column is there already.

    Checked so that a step is safe on a database that already has its change (one made by a
    development build between two versions); the column goes last, as in ``schema.sql``.
    """
    if column not in {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}:
        conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")


def add_insight(conn: sqlite3.Connection) -> None:
    """Epochs keep their weight trajectory; artifacts a finished run's insight (``app.insight``).

    Runs stored before have neither: their trajectories and insight read as None.
    """
    add_column(conn, "epochs", "trajectory", "TEXT")
    add_column(conn, "artifacts", "insight", "TEXT")


MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    2: add_insight,
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
