"""Where runs execute: in a thread of this process (default), in worker processes, or on a Dask cluster.

Every executor has the same small interface (``Executor``); the job manager does not know which
one it drives, and the engine knows none of them.
"""
from .base import Executor, WorkerLost
from .thread import ThreadExecutor

__all__ = ["Executor", "ThreadExecutor", "WorkerLost"]
