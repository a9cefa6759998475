"""One server per database: a lock file beside it, which the OS releases when its holder dies.

A server that starts marks the runs it finds ``running`` as interrupted, on the belief that it
owns the database; a second server on the same file would do that to the first one's live runs.
So a Lab takes this lock before it touches the database and keeps it until it shuts down. The
lock is ``flock`` on ``<database>.lock``: it is released when its descriptor closes, however the
process ends (kill -9 included), so a stale file never blocks a start. The file holds the
holder's pid and port, for the message the next server gives. It is never deleted: a server
that opened it just before it was unlinked could lock the old file while a third locks a new one.
"""
from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path

from .store import StoreError


class DatabaseInUse(StoreError):
    """Another server holds the database's lock."""


class DatabaseLock:
    """The lock on one database file; ``acquire`` it before using the database, ``release`` at shutdown."""

    def __init__(self, database: str | Path):
        self.database = Path(database)
        self.path = Path(f"{database}.lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise DatabaseInUse naming the server holding it (StoreError: no lock is possible)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise StoreError(f"cannot use the database {self.database}: cannot open its lock file {self.path}: "
                             f"{exc.strerror or exc}. Check that its folder exists and you may write there, "
                             f"or pass another --db.") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _describe(_read_holder(fd))
            os.close(fd)
            raise DatabaseInUse(f"another normlab server ({holder}) is using the database {self.database}; "
                                f"stop it first, or pass another --db") from None
        except OSError as exc:
            os.close(fd)
            raise StoreError(f"cannot use the database {self.database}: cannot lock {self.path}: "
                             f"{exc.strerror or exc}") from None
        self._fd = fd
        self.record(None)

    def record(self, port: int | None) -> None:
        """Write who holds the lock: this process, and the port it serves on once it listens."""
        if self._fd is None:
            return
        data = json.dumps({"pid": os.getpid(), "port": port}).encode()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, data, 0)

    def release(self) -> None:
        """Let the next server have the database (safe to call twice)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.ftruncate(fd, 0)
            os.close(fd)  # closing the only descriptor releases the lock

    @property
    def held(self) -> bool:
        return self._fd is not None


def _read_holder(fd: int) -> dict:
    """The holder's pid and port; it writes them right after locking, so an empty file gets a moment."""
    for _ in range(10):
        try:
            holder = json.loads(os.pread(fd, 4096, 0) or b"null")
        except ValueError:
            holder = None
        if isinstance(holder, dict):
            return holder
        time.sleep(0.05)
    return {}


def _describe(holder: dict) -> str:
    parts = []
    if isinstance(holder.get("pid"), int):
        parts.append(f"pid {holder['pid']}")
    if isinstance(holder.get("port"), int):
        parts.append(f"port {holder['port']}")
    elif parts:
        parts.append("not listening yet")
    return ", ".join(parts) or "pid unknown"
