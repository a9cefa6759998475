"""The fast paths: the readable engine's numbers in fewer calls and passes over memory.

``Network.loss_and_grads`` followed by ``SGD.step`` is the specification; read it first.
On the study's batches most of what it costs beyond the two large matrix products is
NumPy's per-call overhead and the extra passes over the weights (a gradient array, a
penalty pass, an update pass). This package removes them:

* ``steppers``: ``FusedSGD`` (the step inside the backward pass) and ``FusedMomentum``;
* ``penalty_steps``: each penalty's share of the step, one function per kind;
* ``activations``: the sigmoid as compiled loops;
* ``kernels``: the numba-compiled loops (also the batch scaling ``training.preprocess`` uses);
* ``blas``: ``W ← β·W + α·xᵀ·dz`` as one call of the BLAS NumPy loaded;
* ``pruning``: a finished run's pruning curve in about one product's work instead of 26
  (``engine.pruning`` is its specification).

Nothing else in the engine imports kernels or BLAS; ``engine.stepping.make_stepper``
is the one place that chooses this path for training, and tests/engine/test_sgd_step.py
holds it to the readable one's weights (``engine.pruning.pruning_curve`` chooses the
pruning path; tests/engine/test_pruning.py holds the two to the same accuracies).
"""
from .steppers import FusedMomentum, FusedSGD

__all__ = ["FusedMomentum", "FusedSGD"]
