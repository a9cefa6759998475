"""Where runs execute: in a thread of this process (default), in worker processes, or on a Dask cluster.

Every executor has the same small interface (``Executor``); the job manager does not know which
one it drives, and the engine knows none of them.
"""
from __future__ import annotations

from pathlib import Path

from .base import Executor, WorkerLost
from .thread import ThreadExecutor

EXECUTOR_NAMES = ("thread", "process", "dask")


class ExecutorError(RuntimeError):
    """The executor could not be set up (bad name or address, scheduler unreachable, package missing)."""


from .process import ProcessExecutor  # noqa: E402  (after ExecutorError, which the modules import)


def make_executor(name: str, datasets, workers: int = 1, data_dir: str | Path | None = None,
                  scheduler: str | None = None, pin: bool = True, preload: tuple[str, ...] = ()) -> Executor:
    """The executor called ``name``: process (the default: ``workers`` child processes, each kept to a core
    of its own when ``pin`` and there are enough cores), thread or dask (needs ``scheduler``).

    ``preload``: datasets to load where runs train before the first run needs them (each run
    process loads its own; the thread executor's cache once; a cluster's workers load on first use).
    """
    if scheduler and name != "dask":
        raise ExecutorError(f"a scheduler address is only used with the dask executor, not {name!r}")
    if name == "thread":
        return ThreadExecutor(datasets, workers, preload)
    if name == "process":
        return ProcessExecutor(data_dir, workers, pin, preload, datasets.report if datasets is not None else None)
    if name == "dask":
        if not scheduler:
            raise ExecutorError("the dask executor needs the scheduler's address, e.g. tcp://10.0.0.5:8786")
        from .cluster import DaskExecutor  # imports distributed only when asked for
        return DaskExecutor(scheduler, data_dir)
    raise ExecutorError(f"unknown executor {name!r}; choose one of {', '.join(EXECUTOR_NAMES)}")


__all__ = ["EXECUTOR_NAMES", "Executor", "ExecutorError", "ProcessExecutor", "ThreadExecutor", "WorkerLost",
           "make_executor"]
