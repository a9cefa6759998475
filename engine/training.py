"""``train``: run one configuration on one dataset and report through events.

The engine knows nothing of threads, storage or transport: it calls
``on_event`` with immutable records and polls ``should_stop`` once per batch
for cooperative cancel. The same config and seed give the same event stream
(up to the measured seconds).
"""
from __future__ import annotations

import functools
import hashlib
import math
import os
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
from threadpoolctl import threadpool_limits

from .config import RunConfig
from .data import Dataset
from .data.dataset import N_FEATURES, Splits
from .events import (
    BatchEvent,
    CancelledEvent,
    DoneEvent,
    EpochEvent,
    Event,
    FailedEvent,
    StartEvent,
)
from .fast.kernels import preprocess_rows
from .fast.products import ProductPool, Threads
from .losses import DIVERGENCE_LOSS, cross_entropy_per_example
from .metrics import (
    active_weights,
    confusion_matrix,
    dead_inputs,
    dead_units,
    first_layer_images,
    input_importance,
    overall_sparsity,
    unit_norms,
    weight_stats,
)
from .fine_tune import MAX_FINE_TUNE_STEPS, fine_tuned_pruning_curve
from .network import Network
from .penalties import make_penalty
from .priors import fit_network_priors
from .pruning import pruning_curve
from .run_data import run_data
from .stepping import make_stepper
from .trajectories import trajectory_positions, trajectory_values

EventSink = Callable[[Event], None]
StopCheck = Callable[[], bool]

N_CLASSES = 10


@dataclass(frozen=True)
class RandomStreams:
    """Independent generators for everything random in a run.

    Split from one seed so that runs differing only in penalty or λ share them all
    (paired comparisons): the data subset, the initial weights, the batch order, the
    trajectory sample and the fine-tune batches of a pruning curve.
    """

    subset: np.random.Generator
    init: np.random.Generator
    order: np.random.Generator
    trajectory: np.random.Generator  # positions of the weights the epoch events follow
    fine_tune: np.random.Generator  # batches of the optional fine-tuned pruning curve
    noise: np.random.Generator  # the noise features' values (engine.run_data)

    @classmethod
    def from_seed(cls, seed: int) -> "RandomStreams":
        # SeedSequence children are numbered: the first three of spawn(6) are those spawn(3)
        # gave before the later streams existed, so every earlier run keeps its numbers.
        return cls(*(np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(6)))


def preprocess(pixels: np.ndarray, dtype: str, rows: np.ndarray | None = None,
               out: np.ndarray | None = None) -> np.ndarray:
    """Map uint8 pixels (all, or the given rows) to [-1, 1]: ``(x / 255 - 0.5) * 2`` as in the reference study.

    With ``out`` (at least ``len(rows)`` rows) the result goes there: a batch buffer reused
    for every step.
    """
    rows = np.arange(len(pixels)) if rows is None else rows
    out = np.empty((len(rows), pixels.shape[1]), dtype) if out is None else out[: len(rows)]
    preprocess_rows(pixels, rows, out)
    return out


def layer_sizes(features: int, hidden: int) -> tuple[int, ...]:
    """The network's layer sizes: features → hidden → 10, or features → 10 with no hidden layer (hidden 0)."""
    return (features, hidden, N_CLASSES) if hidden else (features, N_CLASSES)


def training_subset(dataset: Dataset, size: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``size`` training indices at random, without replacement."""
    n = len(dataset.y_train)
    if size > n:
        raise ValueError(f"train_size {size} is larger than the {n} training examples of {dataset.name}")
    indices = rng.permutation(n)[:size]
    return indices


class _Clock:
    def __init__(self):
        self.start = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.start


def train(
    config: RunConfig,
    dataset: Dataset,
    on_event: EventSink | None = None,
    should_stop: StopCheck | None = None,
    *,
    threads: Threads = 1,
    readable: bool = False,
    fine_tune_steps: int | None = None,
) -> Event:
    """Train ``config`` on ``dataset``; emit events to ``on_event``; return the final event.

    The final event is a DoneEvent, a FailedEvent (e.g. the loss became NaN or
    infinite: reported at the batch where it happened) or a CancelledEvent.

    ``threads``: how many threads share the run's large products (an int, or a function
    read before each product, so a server can re-divide its cores while runs go). The
    numbers do not depend on it (engine/fast/products.py); BLAS itself is kept to one
    thread for the run.

    ``readable`` steps with the textbook path (``Network.loss_and_grads`` + ``SGD.step``)
    instead of the fused one: the same run up to rounding, only slower. For tests.

    ``fine_tune_steps`` above 0 adds a second pruning curve to the done event, each point
    fine-tuned that many steps with its mask held (``engine.fine_tune``; 26 × the steps).
    None (the default) takes the config's ``prune_fine_tune_steps``, so the setting travels
    with the config to wherever a run trains.
    """
    fine_tune_steps = config.prune_fine_tune_steps if fine_tune_steps is None else fine_tune_steps
    if (isinstance(fine_tune_steps, bool) or not isinstance(fine_tune_steps, int)
            or not 0 <= fine_tune_steps <= MAX_FINE_TUNE_STEPS):
        raise ValueError(f"fine_tune_steps: must be a whole number from 0 (none) to {MAX_FINE_TUNE_STEPS}")
    run = _Run(config, dataset, _Emitter(on_event), should_stop or (lambda: False), threads, readable, fine_tune_steps)
    return run.execute()


@functools.cache
def warm_up() -> None:
    """Compile the kernels a run uses (or load them from numba's disk cache) with tiny runs.

    After an install the first run would otherwise spend a few seconds compiling before
    its first batch; a server calls this while it waits for its first run, the CLI before
    it starts a run's clock. Once per process: later calls return at once.
    """
    rng = np.random.default_rng(0)
    labels = np.arange(20, dtype=np.int64) % N_CLASSES
    pixels = rng.integers(0, 256, (20, 784), dtype=np.uint8)
    dataset = Dataset.from_splits("warm-up", Splits(pixels, labels, pixels, labels), "generated")
    # Between them, every kernel: the plain SGD step (L1, elastic net) and momentum's gradient path.
    for penalty, momentum in (("l1", 0.0), ("elastic", 0.0), ("l1", 0.9)):
        lam_l2 = 1e-4 if penalty == "elastic" else 0.0
        train(RunConfig(penalty=penalty, lam=1e-4, lam_l2=lam_l2, momentum=momentum, hidden=8, epochs=1, batch_size=8,
                        train_size=20), dataset)


@dataclass
class _EpochTotals:
    """Running sums over one epoch's batches."""

    loss: float = 0.0
    data_loss: float = 0.0
    penalty: float = 0.0
    correct: int = 0
    batches: int = 0

    def add(self, loss: float, data_loss: float, penalty: float, correct: int) -> None:
        self.loss += loss
        self.data_loss += data_loss
        self.penalty += penalty
        self.correct += correct
        self.batches += 1


class _RunEnded(Exception):
    """Raised inside a run to end it early (cancelled, diverged) with its final event."""

    def __init__(self, event: Event):
        super().__init__(event.kind)
        self.event = event


class _Run:
    """One training run: the data, the network, and the loop that reports on them."""

    def __init__(self, config: RunConfig, dataset: Dataset, emit: "_Emitter", should_stop: StopCheck,
                 threads: Threads = 1, readable: bool = False, fine_tune_steps: int = 0):
        self.config, self.emit, self.should_stop = config, emit, should_stop
        self.fine_tune_steps = fine_tune_steps
        self.pool = ProductPool(threads)
        self.clock = _Clock()
        streams = RandomStreams.from_seed(config.seed)
        # Pixels (and noise features) stay uint8 (a quarter of the memory); batches are scaled as they are drawn.
        data = run_data(dataset, config.train_size, config.subset, config.test_split, config.noise_features,
                        streams.subset, streams.noise)
        self.indices, self.pixels_train, self.y_train = data.indices, data.x_train, data.y_train
        self.pixels_test, self.y_test = data.x_test, data.y_test
        self.batch_buffer = np.empty((config.batch_size, self.pixels_train.shape[1]), config.dtype)
        self.order_rng = streams.order
        self.fine_tune_rng = streams.fine_tune
        self.net = Network.build(layer_sizes(self.pixels_train.shape[1], config.hidden), config.activation, config.init,
                                 streams.init, config.dtype)
        self.peak: tuple[float, int] | None = None  # the best test accuracy so far and its epoch
        self.stepper = make_stepper(config, self.net, make_penalty(config.penalty, config.lam, config.lam_l2),
                                    readable=readable, pool=self.pool)
        self.trajectory_positions = trajectory_positions(streams.trajectory, self.net.weights[0].shape)
        self.batches = math.ceil(len(self.y_train) / config.batch_size)
        self.step = 0
        self.checksum = dataset.checksum

    def execute(self) -> Event:
        self.emit(StartEvent, epochs=self.config.epochs, batches_per_epoch=self.batches,
                  total_steps=self.batches * self.config.epochs, train_size=len(self.y_train),
                  test_size=len(self.y_test), n_params=sum(p.size for p in self.net.params),
                  dataset_checksum=self.checksum, subset_checksum=_sha256(self.indices),
                  init_checksum=_sha256(*self.net.params), numpy_version=np.__version__,
                  trajectory_positions=self.trajectory_positions,
                  trajectory_initial=trajectory_values(self.net.weights[0], self.trajectory_positions))
        try:
            # One BLAS thread: the pool shares the products (see ``train``).
            with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"), \
                    threadpool_limits(limits=1, user_api="blas"):
                for epoch in range(1, self.config.epochs + 1):
                    epoch_clock = _Clock()
                    last = self._evaluate(epoch, self._train_epoch(epoch), epoch_clock)
                return self._done(last)
        except _RunEnded as ended:
            return ended.event
        finally:
            self.pool.close()

    def _train_epoch(self, epoch: int) -> _EpochTotals:
        """The steps of one epoch and their sums; raises ``_RunEnded`` if cancelled or diverged."""
        config = self.config
        order = self.order_rng.permutation(len(self.y_train))
        totals = _EpochTotals()
        for batch in range(1, self.batches + 1):
            if self.should_stop():
                raise _RunEnded(self.emit(CancelledEvent, reason="cancelled by request", epoch=epoch, step=self.step,
                                          seconds=self.clock.elapsed()))
            idx = order[(batch - 1) * config.batch_size : batch * config.batch_size]
            yb = self.y_train[idx]
            x = preprocess(self.pixels_train, self.config.dtype, idx, self.batch_buffer)
            data_loss, penalty_value, predicted = self.stepper.step(x, yb)
            loss = data_loss + penalty_value
            self.step += 1
            diverged = not data_loss <= DIVERGENCE_LOSS or not math.isfinite(loss)
            if not diverged:
                totals.add(loss, data_loss, penalty_value, int(np.count_nonzero(predicted == yb)))
            self.emit(BatchEvent, step=self.step, epoch=epoch, batch=batch, loss=loss, data_loss=data_loss,
                      penalty=penalty_value)
            if diverged:
                raise _RunEnded(self.emit(FailedEvent, reason=_divergence_reason(loss, epoch, batch, self.step, config),
                                          epoch=epoch, step=self.step, seconds=self.clock.elapsed()))
        return totals

    def _evaluate(self, epoch: int, totals: _EpochTotals, epoch_clock: "_Clock") -> EpochEvent:
        """Test-set loss and accuracy plus weight statistics: the epoch event; raises ``_RunEnded`` on divergence."""
        train_seconds = epoch_clock.elapsed()
        self.test_logits = self._test_logits()
        test_loss = float(np.mean(cross_entropy_per_example(self.test_logits, self.y_test)))
        if not all(np.isfinite(w).all() for w in self.net.weights) or not math.isfinite(test_loss):
            reason = _divergence_reason(test_loss, epoch, self.batches, self.step, self.config)
            raise _RunEnded(self.emit(FailedEvent, reason=reason, epoch=epoch, step=self.step,
                                      seconds=self.clock.elapsed()))
        self.predicted = self.test_logits.argmax(axis=1)
        batches = totals.batches
        stats = tuple(weight_stats(f"W{i + 1}", w) for i, w in enumerate(self.net.weights))
        test_accuracy = float(np.mean(self.predicted == self.y_test))
        if self.peak is None or test_accuracy > self.peak[0]:
            self.peak = (test_accuracy, epoch)
        return self.emit(EpochEvent, epoch=epoch, step=self.step, train_loss=totals.loss / batches,
                         data_loss=totals.data_loss / batches, penalty=totals.penalty / batches,
                         train_accuracy=totals.correct / len(self.y_train), test_loss=test_loss,
                         test_accuracy=test_accuracy,
                         sparsity=overall_sparsity(self.net.weights), seconds=epoch_clock.elapsed(),
                         train_seconds=train_seconds, weights=stats,
                         trajectory=trajectory_values(self.net.weights[0], self.trajectory_positions))

    def _test_logits(self, chunk: int = 2000) -> np.ndarray:
        """The test set's logits, its chunks shared among the run's threads (the same numbers as one thread)."""
        starts = range(0, len(self.pixels_test), chunk)
        parts: list[np.ndarray] = [np.empty(0)] * len(starts)

        def logits(i: int) -> None:
            parts[i] = self.net.predict_logits(self.pixels_test[starts[i]:starts[i] + chunk], chunk,
                                               prepare=lambda pixels: preprocess(pixels, self.config.dtype))
        self.pool.map(logits, len(starts))
        return np.concatenate(parts) if parts else np.empty((0, N_CLASSES))

    def _done(self, last: EpochEvent) -> Event:
        """The final event: the last epoch's results and what the trained weights show (pruning, priors, ...)."""
        weights = self.net.weights
        w1 = weights[0]
        pixels = w1[:N_FEATURES]  # the image's inputs; noise features (engine.run_data) come after them
        images = first_layer_images(pixels) if w1.shape[0] >= N_FEATURES else np.empty((0, 28, 28), np.float32)
        prepare = functools.partial(preprocess, dtype=self.config.dtype)
        curve = pruning_curve(self.net, self.pixels_test, self.y_test, prepare=prepare, threads=_analysis_threads())
        fine_tuned = self._fine_tuned_curve(prepare)  # before the clock is read: seconds include it
        return self.emit(DoneEvent, epochs=self.config.epochs, steps=self.step, test_accuracy=last.test_accuracy,
                         test_loss=last.test_loss, train_accuracy=last.train_accuracy, train_loss=last.train_loss,
                         sparsity=last.sparsity, l1_norm=sum(w.l1 for w in last.weights),
                         l2_norm=math.sqrt(sum(w.l2**2 for w in last.weights)),
                         dead_units=dead_units(w1) if self.config.hidden else 0,
                         seconds=self.clock.elapsed(),
                         confusion=confusion_matrix(self.y_test, self.predicted, N_CLASSES),
                         first_layer=images, input_importance=tuple(float(v) for v in input_importance(pixels)),
                         dead_inputs=dead_inputs(w1), unit_norms=tuple(float(v) for v in unit_norms(w1)),
                         active_weights=active_weights(weights), pruning=curve.to_dict(),
                         pruning_fine_tuned=fine_tuned, prior_fit=fit_network_priors(weights),
                         peak_test_accuracy=self.peak[0], peak_epoch=self.peak[1])

    def _fine_tuned_curve(self, prepare) -> dict | None:
        """The fine-tuned pruning curve's API object plus its ``steps``, or None when not asked for."""
        if not self.fine_tune_steps:
            return None
        curve = fine_tuned_pruning_curve(self.net, self.config, self.pixels_train, self.y_train, self.pixels_test,
                                         self.y_test, self.fine_tune_rng, self.fine_tune_steps, prepare=prepare)
        return curve.to_dict() | {"steps": self.fine_tune_steps}


def _analysis_threads() -> int:
    """Threads for a finished run's pruning curve: two where this process may use two cores, else one."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(2, cores))


class _Emitter:
    """Numbers events in order and hands them to the sink."""

    def __init__(self, sink: EventSink | None):
        self.sink = sink
        self.seq = 0

    def __call__(self, cls, **values) -> Event:
        event = cls(seq=self.seq, **values)
        self.seq += 1
        if self.sink is not None:
            self.sink(event)
        return event


def _sha256(*arrays: np.ndarray) -> str:
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def _divergence_reason(loss: float, epoch: int, batch: int, step: int, config: RunConfig) -> str:
    if math.isnan(loss):
        what = "became NaN"
    elif math.isinf(loss):
        what = "became infinite"
    else:
        what = f"reached {loss:.4g} (above {DIVERGENCE_LOSS:g}, the point where training has blown up)"
    return (
        f"training diverged: the loss {what} at epoch {epoch}, batch {batch} (step {step}). "
        f"The learning rate {config.lr:g} is probably too high for this setup; try a smaller lr "
        f"(the reference study uses 0.1) or a smaller λ."
    )
