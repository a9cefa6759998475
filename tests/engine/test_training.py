"""train(): events, determinism, cancel, divergence and learning on synthetic data."""
from dataclasses import replace

import numpy as np
import pytest

from engine import RunConfig, event_to_dict, train
from engine.events import FINAL_KINDS

BASE = RunConfig(dataset="synthetic", train_size=600, epochs=2, batch_size=50, hidden=16, lr=0.5)


def collect(config, data, should_stop=None):
    events = []
    final = train(config, data, events.append, should_stop)
    return events, final


def test_event_stream_shape(tiny_data):
    events, final = collect(BASE, tiny_data)
    kinds = [e.kind for e in events]
    assert kinds[0] == "start" and kinds[-1] == "done" and final is events[-1]
    assert [e.seq for e in events] == list(range(len(events)))
    assert kinds.count("batch") == 2 * 12 and kinds.count("epoch") == 2
    batches = [e for e in events if e.kind == "batch"]
    assert [b.step for b in batches] == list(range(1, 25))
    for b in batches:
        assert b.loss == pytest.approx(b.data_loss + b.penalty)
    epoch = [e for e in events if e.kind == "epoch"][-1]
    assert [w.name for w in epoch.weights] == ["W1", "W2"]
    assert epoch.weights[0].shape == (784, 16) and sum(epoch.weights[0].histogram) == 784 * 16
    assert 0 <= epoch.sparsity <= 1 and epoch.train_seconds <= epoch.seconds
    assert len(final.confusion) == 10 and sum(map(sum, final.confusion)) == 200
    assert final.first_layer.shape == (16, 28, 28) and not final.first_layer.flags.writeable


def test_epoch_means_match_batches(tiny_data):
    config = replace(BASE, penalty="l2", lam=0.01)
    events, _ = collect(config, tiny_data)
    batches = [e for e in events if e.kind == "batch" and e.epoch == 1]
    epoch = next(e for e in events if e.kind == "epoch")
    assert epoch.train_loss == pytest.approx(np.mean([b.loss for b in batches]))
    assert epoch.penalty == pytest.approx(np.mean([b.penalty for b in batches]))
    assert epoch.penalty > 0


def strip_times(events):
    out = []
    for e in events:
        d = event_to_dict(e)
        for key in ("seconds", "train_seconds"):
            d.pop(key, None)
        out.append(d)
    return out


@pytest.mark.parametrize("penalty, lam", [("none", 0.0), ("l1", 1e-3), ("l2", 1e-2)])
def test_same_config_and_seed_give_the_same_stream(tiny_data, penalty, lam):
    config = replace(BASE, penalty=penalty, lam=lam)
    a, _ = collect(config, tiny_data)
    b, _ = collect(config, tiny_data)
    assert strip_times(a) == strip_times(b)
    c, _ = collect(replace(config, seed=1), tiny_data)
    assert strip_times(a) != strip_times(c)


def test_cancel_is_polled_every_batch(tiny_data):
    polls = []

    def stop_after_five():
        polls.append(1)
        return len(polls) > 5

    events, final = collect(BASE, tiny_data, stop_after_five)
    assert final.kind == "cancelled" and final.step == 5
    assert [e.kind for e in events].count("batch") == 5


def test_divergence_fails_at_the_first_non_finite_loss(tiny_data):
    config = replace(BASE, lr=1000.0, activation="relu", epochs=3)
    events, final = collect(config, tiny_data)
    assert final.kind == "failed"
    assert "diverged" in final.reason and "learning rate 1000" in final.reason
    last_batch = [e for e in events if e.kind == "batch"][-1]
    assert not last_batch.data_loss <= 100 and last_batch.step == final.step
    assert all(e.data_loss <= 100 for e in events if e.kind == "batch" and e is not last_batch)


def test_nan_and_inf_serialize_explicitly():
    from engine.events import BatchEvent

    event = BatchEvent(seq=1, step=1, epoch=1, batch=1, loss=float("nan"), data_loss=float("inf"), penalty=float("-inf"))
    d = event_to_dict(event)
    assert (d["loss"], d["data_loss"], d["penalty"]) == ("NaN", "Infinity", "-Infinity")


def test_learns_synthetic_data_well():
    from engine.data import synthetic_dataset

    data = synthetic_dataset(n_train=3000, n_test=1000, seed=1)
    config = RunConfig(dataset="synthetic", train_size=3000, epochs=8, hidden=64, lr=0.5)
    _, final = collect(config, data)
    assert final.kind == "done"
    assert final.test_accuracy > 0.85


def test_l1_makes_weights_sparse_and_l2_shrinks_norms(tiny_data):
    config = replace(BASE, epochs=3)
    plain = collect(config, tiny_data)[0]
    l1 = collect(replace(config, penalty="l1", lam=3e-3), tiny_data)[0]
    l2 = collect(replace(config, penalty="l2", lam=0.3), tiny_data)[0]
    last = lambda events: [e for e in events if e.kind == "epoch"][-1]
    assert last(l1).sparsity > 2 * last(plain).sparsity
    assert last(l2).weights[0].l2 < last(plain).weights[0].l2


def test_train_size_larger_than_dataset_is_refused(tiny_data):
    with pytest.raises(ValueError, match="train_size 2000 is larger than the 600 training examples"):
        train(replace(BASE, train_size=2000), tiny_data)


def test_every_run_ends_with_exactly_one_final_event(tiny_data):
    events, final = collect(BASE, tiny_data)
    assert sum(e.kind in FINAL_KINDS for e in events) == 1
    assert event_to_dict(final)["event"] == "done"


def test_runs_differing_only_in_lambda_are_paired(tiny_data):
    """Same seed: same data subset, same initial weights, same batch order; only λ differs."""
    plain, _ = collect(BASE, tiny_data)
    l2, _ = collect(replace(BASE, penalty="l2", lam=0.05), tiny_data)
    other_seed, _ = collect(replace(BASE, seed=3), tiny_data)
    start = lambda events: events[0]
    assert start(plain).init_checksum == start(l2).init_checksum != start(other_seed).init_checksum
    assert start(plain).subset_checksum == start(l2).subset_checksum != start(other_seed).subset_checksum
    first = lambda events: next(e for e in events if e.kind == "batch")
    # the same first batch through the same initial weights: equal data loss, λ adds only the penalty
    assert first(plain).data_loss == first(l2).data_loss and first(l2).penalty > 0


def test_batch_order_depends_on_the_seed_only():
    from engine.training import RandomStreams

    a, b = RandomStreams.from_seed(5), RandomStreams.from_seed(5)
    a.init.standard_normal(1000)  # drawing weights must not move the batch order
    np.testing.assert_array_equal(a.order.permutation(100), b.order.permutation(100))


def test_events_round_trip_through_dicts(tiny_data):
    import json

    from engine.events import event_from_dict

    events, _ = collect(BASE, tiny_data)
    for event in events:
        back = event_from_dict(json.loads(json.dumps(event_to_dict(event))))
        assert type(back) is type(event)
        if event.kind == "done":
            np.testing.assert_array_equal(back.first_layer, event.first_layer)
            assert back.confusion == event.confusion
        else:
            assert back == event


def test_done_event_carries_what_the_weights_show(tiny_data):
    import json

    from engine.pruning import PRUNING_FRACTIONS

    _, final = collect(replace(BASE, penalty="l1", lam=1e-3), tiny_data)
    w1 = final.first_layer.reshape(16, -1).T.astype(np.float64)  # (784, 16): W1 back from its images
    np.testing.assert_allclose(final.input_importance, np.abs(w1).sum(axis=1), rtol=1e-6)
    assert len(final.input_importance) == 784 and final.dead_inputs == int(np.all(np.abs(w1) < 1e-3, axis=1).sum())
    np.testing.assert_allclose(final.unit_norms, sorted(np.linalg.norm(w1, axis=0), reverse=True), rtol=1e-6)
    assert int(np.count_nonzero(np.abs(w1) >= 1e-3)) <= final.active_weights <= 784 * 16 + 16 * 10
    pruning = final.pruning
    assert pruning["fractions"] == list(PRUNING_FRACTIONS)
    # nothing pruned is the run itself
    assert pruning["accuracy"]["global"][0] == pruning["accuracy"]["first_layer"][0] == final.test_accuracy
    assert len(pruning["accuracy"]["global"]) == len(PRUNING_FRACTIONS)
    assert set(final.prior_fit) == {"W1", "W2", "all"} and final.prior_fit["W1"]["n"] == 784 * 16
    record = event_to_dict(final)
    record.pop("first_layer")
    assert len(json.dumps(record, allow_nan=False)) < 60_000  # small enough to store and send with every run
