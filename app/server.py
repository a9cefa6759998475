"""Starting the dashboard server, kept apart from building the app (``create_app``)."""
from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from werkzeug.serving import BaseWSGIServer

from . import create_app
from .executors.process import keep_threads_off
from .exposure import access_settings, exposure_notice, is_loopback
from .http_server import make_http_server

log = logging.getLogger("normlab")


def default_database() -> Path:
    """``$NORMLAB_DB``, else ``$XDG_DATA_HOME/normlab/normlab.sqlite`` (``~/.local/share``)."""
    if os.environ.get("NORMLAB_DB"):
        return Path(os.environ["NORMLAB_DB"])
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "normlab" / "normlab.sqlite"


def db_timeout_from_env() -> float:
    """Seconds to wait for a locked database: ``$NORMLAB_DB_TIMEOUT``, default 10."""
    raw = os.environ.get("NORMLAB_DB_TIMEOUT", "10")
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= 600:
        raise SystemExit(f"error: NORMLAB_DB_TIMEOUT must be a number of seconds from 0 to 600, got {raw[:20]!r}")
    return value


def serve(host: str, port: int, database: Path, data_dir: str | None, workers: int, queue_limit: int,
          preload: str | None = "mnist", token: str | None = None, allowed_hosts: tuple[str, ...] = (),
          executor: str = "thread", scheduler: str | None = None, pin: bool = True) -> None:
    """Build the app and serve it (app/http_server.py; never the debugger) until SIGINT (Ctrl-C) or SIGTERM.

    Beyond loopback a token is always required (made up when not given), as Jupyter does.
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    token, allowed_hosts, addresses = access_settings(host, token, allowed_hosts)
    app = create_app({"DATABASE": str(database), "DATA_DIR": data_dir, "WORKERS": workers, "TOKEN": token,
                      "DB_TIMEOUT": db_timeout_from_env(),
                      "ALLOWED_HOSTS": allowed_hosts, "QUEUE_LIMIT": queue_limit, "PRELOAD_DATASET": preload,
                      "EXECUTOR": executor, "SCHEDULER": scheduler, "PIN_RUNS": pin})
    lab = app.extensions["normlab"]
    if lab.interrupted:
        log.info("marked %d run(s) interrupted: the server stopped while they ran", len(lab.interrupted))
    own_cores = keep_threads_off(lab.executor.reserved_cores())
    stop, server = StopOnSignals(), None
    try:
        server = make_http_server(host, port, app)
        lab.db_lock.record(server.server_port)
        if not is_loopback(host):
            print(exposure_notice(host, server.server_port, token, addresses), file=sys.stderr)
        query = f"?token={token}" if token else ""
        log.info("normlab dashboard: http://%s:%d/%s  (database %s; Ctrl-C to stop)", host, server.server_port, query, database)
        log.info("runs execute with: %s", ", ".join(f"{k} {v}" for k, v in lab.executor.describe().items()))
        if own_cores:
            log.info("the server's own threads keep to core(s) %s, off the runs' cores", ", ".join(map(str, own_cores)))
        stop.serve(server)
    finally:
        if server is not None:
            server.server_close()
        lab.shutdown()
        stop.restore()


class StopOnSignals:
    """SIGINT (Ctrl-C) and SIGTERM (systemctl stop, docker stop, kill) both end ``serve`` the same way.

    The first one shuts the HTTP server down, so that ``serve`` goes on to shut the lab down:
    running runs are marked interrupted and the database is let go at once, not at the next
    start. Later signals wait for that. Nothing is raised in the middle of whatever runs.
    Install from the main thread (Python's rule for signal handlers).
    """

    def __init__(self) -> None:
        self.received: str | None = None
        self._server: BaseWSGIServer | None = None
        self._previous = {sig: signal.signal(sig, self._handle) for sig in (signal.SIGINT, signal.SIGTERM)}

    def serve(self, server: BaseWSGIServer) -> None:
        """Serve until a signal comes (at once, when one came while starting)."""
        self._server = server
        if self.received is None:
            server.serve_forever()

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum: int, frame: Any) -> None:
        name = signal.Signals(signum).name
        if self.received is not None:
            log.info("%s: already stopping", name)
            return
        self.received = name
        log.info("%s: stopping; runs still going are marked interrupted", name)
        if self._server is not None:
            # shutdown() waits for serve_forever, which runs in this (the main) thread: ask from another
            threading.Thread(target=self._server.shutdown, name="normlab-stop", daemon=True).start()
