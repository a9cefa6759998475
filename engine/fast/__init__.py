"""The fused training step: the readable step's numbers in fewer calls and passes over memory.

``Network.loss_and_grads`` followed by ``SGD.step`` is the specification; read it first.
On the study's batches most of what it costs beyond the two large matrix products is
NumPy's per-call overhead and the extra passes over the weights (a gradient array, a
penalty pass, an update pass). This package removes them:

* ``steppers``: ``FusedSGD`` (the step inside the backward pass) and ``FusedMomentum``;
* ``penalty_steps``: each penalty's share of the step, one function per kind;
* ``activations``: the sigmoid as compiled loops;
* ``kernels``: the numba-compiled loops (also the batch scaling ``training.preprocess`` uses);
* ``blas``: ``W ← β·W + α·xᵀ·dz`` as one call of the BLAS NumPy loaded.

Nothing else in the engine imports kernels or BLAS; ``engine.stepping.make_stepper``
is the one place that chooses this path, and tests/engine/test_sgd_step.py holds it to
the readable one's weights.
"""
from .steppers import FusedMomentum, FusedSGD

__all__ = ["FusedMomentum", "FusedSGD"]
