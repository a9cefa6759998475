"""A wheel built from the tree installs a `normlab serve` that shows the dashboard (not only an editable install).

The wheel is built offline with the setuptools of the test environment, installed into a fresh
virtualenv that sees the test environment's dependencies (not its editable normlab), and served
from another directory.
"""
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import urllib.request
from pathlib import Path

import pytest
from simple_websocket import Client

from .conftest import wait_for
from .test_connections import serving_port

ROOT = Path(__file__).resolve().parents[2]
BUILD_INPUTS = ("pyproject.toml", "README.md", "app", "engine", "templates", "static")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(wheel, pip's build output): built from a copy of the tree, so no stale build/ of the checkout leaks in."""
    tmp = tmp_path_factory.mktemp("package")
    source = tmp / "source"
    for name in BUILD_INPUTS:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy(path, source / name)
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                             "-v", "-w", str(tmp / "dist"), str(source)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (wheel,) = (tmp / "dist").glob("normlab-*.whl")
    return wheel, result.stdout + result.stderr


@pytest.fixture(scope="module")
def installed(built, tmp_path_factory):
    """A fresh virtualenv with the wheel installed; its own site-packages comes before the test environment's."""
    env_dir = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True, timeout=60)
    python = env_dir / "bin" / "python"
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               capture_output=True, text=True, check=True).stdout.strip())
    # A plain path line: the dependencies become importable, while the .pth files there (the
    # editable install of this checkout among them) are not run.
    (site / "test-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    result = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
                             str(built[0])], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return env_dir


def test_the_wheel_holds_every_module_and_the_pages_assets(built):
    import zipfile

    names = set(zipfile.ZipFile(built[0]).namelist())
    tree = {p.relative_to(ROOT).as_posix() for package in ("app", "engine") for p in (ROOT / package).rglob("*.py")
            if "__pycache__" not in p.parts}
    assets = {f"app/{p.relative_to(ROOT).as_posix()}" for folder in ("templates", "static")
              for p in (ROOT / folder).rglob("*") if p.is_file()}
    assert tree - names == set()  # a new subpackage missing from pyproject's `packages` shows here
    assert assets - names == set() and "app/schema.sql" in names
    assert "app/static/js/dashboard.js" in names and "app/templates/base.html" in names


def test_building_gives_no_deprecation_warning(built):
    assert "deprecat" not in built[1].lower(), built[1][-3000:]


def test_the_installed_normlab_serve_shows_the_dashboard_from_another_directory(installed, tmp_path):
    python = installed / "bin" / "python"
    where = subprocess.run([python, "-c", "import app, engine; print(app.__file__); print(engine.__file__)"],
                           capture_output=True, text=True, check=True, cwd=tmp_path, env=_clean_env()).stdout.split()
    assert all(Path(path).is_relative_to(installed) for path in where), where  # the wheel's, not the checkout's
    log_path = tmp_path / "serve.log"
    with open(log_path, "w+") as log:
        proc = subprocess.Popen([installed / "bin" / "normlab", "serve", "--db", str(tmp_path / "db.sqlite"),
                                 "--port", "0", "--no-preload"], stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path,
                                env=_clean_env())
        try:
            port = wait_for(lambda: serving_port(proc, log_path), timeout=30, interval=0.1, message="the server to listen")
            base = f"http://127.0.0.1:{port}"
            page = _get(base + "/")
            assert page.status == 200 and b"<html" in page.body.lower()
            module = _get(base + "/static/js/dashboard.js")
            assert module.status == 200 and module.type == "text/javascript" and b"import" in module.body
            plotly = _get(base + "/static/vendor/plotly.min.js")
            assert plotly.status == 200 and len(plotly.body) > 1_000_000
            ws = Client.connect(f"ws://127.0.0.1:{port}/ws")
            try:
                assert json.loads(ws.receive(timeout=10))["type"] == "hello"
            finally:
                ws.close()
        finally:
            proc.terminate()
            proc.wait(30)
    assert "Traceback" not in log_path.read_text()


class _Response:
    def __init__(self, response):
        self.status, self.type, self.body = response.status, response.headers.get_content_type(), response.read()


def _get(url: str) -> _Response:
    with urllib.request.urlopen(url, timeout=10) as response:
        return _Response(response)


def _clean_env() -> dict[str, str]:
    """This environment without what would point Python at the checkout."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
