"""The readable optimizer: SGD with and without momentum follows its formula."""
import numpy as np
import pytest

from engine.optimizers import SGD


def test_plain_sgd_moves_each_parameter_against_its_gradient():
    params = [np.array([1.0, -2.0]), np.array([[0.5]])]
    SGD(lr=0.1).step(params, [np.array([10.0, -10.0]), np.array([[2.0]])])
    np.testing.assert_allclose(params[0], [0.0, -1.0])
    np.testing.assert_allclose(params[1], [[0.3]])


@pytest.mark.parametrize("momentum", [0.5, 0.9])
def test_momentum_keeps_each_parameters_previous_update(momentum):
    """``update = momentum·update_prev + lr·grad``; ``param -= update``, each parameter on its own."""
    opt, lr = SGD(lr=0.1, momentum=momentum), 0.1
    w, b = np.array([1.0, 2.0]), np.array([3.0])
    grads = [(np.array([1.0, -1.0]), np.array([4.0])), (np.array([2.0, 0.0]), np.array([-4.0]))]
    update_w, update_b = np.zeros(2), np.zeros(1)
    expected_w, expected_b = w.copy(), b.copy()
    for gw, gb in grads:
        opt.step([w, b], [gw, gb])
        update_w = momentum * update_w + lr * gw
        update_b = momentum * update_b + lr * gb
        expected_w -= update_w
        expected_b -= update_b
        np.testing.assert_allclose(w, expected_w, rtol=1e-14)
        np.testing.assert_allclose(b, expected_b, rtol=1e-14)
    assert repr(opt) == f"SGD(lr=0.1, momentum={momentum:g})"
