"""normlab's Flask dashboard: ``create_app(config)`` builds the app around one Lab."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from .jobs import STUDY_QUEUE_LIMIT

ROOT = Path(__file__).resolve().parent.parent

DEFAULTS: dict[str, Any] = {
    "DATABASE": "normlab.sqlite",
    "DB_TIMEOUT": 10.0,
    "DATA_DIR": None,
    "WORKERS": 1,
    "EXECUTOR": "process",  # or "thread" (in this process), "dask" (needs SCHEDULER)
    "SCHEDULER": None,  # a Dask scheduler's address, tcp://HOST:PORT
    "PIN_RUNS": True,  # process executor: keep each run process to a core of its own when there are enough
    "QUEUE_LIMIT": 100,  # queued runs launched on their own (single runs, comparisons, reruns)
    "STUDY_QUEUE_LIMIT": STUDY_QUEUE_LIMIT,  # queued study runs, counted apart (see app.jobs)
    "PRELOAD_DATASET": None,
    "MAX_CONTENT_LENGTH": 64 * 1024,
    "SOCK_SERVER_OPTIONS": {"ping_interval": 25, "max_message_size": 64 * 1024},
    "MAX_SOCKETS": 64,
    # The HTTP server's limits (app/http_server.py): connections served at once (a thread each;
    # WebSockets count too), the longest wait for a client's next bytes (or for it to take ours),
    # and the time from connecting by which a request's line, headers and body must all be in.
    "MAX_CONNECTIONS": 256,
    "REQUEST_IDLE_TIMEOUT": 10.0,
    "REQUEST_TIMEOUT": 30.0,
    "ALLOWED_HOSTS": (),
    "TOKEN": None,
}


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the dashboard. ``config`` overrides DEFAULTS (e.g. DATABASE, DATA_DIR, WORKERS)."""
    from . import api, pages, studies_api, ws
    from .ids import RowIdConverter
    from .lab import Lab
    from .security import init_security

    app = Flask(__name__, static_folder=str(ROOT / "static"), template_folder=str(ROOT / "templates"))
    app.config.update(DEFAULTS)
    app.config.update(config or {})
    lab = Lab(app.config["DATABASE"], app.config["DATA_DIR"], int(app.config["WORKERS"]), int(app.config["QUEUE_LIMIT"]),
              float(app.config["DB_TIMEOUT"]), app.config["EXECUTOR"], app.config["SCHEDULER"],
              pin=bool(app.config["PIN_RUNS"]), study_queue_limit=int(app.config["STUDY_QUEUE_LIMIT"]))
    app.extensions["normlab"] = lab
    # As Flask's tutorial closes g.db: the request's thread closes its store connection when the
    # request (or the socket it upgraded to) ends. The threaded server starts a thread per HTTP
    # connection, so a connection kept by its thread would stay open until shutdown.
    app.teardown_appcontext(lambda _exc: lab.store.release())
    init_security(app)
    api.init_errors(app)
    app.url_map.converters["id"] = RowIdConverter  # before the blueprints' routes use <id:…>
    ws.sock.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(studies_api.bp)
    app.register_blueprint(ws.bp)
    lab.start()
    if app.config["PRELOAD_DATASET"]:
        lab.preload(app.config["PRELOAD_DATASET"])
    return app
