"""Pruning curves: exact accuracies on a hand-made network, ties, the prunable fraction, fast = readable."""
import json

import numpy as np
import pytest

from engine.activations import get_activation
from engine.layers import Dense
from engine.network import Network
from engine.pruning import (
    PRUNING_FRACTIONS,
    keep_masks,
    magnitude_order,
    prunable_fraction,
    pruned_count,
    pruning_curve,
)
from engine.training import preprocess


def hand_made(dtype="float64"):
    """3 inputs → 2 identity hidden units → 2 classes, and 5 examples whose fate is worked out below.

    W1 = [[4, 0], [0, 3], [0.5, -0.2]], so h0 = 4·x0 + 0.5·x2 and h1 = 3·x1 − 0.2·x2; W2 = I and
    b2 = (0, 0.1), so the logits are (h0, h1 + 0.1) and all-zero hidden units vote class 1.
    W1 loses its weights in the order 0 (0,1), 0 (1,0), 0.2, 0.5, 3, 4. Counting correct
    examples after k of them are gone:

    ============  =====  =====  =====  =====  ========
    x, label      k ≤ 3  k = 4  k = 5  k = 6  note
    ============  =====  =====  =====  =====  ========
    (0, 0, 10) 0  ✓      ✗      ✗      ✗      the 0.5 carries it
    (0, 0,−10) 1  ✓      ✓      ✓      ✓
    (1, 1, 0)  0  ✓      ✓      ✓      ✗      4 vs 3
    (½, 1, 0)  1  ✓      ✓      ✗      ✓      2 vs 3
    (1, 0, 0)  1  ✗      ✗      ✗      ✓      right only once empty
    correct       4      3      2      3
    ============  =====  =====  =====  =====  ========
    """
    w1 = np.array([[4.0, 0.0], [0.0, 3.0], [0.5, -0.2]], dtype)
    w2 = np.eye(2, dtype=dtype)
    net = Network([Dense(w1, np.zeros(2, dtype), get_activation("identity")),
                   Dense(w2, np.array([0.0, 0.1], dtype), get_activation("identity"))])
    x = np.array([[0, 0, 10], [0, 0, -10], [1, 1, 0], [0.5, 1, 0], [1, 0, 0]], dtype)
    return net, x, np.array([0, 1, 0, 1, 1])


# PRUNING_FRACTIONS of W1's 6 weights: round(6p) = 0 1 1 2 2 3 4 4 5 5 6 6 6.
FIRST_LAYER = [0.8] * 6 + [0.6, 0.6, 0.4, 0.4, 0.6, 0.6, 0.6]
# Of all 10 weights (W1's 6, then W2 = I's 4): round(10p) = 0..9, 10, 10, 10. The zeros go first
# (W1's two, then W2's two: k ≤ 4 changes nothing), then 0.2 (k = 5), 0.5 (k = 6: 3 correct), then
# W2's ones: k = 7 removes class 0's logit (all vote 1: 3 correct), k ≥ 8 leaves only the biases (3).
GLOBAL = [0.8] * 6 + [0.6] * 7


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("readable", [True, False])
def test_hand_made_network_gives_the_worked_out_accuracies(dtype, readable):
    net, x, labels = hand_made(dtype)
    before = [p.copy() for p in net.params]
    curve = pruning_curve(net, x, labels, readable=readable)
    assert curve.fractions == PRUNING_FRACTIONS
    assert curve.accuracy_first_layer == tuple(FIRST_LAYER)
    assert curve.accuracy_global == tuple(GLOBAL)
    # within one point of 0.8 on 5 examples means no loss at all: the last 0.8 is at p = 0.5
    assert curve.prunable_fraction_first_layer == 0.5 and curve.prunable_fraction_global == 0.5
    for p, q in zip(before, net.params):  # the network itself is untouched
        np.testing.assert_array_equal(p, q)


def test_pruning_everything_leaves_the_biases():
    net, x, labels = hand_made()
    curve = pruning_curve(net, x, labels, fractions=(0.0, 1.0))
    # every weight zero: logits are b2 = (0, 0.1), so every example is called class 1
    assert curve.accuracy_global == (0.8, 0.6) and curve.accuracy_first_layer == (0.8, 0.6)


def test_to_dict_is_the_api_object():
    net, x, labels = hand_made()
    d = pruning_curve(net, x, labels).to_dict()
    assert d == json.loads(json.dumps(d))
    assert set(d) == {"fractions", "accuracy", "prunable_fraction"}
    assert d["fractions"] == list(PRUNING_FRACTIONS)
    assert d["accuracy"] == {"global": GLOBAL, "first_layer": FIRST_LAYER}
    assert d["prunable_fraction"] == {"global": 0.5, "first_layer": 0.5}


def test_ties_are_pruned_in_order_of_position():
    w1 = np.array([[1.0, -1.0], [1.0, 0.5]])
    w2 = np.array([[-1.0], [0.5]])
    # |w| = 1 1 1 .5 | 1 .5 : the two 0.5s first (W1's before W2's), then the ones by position
    np.testing.assert_array_equal(magnitude_order([w1, w2]), [3, 5, 0, 1, 2, 4])
    keep1, keep2 = keep_masks([w1, w2], 0.5)  # round(0.5 · 6) = 3 pruned
    np.testing.assert_array_equal(keep1, [[False, True], [True, False]])
    np.testing.assert_array_equal(keep2, [[True], [False]])
    (only,) = keep_masks([w1], 0.5)  # round(2) of W1 alone: its 0.5, then (0, 0)
    np.testing.assert_array_equal(only, [[False, True], [True, False]])


def test_ties_give_the_same_curve_on_both_paths():
    rng = np.random.default_rng(3)
    # weights on a coarse grid: many exact ties in |w|, and some exact zeros
    w1 = rng.integers(-3, 4, (6, 5)).astype(np.float64) / 4
    w2 = rng.integers(-3, 4, (5, 3)).astype(np.float64) / 4
    net = Network([Dense(w1, rng.normal(size=5), get_activation("tanh")),
                   Dense(w2, rng.normal(size=3), get_activation("identity"))])
    x = rng.normal(size=(300, 6))
    labels = rng.integers(0, 3, 300)
    fractions = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)
    assert pruning_curve(net, x, labels, fractions, readable=True) == pruning_curve(net, x, labels, fractions)


def test_pruned_count_rounds_halves_up():
    assert [pruned_count(p, 10) for p in (0.0, 0.04, 0.05, 0.5, 0.95, 0.99, 1.0)] == [0, 0, 1, 5, 10, 10, 10]
    assert pruned_count(0.5, 5) == 3 and pruned_count(0.3, 5) == 2 and pruned_count(0.1, 156_800) == 15_680


def test_prunable_fraction_is_the_largest_within_one_point():
    fractions = (0.0, 0.5, 0.9, 0.99)
    assert prunable_fraction(fractions, [1000, 995, 989, 500], 1000) == 0.5  # 0.9 loses 1.1 points
    assert prunable_fraction(fractions, [1000, 995, 990, 500], 1000) == 0.9  # exactly 1 point is within
    assert prunable_fraction(fractions, [1000, 980, 995, 400], 1000) == 0.9  # the largest, past a dip
    assert prunable_fraction(fractions, [1000, 1002, 1001, 999], 1000) == 0.99  # gains are within too
    assert prunable_fraction(fractions, [300, 290, 297, 0], 300) == 0.9  # 0.01·300 = 3 examples


@pytest.mark.parametrize("fractions", [(), (0.1, 0.5), (0.0, 0.5, 0.5), (0.0, 0.7, 0.3), (0.0, 1.5)])
def test_bad_fractions_are_refused(fractions):
    net, x, labels = hand_made()
    with pytest.raises(ValueError, match="fractions"):
        pruning_curve(net, x, labels, fractions)


def test_fast_path_matches_readable_on_a_trained_network(tiny_data):
    """Raw pixels prepared chunk by chunk, more than one chunk, two threads: the same accuracies."""
    from engine import RunConfig
    from engine.training import _Run, _Emitter

    config = RunConfig(dataset="synthetic", train_size=600, epochs=8, batch_size=50, hidden=32, lr=0.5, penalty="l1",
                       lam=1e-4)
    run = _Run(config, tiny_data, _Emitter(None), lambda: False)
    run.execute()
    pixels = np.concatenate([tiny_data.x_test] * 12)  # 2400 examples: two chunks of the fast path
    labels = np.concatenate([tiny_data.y_test] * 12).astype(np.intp)
    prepare = lambda p: preprocess(p, "float32")  # noqa: E731
    fast = pruning_curve(run.net, pixels, labels, prepare=prepare, threads=2)
    slow = pruning_curve(run.net, pixels, labels, prepare=prepare, readable=True)
    assert fast == slow
    assert fast.accuracy_global[0] > 0.5  # a network that learned something, so pruning has something to lose
