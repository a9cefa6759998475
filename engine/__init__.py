"""normlab's training engine: a small fully connected network in NumPy with L1/L2 penalties.

Pure library: no Flask, no threads, no printing. ``train(config, dataset, on_event,
should_stop)`` is the one entry point the CLI and the dashboard share.

Read it as a textbook first, in plain NumPy: ``activations``, ``layers`` (``Dense``:
forward, backward into ``dW``/``db``), ``losses`` (softmax cross-entropy, a batch mean),
``penalties`` (``loss(W)``, ``grad(W)``), ``network`` (``loss_and_grads``: the data loss
and the penalty as separate terms, and every gradient), ``optimizers`` (``SGD.step``) and
``stepping`` (one step on one batch). Runs take the same step through ``fast``: fused,
compiled (numba) and BLAS-backed, in fewer passes over memory. ``stepping.make_stepper``
is the one place that chooses it, and tests/engine/test_sgd_step.py holds the two paths
to the same weights. ``training`` is the loop that reports through ``events``.

What a finished run's weights show goes into its done event: ``metrics`` (sparsity, dead
units and inputs, input importance, unit norms), ``pruning`` (accuracy as the smallest
weights are zeroed; its fast path in ``fast.pruning``, and ``fine_tune`` for the curve
after retraining with the masks held), ``priors`` (the Gaussian and Laplace fits behind L2
and L1) and, epoch by epoch, ``trajectories``. ``studies`` expands and aggregates sweeps;
``comparisons`` tests their differences paired by seed.
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
