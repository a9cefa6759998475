"""What the trained weights show: input importance, dead inputs, unit norms, active weights, |w| on log bins."""
from dataclasses import fields

import numpy as np

from engine.events import EpochEvent, event_from_dict, event_to_dict
from engine.metrics import (LOG_HIST_EDGES, SPARSITY_THRESHOLD, active_weights, dead_inputs, input_importance,
                            unit_norms, weight_stats)


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



def test_the_log_histogram_of_abs_w_tells_weights_below_the_threshold_apart():
    w = np.array([[0.0, -1e-9, 5e-6], [-5e-6, 2e-4, -0.3], [0.5, 3.0, -1e-3]], dtype=np.float32)
    stats = weight_stats("W1", w)
    counts = np.array(stats.log_histogram)
    assert len(counts) == len(LOG_HIST_EDGES) - 1 == 32 and counts.sum() == w.size
    bin_of = lambda v: int(np.searchsorted(LOG_HIST_EDGES, v, side="right")) - 1  # noqa: E731
    assert counts[0] == 2  # the exact zero and |w| < 1e-8
    assert counts[bin_of(5e-6)] == 2 and counts[bin_of(2e-4)] == 1  # below the threshold, each in its own bin
    assert counts[-1] == 1  # |w| = 3 goes to the last bin, [10^-0.25, 1]
    assert bin_of(2e-4) < bin_of(SPARSITY_THRESHOLD) < bin_of(0.3)


def test_the_log_histogram_travels_in_the_epoch_event():
    stats = weight_stats("W1", np.full((3, 2), 1e-4, dtype=np.float32))
    event = EpochEvent(**{**{f.name: 0 for f in fields(EpochEvent)}, "weights": (stats,), "trajectory": ()})
    data = event_to_dict(event)
    assert data["weights"][0]["log_histogram"] == list(stats.log_histogram)
    assert event_from_dict(data).weights[0] == stats
    del data["weights"][0]["log_histogram"]  # as stored before it existed
    assert event_from_dict(data).weights[0].log_histogram == ()
