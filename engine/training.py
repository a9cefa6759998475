"""``train``: run one configuration on one dataset and report through events.

The engine knows nothing of threads, storage or transport: it calls
``on_event`` with immutable records and polls ``should_stop`` once per batch
for cooperative cancel. The same config and seed give the same event stream
(up to the measured seconds).
"""
from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .config import RunConfig
from .data import Dataset
from .events import (
    BatchEvent,
    CancelledEvent,
    DoneEvent,
    EpochEvent,
    Event,
    FailedEvent,
    StartEvent,
)
from .losses import cross_entropy_per_example
from .metrics import confusion_matrix, dead_units, first_layer_images, overall_sparsity, weight_stats
from .network import Network
from .optimizers import SGD
from .penalties import make_penalty

EventSink = Callable[[Event], None]
StopCheck = Callable[[], bool]

N_CLASSES = 10
# A mean cross-entropy above this many nats means the network gives the true class
# a probability below e^-100 on average: no learning run gets there, a blown-up one does.
DIVERGENCE_LOSS = 100.0


@dataclass(frozen=True)
class RandomStreams:
    """Independent generators for the data subset, the initial weights and the batch order.

    Split from one seed so that runs differing only in penalty or λ share all three
    (paired comparisons).
    """

    subset: np.random.Generator
    init: np.random.Generator
    order: np.random.Generator

    @classmethod
    def from_seed(cls, seed: int) -> "RandomStreams":
        subset, init, order = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3))
        return cls(subset, init, order)


def preprocess(pixels: np.ndarray, dtype: str) -> np.ndarray:
    """Map uint8 pixels to [-1, 1]: ``(x / 255 - 0.5) * 2`` as in the seed study."""
    x = pixels.astype(dtype)
    x *= 2.0 / 255.0
    x -= 1.0
    return x


def training_subset(dataset: Dataset, size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
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
) -> Event:
    """Train ``config`` on ``dataset``; emit events to ``on_event``; return the final event.

    The final event is a DoneEvent, a FailedEvent (e.g. the loss became NaN or
    infinite: reported at the batch where it happened) or a CancelledEvent.
    """
    emit = _Emitter(on_event)
    clock = _Clock()
    streams = RandomStreams.from_seed(config.seed)
    indices = training_subset(dataset, config.train_size, streams.subset)
    x_train = preprocess(dataset.x_train[indices], config.dtype)
    y_train = np.asarray(dataset.y_train[indices], dtype=np.intp)
    x_test = preprocess(dataset.x_test, config.dtype)
    y_test = np.asarray(dataset.y_test, dtype=np.intp)

    net = Network.build((x_train.shape[1], config.hidden, N_CLASSES), config.activation, config.init, streams.init, config.dtype)
    penalty = make_penalty(config.penalty, config.lam, config.lam_l2)
    optimizer = SGD(config.lr, config.momentum)
    n = len(y_train)
    batches = math.ceil(n / config.batch_size)
    emit(StartEvent, epochs=config.epochs, batches_per_epoch=batches, total_steps=batches * config.epochs,
         train_size=n, test_size=len(y_test), n_params=sum(p.size for p in net.params),
         dataset_checksum=dataset.checksum, subset_checksum=_sha256(indices),
         init_checksum=_sha256(*net.params), numpy_version=np.__version__)

    step = 0
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        for epoch in range(1, config.epochs + 1):
            epoch_clock = _Clock()
            order = streams.order.permutation(n)
            sums = np.zeros(3)
            correct = 0
            for batch in range(1, batches + 1):
                if should_stop is not None and should_stop():
                    return emit(CancelledEvent, reason="cancelled by request", epoch=epoch, step=step,
                                seconds=clock.elapsed())
                idx = order[(batch - 1) * config.batch_size : batch * config.batch_size]
                xb, yb = x_train[idx], y_train[idx]
                data_loss, penalty_value, logits = net.loss_and_grads(xb, yb, penalty, scale=config.lr)
                loss = data_loss + penalty_value
                step += 1
                if not data_loss <= DIVERGENCE_LOSS or not math.isfinite(loss):
                    emit(BatchEvent, step=step, epoch=epoch, batch=batch, loss=loss, data_loss=data_loss,
                         penalty=penalty_value)
                    return emit(FailedEvent, reason=_divergence_reason(loss, epoch, batch, step, config),
                                epoch=epoch, step=step, seconds=clock.elapsed())
                optimizer.step(net.params, net.grads)
                sums += (loss, data_loss, penalty_value)
                correct += int(np.count_nonzero(logits.argmax(axis=1) == yb))
                emit(BatchEvent, step=step, epoch=epoch, batch=batch, loss=loss, data_loss=data_loss,
                     penalty=penalty_value)
            train_seconds = epoch_clock.elapsed()
            test_logits = net.predict_logits(x_test)
            test_loss = float(np.mean(cross_entropy_per_example(test_logits, y_test)))
            if not all(np.isfinite(w).all() for w in net.weights) or not math.isfinite(test_loss):
                return emit(FailedEvent, reason=_divergence_reason(test_loss, epoch, batches, step, config),
                            epoch=epoch, step=step, seconds=clock.elapsed())
            predicted = test_logits.argmax(axis=1)
            means = sums / batches
            last_stats = tuple(weight_stats(f"W{i + 1}", w) for i, w in enumerate(net.weights))
            emit(EpochEvent, epoch=epoch, step=step, train_loss=float(means[0]), data_loss=float(means[1]),
                 penalty=float(means[2]), train_accuracy=correct / n, test_loss=test_loss,
                 test_accuracy=float(np.mean(predicted == y_test)), sparsity=overall_sparsity(net.weights),
                 seconds=epoch_clock.elapsed(), train_seconds=train_seconds, weights=last_stats)

    w1 = net.weights[0]
    return emit(DoneEvent, epochs=config.epochs, steps=step, test_accuracy=float(np.mean(predicted == y_test)),
                test_loss=test_loss, train_accuracy=correct / n, train_loss=float(means[0]),
                sparsity=overall_sparsity(net.weights), l1_norm=sum(w.l1 for w in last_stats),
                l2_norm=math.sqrt(sum(w.l2**2 for w in last_stats)), dead_units=dead_units(w1), seconds=clock.elapsed(),
                confusion=confusion_matrix(y_test, predicted, N_CLASSES),
                first_layer=first_layer_images(w1) if w1.shape[0] == 784 else np.empty((0, 28, 28), np.float32))


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
        f"(the seed study uses 0.1) or a smaller λ."
    )
