"""The fused training steps: ``loss_and_grads`` + ``SGD.step`` in fewer calls and passes.

Both steppers share one forward: the layers' products, the compiled activations, and
the cross-entropy, its gradient (already times ``lr``) and each row's predicted class
in one kernel call that overwrites the logits. Multiplying the small (n, 10) logits
gradient by ``lr`` makes every gradient below it a step, without a pass over any weight.

* ``FusedSGD`` (plain SGD) takes each layer's step inside the backward pass: the penalty's
  share (``penalty_steps.STEP_SHARES``), then ``W ← decay·W − xᵀ·dz`` as one BLAS call and
  ``b ← b − Σ dz`` as one kernel call. No gradient array exists.
* ``FusedMomentum`` needs the gradients for its velocity, so it backpropagates into
  buffers, adds the penalty with a compiled pass (``penalty_steps.GRADIENT_ADDERS``) and
  then moves every parameter by its velocity.

Each returns what ``engine.stepping.Stepper`` promises and equals the readable step up to
rounding (tests/engine/test_sgd_step.py).
"""
from __future__ import annotations

import numpy as np

from ..losses import DIVERGENCE_LOSS
from ..network import Network
from ..penalties import Penalty
from .activations import fast_activation
from .kernels import softmax_cross_entropy_step, subtract_column_sums
from .penalty_steps import GRADIENT_ADDERS, STEP_SHARES
from .products import ProductPool, matmul_into, step_into


class _FusedStepper:
    """Base of the fused steppers: the shared forward, keeping each layer's input and output for the backward."""

    def __init__(self, network: Network, penalty: Penalty, lr: float, pool: ProductPool | None = None):
        self.layers = network.layers
        self.activations = [fast_activation(layer.activation) for layer in self.layers]
        self.penalty = penalty
        self.lr = float(lr)
        self.pool = pool or ProductPool()
        self.inputs: list[np.ndarray | None] = [None] * len(self.layers)
        self.outputs: list[np.ndarray | None] = [None] * len(self.layers)
        self._z = [np.empty((0, layer.W.shape[1]), layer.W.dtype) for layer in self.layers]

    def _forward_loss(self, x: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """``(data_loss, lr·dloss/dlogits (n, classes), predicted classes (n,))`` of the batch ``x``."""
        for i, (layer, activation) in enumerate(zip(self.layers, self.activations)):
            z = matmul_into(self.pool, x, layer.W, self._buffer(i, len(x)))
            z += layer.b
            self.inputs[i], self.outputs[i] = x, activation.forward(z)
            x = self.outputs[i]
        predicted = np.empty(len(labels), np.intp)
        data_loss = softmax_cross_entropy_step(x, labels, self.lr, predicted)  # x becomes the gradient
        return data_loss, x, predicted

    def _buffer(self, i: int, rows: int) -> np.ndarray:
        """Layer ``i``'s pre-activation for ``rows`` rows: one buffer reused from batch to batch."""
        if len(self._z[i]) < rows:
            self._z[i] = np.empty((rows, self._z[i].shape[1]), self._z[i].dtype)
        return self._z[i][:rows]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr:g}, {self.penalty!r})"


class FusedSGD(_FusedStepper):
    """Plain SGD with each layer's step taken inside the backward pass."""

    def __init__(self, network: Network, penalty: Penalty, lr: float, pool: ProductPool | None = None):
        super().__init__(network, penalty, lr, pool)
        self.step_share = STEP_SHARES[penalty.name]

    def step(self, x: np.ndarray, labels: np.ndarray) -> tuple[float, float, np.ndarray]:
        """One step on the batch; ``(data_loss, penalty, predicted)`` measured before it."""
        data_loss, grad, predicted = self._forward_loss(x, labels)
        if not data_loss <= DIVERGENCE_LOSS:  # a blown-up run ends at this batch: no step from it
            return data_loss, sum(self.penalty.loss(layer.W) for layer in self.layers), predicted
        return data_loss, self._backward_step(grad), predicted

    def _backward_step(self, grad: np.ndarray) -> float:
        """Backpropagate ``grad`` (``lr·dL/dlogits``) and step every layer; return the penalty before the step."""
        penalty_value = 0.0
        for i in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[i]
            dz = self.activations[i].backward(self.outputs[i], grad)
            grad = dz @ layer.W.T if i > 0 else None  # with W from before its step
            value, decay = self.step_share(self.penalty, layer.W, self.lr)
            step_into(self.pool, -1.0, self.inputs[i], dz, decay, layer.W)
            subtract_column_sums(layer.b, dz)
            penalty_value += value
        return penalty_value


class FusedMomentum(_FusedStepper):
    """SGD with momentum: ``v ← momentum·v + lr·g``; ``p ← p − v``, from compiled gradients."""

    def __init__(self, network: Network, penalty: Penalty, lr: float, momentum: float,
                 pool: ProductPool | None = None):
        super().__init__(network, penalty, lr, pool)
        self.momentum = float(momentum)
        self.add_penalty = GRADIENT_ADDERS[penalty.name]
        self.params = network.params
        self.steps = [np.zeros_like(p) for p in self.params]  # lr·g, in the order of params: dW1, db1, ...
        self.velocity = [np.zeros_like(p) for p in self.params]
        self.scratch = [np.empty_like(layer.W) for layer in self.layers]

    def step(self, x: np.ndarray, labels: np.ndarray) -> tuple[float, float, np.ndarray]:
        """One step on the batch; ``(data_loss, penalty, predicted)`` measured before it."""
        data_loss, grad, predicted = self._forward_loss(x, labels)
        penalty_value = self._steps(grad)
        if data_loss <= DIVERGENCE_LOSS:  # a blown-up run ends at this batch: no step from it
            for param, step, velocity in zip(self.params, self.steps, self.velocity):
                velocity *= self.momentum
                velocity += step
                param -= velocity
        return data_loss, penalty_value, predicted

    def _steps(self, grad: np.ndarray) -> float:
        """Fill ``self.steps`` with ``lr·∇(data_loss + penalty)``; return the penalty."""
        for i in range(len(self.layers) - 1, -1, -1):
            dz = self.activations[i].backward(self.outputs[i], grad)
            step_into(self.pool, 1.0, self.inputs[i], dz, 0.0, self.steps[2 * i])
            np.sum(dz, axis=0, out=self.steps[2 * i + 1])
            grad = dz @ self.layers[i].W.T if i > 0 else None
        penalty_value = 0.0
        if self.penalty.active:
            for i, layer in enumerate(self.layers):
                penalty_value += self.add_penalty(self.penalty, layer.W, self.steps[2 * i], self.lr, self.scratch[i])
        return penalty_value

    def __repr__(self) -> str:
        return f"FusedMomentum(lr={self.lr:g}, momentum={self.momentum:g}, {self.penalty!r})"
