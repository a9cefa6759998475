"""The server's one configuration: its defaults, its checks, where it is read from, and build-then-start."""
import multiprocessing
import threading

import pytest

from app import create_app
from app.cli import main
from app.config import ServerConfig, default_database
from app.cores import usable_cores
from app.db_lock import DatabaseLock
from app.store import StoreError
from engine import ConfigError


def test_defaults_are_those_of_normlab_serve(tmp_path):
    config = ServerConfig(tmp_path / "db.sqlite")
    assert (config.executor, config.queue_limit, config.host, config.port) == ("process", 100, "127.0.0.1", 5000)
    # a study's runs train side by side up to the cores; one at a time where runs share one interpreter
    assert config.workers == len(usable_cores()) and ServerConfig(tmp_path / "db", executor="thread").workers == 1
    assert ServerConfig(tmp_path / "db", workers=3).workers == 3
    app = create_app({"DATABASE": str(tmp_path / "db.sqlite")})
    assert app.extensions["normlab"].config == config  # the dict form has the same defaults
    assert app.config["MAX_CONTENT_LENGTH"] == config.max_content_length
    assert app.config["SOCK_SERVER_OPTIONS"] == {"ping_interval": 25.0, "max_message_size": 64 * 1024}


@pytest.mark.parametrize("data, message", [
    ({"WORKERS": 65}, "WORKERS: must be a whole number from 0 to 64, got 65"),
    ({"WORKERS": 1.0}, "WORKERS: must be a whole number from 0 to 64, got 1.0"),
    ({"QUEUE_LIMIT": True}, "QUEUE_LIMIT: must be a whole number from 1 to 10000, got True"),
    ({"PORT": 70000}, "PORT: must be a whole number from 0 to 65535, got 70000"),
    ({"REQUEST_TIMEOUT": 0}, "REQUEST_TIMEOUT: must be a number of seconds, more than 0 and at most 3600; got 0"),
    ({"DB_TIMEOUT": float("nan")}, "DB_TIMEOUT: must be a number of seconds, more than 0 and at most 600; got nan"),
    ({"WS_PING_INTERVAL": "25"}, "WS_PING_INTERVAL: must be a number of seconds"),
    ({"PIN_RUNS": "no"}, "PIN_RUNS: must be true or false, got 'no'"),
    ({"ALLOWED_HOSTS": "lab.internal"}, "ALLOWED_HOSTS: must be a list of host names, got 'lab.internal'"),
    ({"PRELOAD_DATASET": "cifar"}, "PRELOAD_DATASET: must be one of mnist, fashion-mnist, synthetic; got 'cifar'"),
    ({"TOKEN": 1234}, "TOKEN: must be text, got 1234"),
    ({"DATABASE": ""}, "DATABASE: must be the path of a SQLite file, got ''"),
    ({"THREADS": 4}, "THREADS: unknown setting; allowed: DATABASE, HOST, PORT"),
])
def test_a_bad_setting_is_refused_naming_it_and_what_is_allowed(tmp_path, data, message):
    with pytest.raises(ConfigError) as info:
        create_app({"DATABASE": str(tmp_path / "db.sqlite"), **data})
    assert str(info.value).startswith(message)
    assert not list(tmp_path.iterdir())  # refused before anything was touched


def test_the_database_is_required_in_the_dict_form():
    with pytest.raises(ConfigError, match="DATABASE: required"):
        create_app({"WORKERS": 0})


def test_flags_override_the_environment_which_overrides_the_defaults(tmp_path):
    env = {"NORMLAB_DB": str(tmp_path / "env.sqlite"), "NORMLAB_DB_TIMEOUT": "2.5", "NORMLAB_TOKEN": "from-env",
           "XDG_DATA_HOME": str(tmp_path)}
    config = ServerConfig.from_env_and_flags({"token": "from-flag", "workers": 3}, env)
    assert (config.database, config.db_timeout, config.token, config.workers) == (tmp_path / "env.sqlite", 2.5,
                                                                                  "from-flag", 3)
    plain = ServerConfig.from_env_and_flags({}, {"XDG_DATA_HOME": str(tmp_path), "NORMLAB_TOKEN": ""})
    assert plain.database == default_database({"XDG_DATA_HOME": str(tmp_path)}) == tmp_path / "normlab" / "normlab.sqlite"
    assert plain.token is None and plain.db_timeout == 10.0


@pytest.mark.parametrize("raw", ["soon", "0", "601"])
def test_a_bad_environment_value_names_the_variable(raw):
    with pytest.raises(ConfigError, match=r"^NORMLAB_DB_TIMEOUT: must be a number of seconds, more than 0 and at most 600"):
        ServerConfig.from_env_and_flags({}, {"NORMLAB_DB_TIMEOUT": raw})


@pytest.mark.parametrize("flags, env, message", [
    (["--workers", "65"], {}, "normlab: error: --workers: must be a whole number from 0 to 64, got 65"),
    (["--port", "-1"], {}, "normlab: error: --port: must be a whole number from 0 to 65535, got -1"),
    (["--queue-limit", "0"], {}, "normlab: error: --queue-limit: must be a whole number from 1 to 10000, got 0"),
    ([], {"NORMLAB_DB_TIMEOUT": "soon"}, "normlab: error: NORMLAB_DB_TIMEOUT: must be a number of seconds"),
])
def test_bad_serve_flags_or_environment_exit_2_with_one_clear_line(tmp_path, monkeypatch, capsys, flags, env, message):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as info:
        main(["serve", "--db", str(tmp_path / "db.sqlite"), "--no-preload", *flags])
    assert info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1].startswith(message)
    assert not list(tmp_path.iterdir())


def test_create_app_only_builds_and_start_takes_the_database_and_starts_the_workers(tmp_path):
    db = tmp_path / "db.sqlite"
    threads = threading.active_count()
    app = create_app({"DATABASE": str(db), "WORKERS": 2})  # the process executor: a child per worker, once started
    lab = app.extensions["normlab"]
    assert not list(tmp_path.iterdir()) and threading.active_count() == threads and not _run_processes()
    lab.start()
    try:
        assert db.exists() and lab.db_lock.held
        assert len(lab.jobs._threads) == 2 and threading.active_count() >= threads + 2
        with pytest.raises(RuntimeError, match="started already"):
            lab.start()
    finally:
        lab.shutdown()
    assert not lab.db_lock.held and not _run_processes()


def test_shutdown_without_start_is_safe(tmp_path):
    lab = create_app({"DATABASE": str(tmp_path / "db.sqlite")}).extensions["normlab"]
    lab.shutdown()
    lab.shutdown()
    assert not list(tmp_path.iterdir())


def test_a_start_that_fails_lets_go_of_the_database(tmp_path):
    db = tmp_path / "corrupt.sqlite"
    db.write_bytes(b"this is not a database" * 100)
    lab = create_app({"DATABASE": str(db), "EXECUTOR": "thread"}).extensions["normlab"]
    with pytest.raises(StoreError, match="cannot use the database"):
        lab.start()
    lock = DatabaseLock(db)
    lock.acquire()  # no DatabaseInUse: the failed start holds nothing
    lock.release()
    lab.shutdown()


def _run_processes() -> list:
    return [p for p in multiprocessing.active_children() if p.name.startswith("normlab-run-process")]

