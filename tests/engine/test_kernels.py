"""The fast path's kernels against the NumPy they replace: the same numbers, edge cases included."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from engine.activations import Sigmoid
from engine.fast import kernels
from engine.fast.activations import KernelSigmoid, fast_activation
from engine.training import preprocess

FLOATS = (np.float32, np.float64)


def reference_penalty_step(w, decay, l1_step):
    """NumPy: the sums before the step, then ``decay·w − l1_step·sign-bit(w)``."""
    wide = w.astype(np.float64)
    sums = (np.abs(wide).sum(), (wide * wide).sum())
    step = np.where(np.signbit(w), -w.dtype.type(l1_step), w.dtype.type(l1_step))
    return sums, w.dtype.type(decay) * w - step


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("decay, l1_step", [(1.0, 1e-5), (0.999, 1e-5), (0.99, 0.0), (1.0, 1e-42)])
def test_penalty_step_moves_each_weight_exactly_as_numpy_and_sums_before_the_step(dtype, decay, l1_step):
    rng = np.random.default_rng(3)
    w = (rng.standard_normal((97, 31)) * 0.05).astype(dtype)
    w[0, :4] = [0.0, -0.0, 1e-45, -1e-45]
    (sum_abs, sum_sq), expected = reference_penalty_step(w, decay, l1_step)
    got_abs, got_sq = kernels.penalty_step(w, decay, l1_step)
    np.testing.assert_array_equal(w, expected)
    assert got_abs == pytest.approx(sum_abs, rel=1e-5)
    assert got_sq == pytest.approx(sum_sq, rel=1e-5)


def test_penalty_step_moves_signed_zeros_by_their_sign_bit():
    w = np.array([0.0, -0.0, 2.0, -2.0], np.float32)
    kernels.penalty_step(w, 1.0, 0.5)
    np.testing.assert_array_equal(w, [-0.5, 0.5, 1.5, -1.5])


@settings(max_examples=60, deadline=None)
@given(arrays(np.float32, st.tuples(st.integers(1, 40), st.integers(1, 40)),
              elements=st.floats(-4, 4, width=32)), st.floats(0.5, 1.0), st.floats(0.0, 0.01))
def test_penalty_step_matches_numpy_for_any_matrix(w, decay, l1_step):
    (sum_abs, _), expected = reference_penalty_step(w, decay, l1_step)
    got_abs, _ = kernels.penalty_step(w, decay, l1_step)
    np.testing.assert_array_equal(w, expected)
    assert got_abs == pytest.approx(sum_abs, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("dtype", FLOATS)
def test_add_l1_subgradient_adds_the_sign_bits_step_and_returns_the_norm(dtype):
    w = np.array([[-2.5, 0.0], [-0.0, 3e-30]], dtype=dtype)
    grad = np.ones_like(w)
    assert kernels.add_l1_subgradient(grad, w, 0.25) == pytest.approx(2.5 + 3e-30)
    np.testing.assert_array_equal(grad, np.array([[0.75, 1.25], [0.75, 1.25]], dtype=dtype))


def test_penalty_step_keeps_nan_so_a_diverged_run_shows():
    w = np.array([[np.nan, 1.0]], np.float32)
    sum_abs, sum_sq = kernels.penalty_step(w, 1.0, 0.1)
    assert np.isnan(sum_abs) and np.isnan(sum_sq) and np.isnan(w[0, 0])


def reference_cross_entropy(logits, labels, scale):
    wide = logits.astype(np.float64)
    shifted = wide - wide.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = len(labels)
    grad = np.exp(log_p)
    grad[np.arange(n), labels] -= 1.0
    return -log_p[np.arange(n), labels].mean(), grad * scale / n, logits.argmax(axis=1)


@pytest.mark.parametrize("dtype", FLOATS)
def test_cross_entropy_step_gives_numpys_loss_gradient_and_argmax(dtype):
    rng = np.random.default_rng(5)
    logits = (rng.standard_normal((64, 10)) * 3).astype(dtype)
    logits[0, 2] = logits[0, 7] = 50.0  # a tie: the first maximum wins, as in NumPy
    labels = rng.integers(0, 10, 64)
    loss, grad, argmax = reference_cross_entropy(logits, labels, 0.1)
    predicted = np.empty(64, np.intp)
    got = kernels.softmax_cross_entropy_step(logits, labels, 0.1, predicted)
    assert got == pytest.approx(loss, rel=1e-6)
    np.testing.assert_allclose(logits, grad, rtol=1e-5, atol=1e-8)
    np.testing.assert_array_equal(predicted, argmax)


def test_cross_entropy_step_stays_finite_for_huge_logits_and_nan_for_nan():
    predicted = np.empty(2, np.intp)
    huge = np.array([[1e30, 0.0], [0.0, -1e30]], np.float32)
    assert np.isfinite(kernels.softmax_cross_entropy_step(huge, np.array([0, 0]), 1.0, predicted))
    bad = np.array([[np.nan, 0.0], [0.0, 1.0]], np.float32)
    assert np.isnan(kernels.softmax_cross_entropy_step(bad, np.array([0, 1]), 1.0, predicted))


def test_cross_entropy_step_refuses_a_label_outside_the_classes():
    with pytest.raises(ValueError, match="outside"):
        kernels.softmax_cross_entropy_step(np.zeros((2, 3), np.float32), np.array([0, 3]), 1.0, np.empty(2, np.intp))


@pytest.mark.parametrize("dtype", FLOATS)
def test_kernel_sigmoid_rounds_exactly_as_the_readable_one(dtype):
    """Evaluation uses the readable sigmoid, training the kernels: a run's numbers must not depend on which."""
    rng = np.random.default_rng(7)
    z = (rng.standard_normal((16, 9)) * 4).astype(dtype)
    z[0, :3] = [-1e4, 0.0, 1e4]
    readable, fast = Sigmoid(), fast_activation(Sigmoid())
    assert isinstance(fast, KernelSigmoid)
    a = fast.forward(z.copy())
    np.testing.assert_array_equal(a, readable.forward(z.copy()))
    da = rng.standard_normal((16, 9)).astype(dtype)
    np.testing.assert_array_equal(fast.backward(a, da.copy()), readable.backward(a, da.copy()))


def test_subtract_column_sums_is_the_bias_step():
    rng = np.random.default_rng(9)
    dz = rng.standard_normal((64, 200)).astype(np.float32)
    b = rng.standard_normal(200).astype(np.float32)
    expected = b - dz.astype(np.float64).sum(axis=0)
    kernels.subtract_column_sums(b, dz)
    np.testing.assert_allclose(b, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", FLOATS)
def test_preprocess_scales_pixels_exactly_as_the_seed_formula(dtype):
    pixels = np.arange(256 * 3, dtype=np.uint16).astype(np.uint8).reshape(3, 256)
    expected = pixels.astype(dtype)
    expected *= 2.0 / 255.0
    expected -= 1.0
    np.testing.assert_array_equal(preprocess(pixels, dtype), expected)
    assert preprocess(pixels, dtype)[0, 0] == -1.0 and preprocess(pixels, dtype)[0, 255] == 1.0
    buffer = np.full((5, 256), np.nan, dtype)
    batch = preprocess(pixels, dtype, rows=np.array([2, 0]), out=buffer)
    assert batch.shape == (2, 256) and np.shares_memory(batch, buffer)
    np.testing.assert_array_equal(batch, expected[[2, 0]])


def test_kernels_import_and_run_where_numba_has_nowhere_to_cache(tmp_path):
    """A read-only install run by a user without a home: the cache next to the kernels and the
    user-wide one both fail (a file stands where each directory would be made). The engine must
    still import and compute, compiling in memory, and say why it is slower to start."""
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    package = tmp_path / "engine"
    shutil.copytree(Path(kernels.__file__).parent.parent, package, ignore=shutil.ignore_patterns("__pycache__"))
    (package / "fast" / "__pycache__").write_text("not a directory")
    blocked = tmp_path / "no-home"
    blocked.write_text("not a directory")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env.update(HOME=str(blocked), XDG_CACHE_HOME=str(blocked), PYTHONDONTWRITEBYTECODE="1", PYTHONPATH=str(tmp_path))
    code = ("import numpy as np; from engine.fast import kernels; w = np.array([1.0, -1.0, 0.0], np.float32); "
            "print(kernels.penalty_step(w, 1.0, 0.5), w.tolist(), kernels.__file__)")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-1] == str(package / "fast" / "kernels.py")  # the copy, not the repository's engine
    assert "(2.0, 2.0) [0.5, -0.5, -0.5]" in out.stdout
    assert "NUMBA_CACHE_DIR" in out.stderr  # the warning says how to get the cache back
