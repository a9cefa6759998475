"""Penalties act on weight matrices only, and the reported loss is data loss + penalty."""
import numpy as np
import pytest

from engine.network import Network
from engine.penalties import L1, L2, ElasticNet, NoPenalty, make_penalty


def small_net(seed=0):
    rng = np.random.default_rng(seed)
    return Network.build((8, 5, 3), "sigmoid", "glorot_uniform", rng, np.float64), rng


@pytest.mark.parametrize("penalty", [L1(0.5), L2(0.5), ElasticNet(0.5, 0.5)], ids=repr)
def test_penalty_never_touches_biases(penalty):
    net, rng = small_net()
    for layer in net.layers:
        layer.b[:] = 3.0  # a bias this large would carry a big penalty gradient if it were penalised
    x, y = rng.normal(size=(4, 8)), rng.integers(0, 3, size=4)
    net.loss_and_grads(x, y, NoPenalty())
    bias_grads_plain = [layer.db.copy() for layer in net.layers]
    weight_grads_plain = [layer.dW.copy() for layer in net.layers]
    net.loss_and_grads(x, y, penalty)
    for layer, plain in zip(net.layers, bias_grads_plain):
        np.testing.assert_array_equal(layer.db, plain)
    for layer, plain in zip(net.layers, weight_grads_plain):
        assert not np.allclose(layer.dW, plain)


def test_penalty_value_counts_weights_only():
    net, _ = small_net()
    for layer in net.layers:
        layer.b[:] = 100.0
    weights_sq = sum(float(np.sum(w**2)) for w in net.weights)
    weights_abs = sum(float(np.sum(np.abs(w))) for w in net.weights)
    total = lambda penalty: sum(penalty.loss(w) for w in net.weights)
    assert total(L2(0.2)) == pytest.approx(0.5 * 0.2 * weights_sq)
    assert total(L1(0.2)) == pytest.approx(0.2 * weights_abs)
    assert total(ElasticNet(0.2, 0.3)) == pytest.approx(0.2 * weights_abs + 0.15 * weights_sq)


def test_reported_loss_is_data_plus_penalty():
    net, rng = small_net(1)
    x, y = rng.normal(size=(6, 8)), rng.integers(0, 3, size=6)
    data_plain, pen_plain, _ = net.loss_and_grads(x, y, NoPenalty())
    data, pen, _ = net.loss_and_grads(x, y, L2(0.01))
    assert pen_plain == 0.0
    assert data == pytest.approx(data_plain)
    assert pen == pytest.approx(sum(L2(0.01).loss(w) for w in net.weights)) and pen > 0


def test_zero_lambda_is_inactive_and_unknown_name_is_refused():
    assert not L1(0.0).active and not NoPenalty().active and L2(1e-5).active
    with pytest.raises(ValueError, match="choose one of none, l1, l2, elastic"):
        make_penalty("l3", 0.1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_l1_subgradient_takes_the_sign_bit_so_zeros_move_like_other_weights(dtype):
    w = np.array([[0.0, -0.0], [2.0, -3e-30]], dtype)
    grad = L1(0.5).grad(w)
    assert grad.dtype == dtype
    np.testing.assert_array_equal(grad, [[0.5, -0.5], [0.5, -0.5]])
    np.testing.assert_array_equal(ElasticNet(0.5, 2.0).grad(w), grad + 2.0 * w)
