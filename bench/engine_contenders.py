"""The contenders bench_engine.py times against each other, each in a process of its own: the
engine, the same model in PyTorch, and the floor (the two large matrix products per batch,
nothing else, on BLAS's own threads), all on the reference setup materialised once per process.

Torch and the floor start from the engine's initial weights and follow its batch order, so
they do the same work as the engine; the torch model trains the same trajectory. A process of
its own per contender: PyTorch's OpenMP threads left spinning after its turn made the floor,
timed in the same process, read 0.153 s/epoch where it takes 0.090 s alone.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from engine import EpochEvent, RunConfig, train
from engine.data import load_dataset
from engine.network import Network
from engine.training import N_CLASSES, RandomStreams, preprocess, training_subset


@dataclass(frozen=True)
class Setup:
    """The reference setup, materialised once: training data, initial weights, batch orders."""

    config: RunConfig
    dataset: object
    x: np.ndarray                     # (n, 784) float32, preprocessed
    y: np.ndarray                     # (n,) intp labels
    init_weights: tuple[np.ndarray, ...]   # (W1, W2) exactly as the engine builds them

    def batch_orders(self) -> Callable[[], np.ndarray]:
        """A fresh source of per-epoch permutations, identical to the engine's batch order."""
        order = RandomStreams.from_seed(self.config.seed).order
        return lambda: order.permutation(len(self.y))


def make_setup(dataset_name: str) -> Setup:
    """Load the dataset and reproduce the engine's subset, preprocessing and initial weights."""
    dataset = load_dataset(dataset_name)
    config = RunConfig(dataset=dataset_name)
    streams = RandomStreams.from_seed(config.seed)
    indices = training_subset(dataset, config.train_size, streams.subset)
    x = preprocess(dataset.x_train[indices], config.dtype)
    y = np.asarray(dataset.y_train[indices], dtype=np.intp)
    net = Network.build((x.shape[1], config.hidden, N_CLASSES), config.activation, config.init,
                        streams.init, config.dtype)
    weights = tuple(w.copy() for w in net.weights)
    return Setup(config, dataset, x, y, weights)


class TorchTrainer:
    """The same model in idiomatic PyTorch: Linear → sigmoid → Linear, cross-entropy, SGD."""

    def __init__(self, torch, setup: Setup, penalty: str, lam: float):
        import torch.nn.functional as F
        from torch import nn

        self.torch, self.F = torch, F
        cfg = setup.config
        self.x = torch.from_numpy(setup.x)
        self.y = torch.from_numpy(setup.y.astype(np.int64))
        self.batch_size = cfg.batch_size
        self.fc1 = nn.Linear(setup.x.shape[1], cfg.hidden)
        self.fc2 = nn.Linear(cfg.hidden, N_CLASSES)
        with torch.no_grad():  # torch stores W as (out, in): the engine's W transposed
            for layer, w in zip((self.fc1, self.fc2), setup.init_weights):
                layer.weight.copy_(torch.from_numpy(w.T))
                layer.bias.zero_()
        self.params = [*self.fc1.parameters(), *self.fc2.parameters()]
        self.optimizer = torch.optim.SGD(self.params, lr=cfg.lr)
        self.penalty, self.lam = penalty, lam
        self.next_order = setup.batch_orders()

    def penalty_term(self):
        """The penalty on the weight matrices only (never biases), as a loss term."""
        weights = (self.fc1.weight, self.fc2.weight)
        if self.penalty == "l2":
            return 0.5 * self.lam * sum(w.square().sum() for w in weights)
        if self.penalty == "l1":
            return self.lam * sum(w.abs().sum() for w in weights)
        return None

    def epoch(self) -> float:
        """Train one epoch in the engine's batch order; return the seconds of the loop."""
        torch, F = self.torch, self.F
        perm = torch.from_numpy(self.next_order())
        n, bs = len(perm), self.batch_size
        total = 0.0
        start = time.perf_counter()
        for i in range(0, n, bs):
            idx = perm[i : i + bs]
            xb, yb = self.x[idx], self.y[idx]
            loss = F.cross_entropy(self.fc2(torch.sigmoid(self.fc1(xb))), yb)
            extra = self.penalty_term()
            if extra is not None:
                loss = loss + extra
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            total += loss.item()
        elapsed = time.perf_counter() - start
        if not np.isfinite(total):
            raise RuntimeError("the torch run diverged")
        return elapsed


class MatmulFloor:
    """The two large matrix products per batch, nothing else: X_b @ W1 and X_b.T @ dZ."""

    def __init__(self, setup: Setup):
        self.x = setup.x
        self.w1 = setup.init_weights[0].copy()
        bs, hidden = setup.config.batch_size, setup.config.hidden
        rng = np.random.default_rng(1)
        self.dz = rng.standard_normal((bs, hidden)).astype(self.x.dtype)
        self.z = np.empty((bs, hidden), self.x.dtype)
        self.dw = np.empty_like(self.w1)
        self.batch_size = bs
        self.next_order = setup.batch_orders()

    def epoch(self) -> float:
        """One epoch of batches (shuffled beforehand, untimed); return seconds of the matmuls."""
        xs = self.x[self.next_order()]
        bs = self.batch_size
        start = time.perf_counter()
        for i in range(0, len(xs), bs):
            xb = xs[i : i + bs]
            m = len(xb)
            np.matmul(xb, self.w1, out=self.z[:m])
            np.matmul(xb.T, self.dz[:m], out=self.dw)
        return time.perf_counter() - start


class EngineContender:
    """The engine itself: ``train`` for ``epochs`` epochs; the seconds of each epoch's training steps."""

    def __init__(self, setup: Setup, penalty: str, lam: float, threads: int):
        self.setup, self.penalty, self.lam, self.threads = setup, penalty, lam, threads

    def epochs(self, count: int) -> list[float]:
        seconds: list[float] = []
        config = replace(self.setup.config, penalty=self.penalty, lam=self.lam, epochs=count)
        final = train(config, self.setup.dataset, lambda e: seconds.append(e.train_seconds)
                      if isinstance(e, EpochEvent) else None, threads=self.threads)
        if final.kind != "done":
            raise RuntimeError(f"engine run {config.describe_penalty()} ended {final.kind}")
        return seconds


def serve(conn, kind: str, threads: int, dataset: str) -> None:
    """A contender's process: build it on request and time epochs, one message at a time.

    Requests: ("epochs", penalty, lam, count) → list of seconds; ("info",) → its thread pools;
    None ends it. ``kind`` is engine, torch or floor; ``threads`` its thread count (the engine's
    products, torch.set_num_threads, or the BLAS threads of the floor's products).
    """
    from threadpoolctl import threadpool_info, threadpool_limits

    torch = None
    if kind == "torch":
        import torch
        torch.set_num_threads(threads)
    threadpool_limits(limits=1 if kind == "engine" else threads, user_api="blas")
    setup = make_setup(dataset)
    made: dict = {}
    while (request := conn.recv()) is not None:
        if request[0] == "info":
            extra = {"torch": torch.__version__, "torch_cpu": torch.backends.cpu.get_cpu_capability()} if torch else {}
            conn.send({"pools": threadpool_info(), **extra})
            continue
        _, penalty, lam, count = request
        if kind == "engine":
            conn.send(EngineContender(setup, penalty, lam, threads).epochs(count))
            continue
        key = (penalty, lam)
        if key not in made:
            made[key] = TorchTrainer(torch, setup, penalty, lam) if kind == "torch" else MatmulFloor(setup)
        conn.send([made[key].epoch() for _ in range(count)])
