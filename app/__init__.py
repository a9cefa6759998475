"""normlab's Flask dashboard: ``create_app(config)`` builds the app around one Lab; ``lab.start()`` runs it."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from flask import Flask

if TYPE_CHECKING:
    from .config import ServerConfig

PACKAGE = Path(__file__).resolve().parent


def asset_folder(name: str) -> Path:
    """``templates`` or ``static``: inside the package when installed from a wheel, else the repository's.

    The repository keeps them at its top level; the wheel ships them as the package's data (pyproject.toml).
    """
    packaged = PACKAGE / name
    return packaged if packaged.is_dir() else PACKAGE.parent / name


def create_app(config: ServerConfig | Mapping[str, Any] | None = None) -> Flask:
    """Build the dashboard for ``config`` (a ServerConfig, a dict of its upper-case keys, or None for
    what ``normlab serve`` would use). It only builds: ``app.extensions["normlab"].start()`` takes the
    database and starts the workers (``serve`` and the test fixtures call it)."""
    from . import api, pages, recipes_api, studies_api, ws
    from .config import ServerConfig
    from .ids import RowIdConverter
    from .lab import Lab
    from .security import init_security

    if not isinstance(config, ServerConfig):
        config = ServerConfig.from_env_and_flags({}) if config is None else ServerConfig.from_dict(config)
    app = Flask(__name__, static_folder=str(asset_folder("static")), template_folder=str(asset_folder("templates")))
    app.config.update(config.flask_config())
    lab = Lab(config)
    app.extensions["normlab"] = lab
    # As Flask's tutorial closes g.db: the request's thread closes its store connection when the
    # request (or the socket it upgraded to) ends. The threaded server starts a thread per HTTP
    # connection, so a connection kept by its thread would stay open until shutdown.
    app.teardown_appcontext(lambda _exc: lab.store.release())
    init_security(app, config.allowed_hosts, config.token)
    api.init_errors(app)
    app.url_map.converters["id"] = RowIdConverter  # before the blueprints' routes use <id:…>
    ws.sock.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(studies_api.bp)
    app.register_blueprint(recipes_api.bp)
    app.register_blueprint(ws.bp)
    return app
