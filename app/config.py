"""The validated server configuration: every setting of ``normlab serve`` and its one default.

Built once, from the command line and the environment (``from_env_and_flags``) or from a dict of
upper-case keys (``from_dict``, as tests and embedders pass ``create_app``). As with the engine's
``RunConfig``, a bad value raises :class:`ConfigError` naming the setting and what is allowed;
nothing is clamped.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Mapping

from engine.config import ConfigError, is_finite_number
from engine.data import DATASET_NAMES

from .cores import usable_cores
from .executors import EXECUTOR_NAMES
from .executors.cluster import check_scheduler_address
from .jobs import STUDY_QUEUE_LIMIT

# Whole-number settings and their inclusive ranges. No worker (0) leaves runs queued: the tests'
# servers that only queue.
COUNTS: dict[str, tuple[int, int]] = {
    "port": (0, 65535),
    "workers": (0, 64),
    "queue_limit": (1, 10_000),
    "study_queue_limit": (1, 10_000),
    "max_content_length": (1024, 16 * 1024 * 1024),
    "ws_max_message_size": (1024, 16 * 1024 * 1024),
    "max_sockets": (1, 10_000),
    "max_connections": (1, 10_000),
}
# Durations in seconds: more than 0, at most this.
SECONDS: dict[str, float] = {"db_timeout": 600, "request_idle_timeout": 3600, "request_timeout": 3600,
                             "ws_ping_interval": 3600}
CHOICES: dict[str, tuple[str, ...]] = {"executor": EXECUTOR_NAMES, "preload_dataset": DATASET_NAMES}
FLAGS = ("pin_runs", "testing")
# Settings that may be None (off, or "not given": see each field).
OPTIONAL = ("data_dir", "scheduler", "preload_dataset", "ws_ping_interval", "token")
# Where ``from_env_and_flags`` reads each setting the environment may give.
ENV_VARS = {"database": "NORMLAB_DB", "db_timeout": "NORMLAB_DB_TIMEOUT", "token": "NORMLAB_TOKEN"}


@dataclass(frozen=True)
class ServerConfig:
    """Everything one dashboard server is set up with; ``app.extensions["normlab"].config``."""

    database: Path  # the SQLite file; ``from_env_and_flags`` defaults it (``default_database``)
    host: str = "127.0.0.1"  # this machine only
    port: int = 5000  # 0 picks a free port
    data_dir: str | None = None  # None: the engine's cache ($NORMLAB_DATA_DIR or ~/.cache/normlab)
    db_timeout: float = 10.0  # seconds to wait for a locked database
    workers: int | None = None  # runs trained at the same time; None: one per core (process executor), else 1
    executor: str = "process"  # or "thread" (in this process), "dask" (needs scheduler)
    scheduler: str | None = None  # a Dask scheduler's address, tcp://HOST:PORT
    pin_runs: bool = True  # process executor: each run process kept to its share of the cores when there are enough
    queue_limit: int = 100  # queued runs launched on their own (single runs, comparisons, reruns)
    study_queue_limit: int = STUDY_QUEUE_LIMIT  # queued study runs, counted apart (see app.jobs)
    preload_dataset: str | None = None  # loaded in the background at start; None: on first use
    max_content_length: int = 64 * 1024  # bytes of a request body
    ws_ping_interval: float | None = 25.0  # seconds between WebSocket pings (None: no pings)
    ws_max_message_size: int = 64 * 1024  # bytes of a message from a page
    max_sockets: int = 64  # WebSockets open at once
    # The HTTP server's limits (app/http_server.py): connections served at once (a thread each;
    # WebSockets count too), the longest wait for a client's next bytes (or for it to take ours),
    # and the time from connecting by which a request's line, headers and body must all be in.
    max_connections: int = 256
    request_idle_timeout: float = 10.0
    request_timeout: float = 30.0
    allowed_hosts: tuple[str, ...] = ()  # host names beyond loopback the server answers to
    token: str | None = None  # required on every request when set
    testing: bool = False  # Flask's TESTING: errors reach the test client

    def __post_init__(self) -> None:
        if self.workers is None:
            object.__setattr__(self, "workers", default_workers(self.executor))
        for f in fields(self):
            object.__setattr__(self, f.name, _checked(f.name, getattr(self, f.name)))
        if self.executor == "dask" and self.scheduler is None:
            raise ConfigError("scheduler", "the dask executor needs the Dask scheduler's address, tcp://HOST:PORT "
                                           "(e.g. tcp://10.0.0.5:8786, as `dask scheduler` prints it)")
        if self.executor != "dask" and self.scheduler is not None:
            raise ConfigError("scheduler", f"only used with the dask executor, not {self.executor}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ServerConfig:
        """Build from upper-case keys (``{"DATABASE": ..., "WORKERS": 0}``); errors name the key."""
        known = {f.name.upper(): f.name for f in fields(cls)}
        for key in data:
            if key not in known:
                raise ConfigError(str(key)[:50], f"unknown setting; allowed: {', '.join(known)}")
        if "DATABASE" not in data:
            raise ConfigError("DATABASE", "required: the SQLite file")
        try:
            return cls(**{known[key]: value for key, value in data.items()})
        except ConfigError as exc:
            raise ConfigError(exc.field.upper(), exc.message) from None

    @classmethod
    def from_env_and_flags(cls, flags: Mapping[str, Any], env: Mapping[str, str] | None = None) -> ServerConfig:
        """Defaults, overridden by the environment (``ENV_VARS``), overridden by ``flags`` (field → value given).

        Errors in a value from the environment name the variable.
        """
        env = os.environ if env is None else env
        values: dict[str, Any] = {"database": default_database(env)}
        from_env = {field: var for field, var in ENV_VARS.items() if env.get(var) and field not in flags}
        try:
            for field, var in from_env.items():
                values[field] = _parse_env(field, env[var])
            return cls(**{**values, **flags})
        except ConfigError as exc:
            if exc.field in from_env:
                raise ConfigError(from_env[exc.field], exc.message) from None
            raise

    def flask_config(self) -> dict[str, Any]:
        """The settings Flask and flask-sock read from ``app.config`` themselves."""
        return {"MAX_CONTENT_LENGTH": self.max_content_length, "TESTING": self.testing,
                "SOCK_SERVER_OPTIONS": {"ping_interval": self.ws_ping_interval,
                                        "max_message_size": self.ws_max_message_size}}


def default_workers(executor: str) -> int:
    """Runs trained at once when ``--workers`` is not given: one per usable core for the process
    executor (each with its share of the cores, app/cores.py), else 1 (the thread executor's
    runs share one interpreter; a Dask cluster's size is not known here)."""
    return len(usable_cores()) if executor == "process" else 1


def default_database(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME/normlab/normlab.sqlite`` (``~/.local/share``); ``$NORMLAB_DB`` is read beside the others."""
    env = os.environ if env is None else env
    base = Path(env.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "normlab" / "normlab.sqlite"


def _parse_env(field: str, raw: str) -> Any:
    if field != "db_timeout":
        return raw
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(field, f"must be a number of seconds, more than 0 and at most {SECONDS[field]:g}; "
                                 f"got {raw[:20]!r}") from None


def _checked(name: str, value: Any) -> Any:
    """The value, normalised (a Path, a float, a tuple), or ConfigError saying what is allowed."""
    if value is None and name in OPTIONAL:
        return None
    if name in COUNTS:
        low, high = COUNTS[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ConfigError(name, f"must be a whole number from {low} to {high}, got {_show(value)}")
        return value
    if name in SECONDS:
        high = SECONDS[name]
        if not is_finite_number(value) or not 0 < value <= high:
            raise ConfigError(name, f"must be a number of seconds, more than 0 and at most {high:g}; got {_show(value)}")
        return float(value)
    if name in CHOICES:
        if value not in CHOICES[name]:
            raise ConfigError(name, f"must be one of {', '.join(CHOICES[name])}; got {_show(value)}")
        return value
    if name in FLAGS:
        if not isinstance(value, bool):
            raise ConfigError(name, f"must be true or false, got {_show(value)}")
        return value
    return _checked_text(name, value)


def _checked_text(name: str, value: Any) -> Any:
    if name == "database":
        if not isinstance(value, (str, os.PathLike)) or not str(value):
            raise ConfigError(name, f"must be the path of a SQLite file, got {_show(value)}")
        return Path(value)
    if name == "allowed_hosts":
        if not isinstance(value, (tuple, list)) or not all(isinstance(h, str) and h for h in value):
            raise ConfigError(name, f"must be a list of host names, got {_show(value)}")
        return tuple(value)
    if name == "data_dir" and isinstance(value, os.PathLike):
        value = str(value)
    if not isinstance(value, str):
        raise ConfigError(name, f"must be text, got {_show(value)}")
    if name == "scheduler":
        try:
            check_scheduler_address(value)
        except ValueError as exc:
            raise ConfigError(name, str(exc)) from None
    if name in OPTIONAL and not value:
        return None  # an empty token or folder ($NORMLAB_TOKEN=) is none
    return value


def _show(value: Any) -> str:
    return repr(value)[:40]
