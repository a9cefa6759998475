"""The contract between the two paths: the fused step gives the weights of gradients-then-``SGD.step``.

``Network.loss_and_grads`` + ``SGD.step`` (the readable path) is the specification;
``engine.fast`` (what a run uses) must reach the same weights up to rounding, step by
step and over a whole run, for every penalty, both dtypes, and products small enough
for NumPy and large enough for the BLAS binding.
"""
import numpy as np
import pytest

from engine import RunConfig, train
from engine.fast import FusedMomentum, FusedSGD, blas
from engine.fast.blas import gemm_tn
from engine.fast.penalty_steps import STEP_SHARES
from engine.network import Network
from engine.penalties import L1, L2, ElasticNet, NoPenalty
from engine.stepping import ReadableStepper, make_stepper

PENALTIES = [NoPenalty(), L1(0.05), L2(0.3), ElasticNet(0.05, 0.3)]
# Relative agreement the two paths keep: they sum in different orders and scale by lr at
# different points, so they differ by rounding only.
RTOL = {np.float32: 2e-5, np.float64: 1e-10}


def two_identical_nets(dtype, hidden):
    sizes = (7, hidden, 3) if hidden else (7, 3)  # hidden 0: softmax regression, one layer
    nets = [Network.build(sizes, "sigmoid", "glorot_uniform", np.random.default_rng(4), dtype)
            for _ in range(2)]
    for net in nets:
        for layer in net.layers:
            layer.b[:] = np.linspace(-0.5, 0.5, layer.b.size)
    return nets


def batches(dtype, count=3):
    rng = np.random.default_rng(11)
    return [(rng.normal(size=(6, 7)).astype(dtype), rng.integers(0, 3, size=6)) for _ in range(count)]


def config_for(penalty, momentum):
    lam, lam_l2 = {"none": (0.0, 0.0), "l1": (0.05, 0.0), "l2": (0.3, 0.0), "elastic": (0.05, 0.3)}[penalty.name]
    return RunConfig(penalty=penalty.name, lam=lam, lam_l2=lam_l2, lr=0.5, momentum=momentum)


@pytest.mark.parametrize("momentum", [0.0, 0.9], ids=["sgd", "momentum"])
@pytest.mark.parametrize("penalty", PENALTIES, ids=repr)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("hidden", [5, 4000, 0], ids=["numpy-sized", "blas-sized", "no-hidden-layer"])
def test_fused_steps_equal_gradients_then_sgd_step(momentum, penalty, dtype, hidden):
    fused_net, readable_net = two_identical_nets(dtype, hidden)
    config = config_for(penalty, momentum)
    fused = make_stepper(config, fused_net, penalty)
    readable = make_stepper(config, readable_net, penalty, readable=True)
    assert isinstance(fused, FusedMomentum if momentum else FusedSGD) and isinstance(readable, ReadableStepper)
    rtol = RTOL[dtype]
    for x, labels in batches(dtype):  # several steps: momentum's velocity takes part from the second
        data_fused, pen_fused, predicted = fused.step(x.copy(), labels)
        data_ref, pen_ref, predicted_ref = readable.step(x.copy(), labels)
        assert data_fused == pytest.approx(data_ref, rel=rtol)
        assert pen_fused == pytest.approx(pen_ref, rel=rtol)
        np.testing.assert_array_equal(predicted, predicted_ref)
        for after, expected in zip(fused_net.params, readable_net.params):
            assert after.dtype == dtype
            np.testing.assert_allclose(after, expected, rtol=rtol, atol=rtol / 10)
    start = two_identical_nets(dtype, hidden)[0]
    assert all(not np.allclose(a, b) for a, b in zip(fused_net.params, start.params))  # every parameter moved


@pytest.mark.parametrize("config", [
    RunConfig(dataset="synthetic", train_size=600, epochs=2, batch_size=50, hidden=16, lr=0.5, penalty="elastic",
              lam=1e-3, lam_l2=1e-2, dtype="float64"),
    RunConfig(dataset="synthetic", train_size=600, epochs=2, batch_size=50, hidden=16, lr=0.5, penalty="l1",
              lam=1e-3),
    RunConfig(dataset="synthetic", train_size=600, epochs=2, batch_size=50, hidden=16, lr=0.05, momentum=0.9,
              penalty="l2", lam=1e-2, activation="relu"),
    # large enough for engine/fast/products.py to split the products among threads
    RunConfig(dataset="synthetic", train_size=576, epochs=1, batch_size=64, hidden=200, lr=0.1, penalty="l1",
              lam=1e-4),
    RunConfig(dataset="synthetic", train_size=600, epochs=2, batch_size=50, hidden=0, lr=0.02, penalty="l1",
              lam=1e-3, noise_features=40),
], ids=["elastic-float64", "l1-float32", "l2-momentum-relu", "l1-split-products", "softmax-regression-noise"])
def test_a_whole_run_gives_the_same_weights_and_accuracy_both_ways(tiny_data, config):
    runs = {}
    for readable in (False, True):
        events = []
        final = train(config, tiny_data, events.append, readable=readable)
        assert final.kind == "done"
        runs[readable] = events
    rtol = RTOL[np.dtype(config.dtype).type] * 10  # rounding differences grow a little over 24 steps
    for fused, readable in zip(runs[False], runs[True], strict=True):
        assert fused.kind == readable.kind
        if fused.kind == "batch":
            assert (fused.data_loss, fused.penalty) == pytest.approx((readable.data_loss, readable.penalty), rel=rtol)
        if fused.kind in ("epoch", "done"):
            assert fused.test_accuracy == readable.test_accuracy and fused.train_accuracy == readable.train_accuracy
            assert fused.test_loss == pytest.approx(readable.test_loss, rel=rtol)
        if fused.kind == "epoch":
            for w_fused, w_readable in zip(fused.weights, readable.weights):
                assert (w_fused.l1, w_fused.l2) == pytest.approx((w_readable.l1, w_readable.l2), rel=rtol)
    final_fused, final_readable = runs[False][-1], runs[True][-1]
    np.testing.assert_allclose(final_fused.first_layer, final_readable.first_layer, rtol=rtol, atol=rtol / 10)
    assert final_fused.confusion == final_readable.confusion


def test_readable_runs_on_its_own_path(tiny_data, monkeypatch):
    """The readable run really takes gradients then ``SGD.step`` (else the whole-run test compares a path with itself)."""
    from engine.optimizers import SGD

    calls = []
    original = SGD.step
    monkeypatch.setattr(SGD, "step", lambda self, params, grads: calls.append(1) or original(self, params, grads))
    config = RunConfig(dataset="synthetic", train_size=100, epochs=1, batch_size=50, hidden=4)
    train(config, tiny_data, readable=True)
    assert len(calls) == 2
    train(config, tiny_data)
    assert len(calls) == 2


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
    value, decay = STEP_SHARES["l1"](L1(lam), w, 1e-5)
    np.testing.assert_array_equal(w, [[0.5, -1.5]])  # a step this small does not move these weights
    assert decay == 1.0 and value == pytest.approx(2 * lam, rel=1e-6)
