"""Finite-difference checks of every analytic gradient of the readable path (float64, random shapes, fixed seeds)."""
import numpy as np
import pytest

from engine.activations import ACTIVATIONS, get_activation
from engine.losses import softmax_cross_entropy
from engine.network import Network
from engine.penalties import L1, L2, ElasticNet, NoPenalty

EPS = 1e-6


def numeric_grad(f, x):
    """Central differences of scalar f with respect to every entry of x (x is perturbed in place)."""
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + EPS
        up = f()
        x[i] = old - EPS
        down = f()
        x[i] = old
        grad[i] = (up - down) / (2 * EPS)
    return grad


def assert_close(analytic, numeric):
    scale = max(1.0, np.abs(numeric).max())
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-7 * scale)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_activation_backward_matches_finite_differences(name, seed):
    rng = np.random.default_rng(seed)
    shape = tuple(rng.integers(1, 6, size=2))
    z = rng.normal(0, 2, size=shape)
    if name == "relu":  # keep away from the kink at 0
        z[np.abs(z) < 1e-3] = 0.5
    upstream = rng.normal(size=shape)
    act = get_activation(name)

    def f():
        return float(np.sum(act.forward(z.copy()) * upstream))

    a = act.forward(z.copy())
    analytic = act.backward(a, upstream.copy())
    assert_close(analytic, numeric_grad(f, z))


def test_sigmoid_is_stable_for_huge_inputs():
    act = get_activation("sigmoid")
    out = act.forward(np.array([-1e4, -50.0, 0.0, 50.0, 1e4]))
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, [0.0, 0.0, 0.5, 1.0, 1.0], atol=1e-20)


@pytest.mark.parametrize("seed", range(4))
def test_softmax_cross_entropy_gradient_is_mean_over_batch(seed):
    rng = np.random.default_rng(seed)
    n, k = rng.integers(1, 8), rng.integers(2, 11)
    logits = rng.normal(0, 3, size=(n, k))
    labels = rng.integers(0, k, size=n)
    _, grad = softmax_cross_entropy(logits.copy(), labels)
    assert_close(grad, numeric_grad(lambda: softmax_cross_entropy(logits, labels)[0], logits))


def test_softmax_cross_entropy_is_stable_for_large_logits():
    logits = np.array([[1000.0, 0.0, -1000.0], [0.0, 0.0, 0.0]])
    loss, grad = softmax_cross_entropy(logits, np.array([0, 2]))
    assert np.isfinite(loss) and np.all(np.isfinite(grad))
    assert loss == pytest.approx(np.log(3) / 2)


PENALTIES = [NoPenalty(), L2(0.3), L1(0.2), ElasticNet(0.1, 0.4)]


@pytest.mark.parametrize("penalty", PENALTIES, ids=repr)
@pytest.mark.parametrize("seed", [0, 1])
def test_penalty_gradient_matches_finite_differences(penalty, seed):
    rng = np.random.default_rng(seed)
    w = rng.normal(size=tuple(rng.integers(1, 7, size=2)))
    w[np.abs(w) < 1e-3] = 0.1  # L1's kink
    grad = penalty.grad(w)
    assert grad.shape == w.shape and grad.dtype == w.dtype
    assert_close(grad, numeric_grad(lambda: penalty.loss(w), w))


@pytest.mark.parametrize("penalty", PENALTIES, ids=repr)
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_network_gradients_of_data_loss_plus_penalty(penalty, activation):
    rng = np.random.default_rng(7)
    n, d, h, k = 5, 6, 4, 3
    net = Network.build((d, h, k), activation, "glorot_normal", rng, np.float64)
    for layer in net.layers:
        layer.b[:] = rng.normal(size=layer.b.shape)
        layer.W[np.abs(layer.W) < 1e-3] = 0.05
    x = rng.normal(size=(n, d))
    labels = rng.integers(0, k, size=n)

    def total_loss():
        logits = net.forward(x, train=False)
        return softmax_cross_entropy(logits, labels)[0] + sum(penalty.loss(w) for w in net.weights)

    data_loss, penalty_value, _ = net.loss_and_grads(x, labels, penalty)
    assert data_loss + penalty_value == pytest.approx(total_loss())
    analytic = [g.copy() for g in net.grads]
    for param, grad in zip(net.params, analytic):
        assert_close(grad, numeric_grad(total_loss, param))



@pytest.mark.parametrize("penalty", PENALTIES, ids=repr)
def test_softmax_regression_gradients_of_data_loss_plus_penalty(penalty):
    """hidden = 0: one affine layer, inputs → logits; the same checks as the two-layer network's."""
    rng = np.random.default_rng(3)
    n, d, k = 5, 6, 3
    net = Network.build((d, k), "sigmoid", "glorot_normal", rng, np.float64)
    assert len(net.layers) == 1 and net.layers[0].activation.name == "identity"
    net.layers[0].b[:] = rng.normal(size=k)
    net.layers[0].W[np.abs(net.layers[0].W) < 1e-3] = 0.05
    x = rng.normal(size=(n, d))
    labels = rng.integers(0, k, size=n)

    def total_loss():
        return softmax_cross_entropy(net.forward(x, train=False), labels)[0] + penalty.loss(net.weights[0])

    data_loss, penalty_value, _ = net.loss_and_grads(x, labels, penalty)
    assert data_loss + penalty_value == pytest.approx(total_loss())
    for param, grad in zip(net.params, [g.copy() for g in net.grads]):
        assert_close(grad, numeric_grad(total_loss, param))
