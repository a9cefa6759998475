"""normlab's training engine: a small fully connected network in NumPy with L1/L2 penalties.

Pure library: no Flask, no threads, no printing. The per-batch element-wise steps are fused
loops compiled by numba (``kernels``); the large products are BLAS (``blas``).
``train(config, dataset, on_event, should_stop)`` is the one entry point the CLI and the
dashboard share.
"""
from .config import ConfigError, RunConfig
from .events import (
    BatchEvent,
    CancelledEvent,
    DoneEvent,
    EpochEvent,
    Event,
    FailedEvent,
    StartEvent,
    WeightStats,
    event_to_dict,
)
from .training import train

__all__ = [
    "BatchEvent", "CancelledEvent", "ConfigError", "DoneEvent", "EpochEvent", "Event", "FailedEvent",
    "RunConfig", "StartEvent", "WeightStats", "event_to_dict", "train",
]
