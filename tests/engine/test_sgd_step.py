"""The fused SGD step (backward and update in one pass) equals backward + penalty + SGD.step."""
import numpy as np
import pytest

from engine import blas
from engine.blas import gemm_tn
from engine.network import Network
from engine.optimizers import SGD
from engine.penalties import L1, L2, ElasticNet, NoPenalty

PENALTIES = [NoPenalty(), L1(0.05), L2(0.3), ElasticNet(0.05, 0.3)]


def two_identical_nets(dtype, hidden=5):
    rng = np.random.default_rng(11)
    nets = [Network.build((7, hidden, 3), "sigmoid", "glorot_uniform", np.random.default_rng(4), dtype)
            for _ in range(2)]
    x = rng.normal(size=(6, 7)).astype(dtype)
    labels = rng.integers(0, 3, size=6)
    for net in nets:
        for layer in net.layers:
            layer.b[:] = np.linspace(-0.5, 0.5, layer.b.size)
    return nets, x, labels


@pytest.mark.parametrize("penalty", PENALTIES, ids=repr)
@pytest.mark.parametrize("hidden", [5, 4000], ids=["numpy-sized", "blas-sized"])
def test_fused_step_equals_gradients_then_sgd(penalty, hidden):
    (fused, reference), x, labels = two_identical_nets(np.float64, hidden)
    lr = 0.5
    data_ref, pen_ref, logits = reference.loss_and_grads(x, labels, penalty, scale=lr)
    SGD(lr).step(reference.params, reference.grads)

    data_loss, grad, predicted = fused.forward_loss(x, labels, scale=lr)
    pen = fused.backward_step(grad, penalty, lr)

    assert data_loss == pytest.approx(data_ref, rel=1e-12)
    assert pen == pytest.approx(pen_ref, rel=1e-10)
    np.testing.assert_array_equal(predicted, logits.argmax(axis=1))
    for after, expected in zip(fused.params, reference.params):
        np.testing.assert_allclose(after, expected, rtol=1e-10, atol=1e-12)
    assert any(not np.allclose(a, b) for a, b in zip(fused.params, two_identical_nets(np.float64, hidden)[0][0].params))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("use_blas", [True, False], ids=["blas", "numpy"])
def test_gemm_tn_accumulates_into_its_output(dtype, use_blas):
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(64, 300)).astype(dtype), rng.normal(size=(64, 100)).astype(dtype)
    c = rng.normal(size=(300, 100)).astype(dtype)
    expected = 0.9 * c.astype(np.float64) - 0.5 * (a.T.astype(np.float64) @ b)
    gemm_tn(-0.5, a, b, 0.9, c, use_blas=use_blas)
    np.testing.assert_allclose(c, expected, rtol=1e-4 if dtype == np.float32 else 1e-12, atol=1e-4)


def test_gemm_tn_binds_numpys_blas_for_both_float_types():
    # NumPy's wheels bundle OpenBLAS with cblas_?gemm: if this fails, the engine silently
    # fell back to the slower NumPy path (still correct) and the binding needs a look.
    assert blas.has_fast_gemm(np.float32) and blas.has_fast_gemm(np.float64)


def test_gemm_tn_refuses_mismatched_operands():
    with pytest.raises(ValueError, match="do not fit"):
        gemm_tn(1.0, np.ones((3, 2)), np.ones((4, 5)), 1.0, np.ones((2, 5)))
    with pytest.raises(ValueError, match="do not fit"):
        gemm_tn(1.0, np.ones((3, 2), np.float32), np.ones((3, 5)), 1.0, np.ones((2, 5)))


@pytest.mark.parametrize("lam", [1e-40, 1e-34], ids=["underflows to 0", "subnormal step"])
def test_l1_step_below_the_dtypes_normal_range_still_reports_the_value(lam):
    w = np.array([[0.5, -1.5]], dtype=np.float32)
    value, decay = L1(lam).prepare_step(w, 1e-5, np.empty_like(w))
    np.testing.assert_array_equal(w, [[0.5, -1.5]])  # a step this small does not move these weights
    assert decay == 1.0 and value == pytest.approx(2 * lam, rel=1e-6)
