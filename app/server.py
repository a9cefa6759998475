"""Starting the dashboard server, kept apart from building the app (``create_app``)."""
from __future__ import annotations

import logging
import signal
import sys
import threading
from dataclasses import replace
from typing import Any

from werkzeug.serving import BaseWSGIServer

from . import create_app
from .config import ServerConfig
from .executors.process import keep_threads_off
from .exposure import access_settings, exposure_notice, is_loopback
from .http_server import make_http_server

log = logging.getLogger("normlab")


def serve(config: ServerConfig) -> None:
    """Build the app, start its lab and serve it (app/http_server.py; never the debugger) until SIGINT
    (Ctrl-C) or SIGTERM. StoreError, ExecutorError or OSError (cannot listen) when it cannot start.

    Beyond loopback a token is always required (made up when not given), as Jupyter does.
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    token, allowed_hosts, addresses = access_settings(config.host, config.token, config.allowed_hosts)
    config = replace(config, token=token, allowed_hosts=allowed_hosts)
    app = create_app(config)
    lab = app.extensions["normlab"]
    stop, server = StopOnSignals(), None
    try:
        lab.start()
        if lab.interrupted:
            log.info("marked %d run(s) interrupted: the server stopped while they ran", len(lab.interrupted))
        own_cores = keep_threads_off(lab.executor.reserved_cores())
        server = make_http_server(config.host, config.port, app)
        lab.db_lock.record(server.server_port)
        if not is_loopback(config.host):
            print(exposure_notice(config.host, server.server_port, token, addresses), file=sys.stderr)
        query = f"?token={token}" if token else ""
        log.info("normlab dashboard: http://%s:%d/%s  (database %s; Ctrl-C to stop)", config.host, server.server_port,
                 query, config.database)
        log.info("runs: %s", lab.executor.describe()["summary"])
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
