"""What the trained weights show: input importance, dead inputs, unit norms, active weights."""
import numpy as np

from engine.metrics import SPARSITY_THRESHOLD, active_weights, dead_inputs, input_importance, unit_norms


def w1_example():
    # 4 inputs × 3 hidden units. Input 1 is dead (every |w| below 1e-3, one exactly at -9.99e-4);
    # input 3 has a single weight exactly at the threshold, so it is alive.
    return np.array([
        [0.5, -0.25, 0.0],
        [1e-4, -9.99e-4, 0.0],
        [-2.0, 0.0, 0.75],
        [0.0, 0.0, SPARSITY_THRESHOLD],
    ], dtype=np.float32)


def test_input_importance_sums_outgoing_magnitudes():
    importance = input_importance(w1_example())
    assert importance.shape == (4,) and importance.dtype == np.float64
    np.testing.assert_allclose(importance, [0.75, 1e-4 + 9.99e-4, 2.75, 1e-3], rtol=1e-6)


def test_dead_inputs_need_every_outgoing_weight_below_the_threshold():
    w1 = w1_example()
    assert dead_inputs(w1) == 1
    w1[3, 2] = np.nextafter(np.float32(SPARSITY_THRESHOLD), np.float32(0))  # just below: dead too
    assert dead_inputs(w1) == 2
    assert dead_inputs(np.zeros((784, 5))) == 784 and dead_inputs(np.ones((784, 5))) == 0


def test_unit_norms_are_sorted_largest_first():
    norms = unit_norms(w1_example())
    expected = sorted([np.hypot(0.5, 2.0), np.hypot(0.25, 9.99e-4), np.sqrt(0.75**2 + 1e-6)], reverse=True)
    np.testing.assert_allclose(norms, expected, rtol=1e-6)
    assert norms.shape == (3,)


def test_active_weights_count_at_or_above_the_threshold_over_all_matrices():
    assert active_weights([w1_example()]) == 5  # 0.5, -0.25, -2, 0.75 and the one exactly at 1e-3
    assert active_weights([w1_example(), np.array([[1e-3], [-1e-3], [9e-4]])]) == 7
