"""The SQLite file: one connection per thread, write transactions, and the schema.

One connection per thread (SQLite connections belong to their thread), closed by the thread
when it is done with the database (``release``); WAL mode so readers never block the writer;
writes started with ``BEGIN IMMEDIATE``. Flask's tutorial opens a connection per request and
closes it on teardown; here worker and socket threads use the database too, so each thread
keeps its own until it releases it.
"""
from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Iterator

from .migrations import migrate

SCHEMA_VERSION = 4  # app.migrations brings older files up to it


class StoreError(Exception):
    """The database cannot be used; the message says why and what to do."""


class Database:
    """One SQLite file, each thread with its own connection."""

    def __init__(self, path: str | Path, timeout: float = 10.0):
        self.path = Path(path)
        self.timeout = timeout
        self._local = threading.local()
        self._connections: set[sqlite3.Connection] = set()  # the open ones, for close()
        self._lock = threading.Lock()

    def connection(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use and kept until ``release()``."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None, check_same_thread=True)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            conn.execute("PRAGMA synchronous = NORMAL")
            # The label search's: SQLite's lower() and LIKE fold ASCII letters only, labels are any text (λ, Ä, ß).
            conn.create_function("casefold", 1, str.casefold, deterministic=True)
            self._local.conn = conn
            with self._lock:
                self._connections.add(conn)
        return conn

    def release(self) -> None:
        """Close this thread's connection, if it has one (it reopens on next use).

        Every thread that used the store calls this when it is done: a request (a socket too)
        on teardown, a job worker as it ends. The server starts a thread per HTTP connection,
        and a connection left open holds its files and cache until shutdown.
        """
        conn = getattr(self._local, "conn", None)
        if conn is None:
            return
        self._local.conn = None
        with self._lock:
            self._connections.discard(conn)  # close() may have cleared it already
        conn.close()

    @property
    def open_connections(self) -> int:
        """How many connections are open now (one per thread using the store)."""
        with self._lock:
            return len(self._connections)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction taken with BEGIN IMMEDIATE (no SQLITE_BUSY half-way through)."""
        conn = self.connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        """Close every connection still open (call at shutdown)."""
        with self._lock:
            for conn in self._connections:
                try:
                    conn.close()
                except sqlite3.ProgrammingError:
                    pass  # opened by another thread that already ended; the OS reclaims it
            self._connections.clear()
        self._local = threading.local()

    def initialize(self) -> None:
        """Create or check the schema; refuse files that are not ours or are newer."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = self.connection()
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreError(f"{self.path} was written by a newer normlab (schema version {version}; "
                                 f"this one understands {SCHEMA_VERSION}). Upgrade normlab or use another --db.")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise StoreError(f"{self.path}: could not switch to WAL mode (got {mode})")
            if version:  # a file of ours from before: its missing columns first, then any new table or index
                migrate(conn, version, SCHEMA_VERSION)
            schema = resources.files("app").joinpath("schema.sql").read_text()
            conn.executescript(schema)  # IF NOT EXISTS throughout: what a new or migrated file lacks
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except (sqlite3.DatabaseError, OSError) as exc:
            raise StoreError(f"cannot use the database {self.path}: {exc}. "
                             f"Check that it is a normlab database you may write, or pass another --db.") from exc
