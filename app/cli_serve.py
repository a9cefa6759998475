"""``normlab serve``: its flags, turned with the environment into one ServerConfig, then the server."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from engine import ConfigError

from .cli_flags import UsageError
from .config import ENV_VARS, ServerConfig, default_database
from .executors import EXECUTOR_NAMES, ExecutorError
from .store import StoreError

DEFAULT = ServerConfig(database=default_database())
# The flag that sets each ServerConfig field, where it is not --field-name.
FLAG_FOR = {"database": "--db", "allowed_hosts": "--allow-host", "pin_runs": "--no-pin", "preload_dataset": "--no-preload"}


def add_command(sub: Any) -> None:
    """Add ``serve`` to the subcommands ``sub``. Flags default to None (not given): ServerConfig has the defaults."""
    p = sub.add_parser("serve", help=f"start the dashboard (default http://{DEFAULT.host}:{DEFAULT.port}/)")
    p.add_argument("--host", help=f"address to listen on (default {DEFAULT.host}: this machine only)")
    p.add_argument("--port", type=int, help=f"default {DEFAULT.port}; 0 picks a free port")
    p.add_argument("--db", type=Path, help=f"SQLite file (default ${ENV_VARS['database']}, else {DEFAULT.database})")
    p.add_argument("--data-dir", metavar="DIR", help="folder with your mnist.npz or IDX files; also the cache")
    p.add_argument("--workers", type=int, help="runs trained at the same time (default: one per core with "
                                                "--executor process, each with its share of the cores; else 1)")
    p.add_argument("--executor", choices=EXECUTOR_NAMES,
                   help=f"where runs train (default {DEFAULT.executor}): process (a child process per worker, the "
                        "cores divided among the runs in flight, so serving pages never slows training), thread (in this process), "
                        "dask (on a Dask cluster; needs --scheduler)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="the Dask scheduler, tcp://HOST:PORT (with --executor dask)")
    p.add_argument("--no-pin", action="store_true",
                   help="let the OS move run processes between cores (by default, with --executor process, each is "
                        "kept to its own share of the cores when there are at least as many cores as workers)")
    p.add_argument("--queue-limit", type=int,
                   help=f"runs launched on their own that may wait in the queue (default {DEFAULT.queue_limit}; "
                        f"study runs are counted apart, up to {DEFAULT.study_queue_limit})")
    p.add_argument("--no-preload", action="store_true", help="do not load MNIST at start-up")
    p.add_argument("--token", help=f"require this token on every request (${ENV_VARS['token']}; "
                                   f"one is made up when --host is not loopback)")
    p.add_argument("--allow-host", action="append", metavar="NAME",
                   help="another host name the server may be reached by (repeatable; loopback names always work)")
    p.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    from .server import serve

    config = config_from_args(args)
    try:
        serve(config)
    except (StoreError, ExecutorError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: cannot listen on {config.host}:{config.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


def config_from_args(args: argparse.Namespace) -> ServerConfig:
    """The server's config from the flags given and the environment; UsageError names the flag (or variable)."""
    given = {"host": args.host, "port": args.port, "database": args.db, "data_dir": args.data_dir,
             "workers": args.workers, "executor": args.executor, "scheduler": args.scheduler,
             "queue_limit": args.queue_limit, "token": args.token,
             "allowed_hosts": tuple(args.allow_host) if args.allow_host else None,
             "pin_runs": False if args.no_pin else None,
             # `normlab serve` loads MNIST at start-up, so the first run does not wait for it
             "preload_dataset": None if args.no_preload else "mnist"}
    try:
        return ServerConfig.from_env_and_flags({k: v for k, v in given.items() if v is not None})
    except ConfigError as exc:
        name = exc.field if exc.field in ENV_VARS.values() else FLAG_FOR.get(exc.field, f"--{exc.field.replace('_', '-')}")
        raise UsageError(f"{name}: {exc.message}") from None
