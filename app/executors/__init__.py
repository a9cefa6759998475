"""Where runs execute: in worker processes (the default), in a thread of this process, or on a Dask cluster.

Every executor has the same small interface (``Executor``); the job manager does not know which
one it drives, and the engine knows none of them.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .base import Executor, WorkerLost
from .thread import ThreadExecutor

if TYPE_CHECKING:
    from ..config import ServerConfig
    from ..datasets import DatasetCache

EXECUTOR_NAMES = ("thread", "process", "dask")


class ExecutorError(RuntimeError):
    """The executor could not be set up (scheduler unreachable or its address bad, package missing)."""


from .process import ProcessExecutor  # noqa: E402  (after ExecutorError, which the modules import)


def make_executor(config: ServerConfig, datasets: DatasetCache) -> Executor:
    """The executor ``config`` names (its name and scheduler are checked already): process (``workers``
    child processes sharing the cores out, each kept to its share when ``pin_runs`` and there are
    enough cores), thread or dask. ExecutorError when the dask one cannot reach its scheduler.

    ``config.preload_dataset`` is loaded where runs train before the first run needs it (each run
    process loads its own; the thread executor's cache once; a cluster's workers load on first use).
    """
    preload = (config.preload_dataset,) if config.preload_dataset else ()
    if config.executor == "thread":
        return ThreadExecutor(datasets, config.workers, preload)
    if config.executor == "process":
        report = datasets.report if datasets is not None else None
        return ProcessExecutor(config.data_dir, config.workers, config.pin_runs, preload, report)
    from .cluster import DaskExecutor  # imports distributed only when asked for
    return DaskExecutor(config.scheduler, config.data_dir)


__all__ = ["EXECUTOR_NAMES", "Executor", "ExecutorError", "ProcessExecutor", "ThreadExecutor", "WorkerLost",
           "make_executor"]
