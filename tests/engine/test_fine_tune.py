"""Pruning curves after a fine-tune with the masks held: zeros stay zero, lost accuracy comes back."""
import numpy as np
import pytest

from engine import RunConfig, train
from engine.fine_tune import fine_tune_batches, fine_tuned, fine_tuned_pruning_curve
from engine.pruning import PRUNING_FRACTIONS, keep_masks, pruning_curve
from engine.training import _Emitter, _Run, preprocess

CONFIG = RunConfig(dataset="synthetic", train_size=600, epochs=8, batch_size=50, hidden=32, lr=0.5, penalty="l1",
                   lam=1e-4)


@pytest.fixture(scope="module")
def trained(tiny_data):
    run = _Run(CONFIG, tiny_data, _Emitter(None), lambda: False)
    run.execute()
    return run


def prepare(pixels):
    return preprocess(pixels, "float32")


def test_pruned_weights_stay_zero_and_the_rest_learn(trained):
    masks = keep_masks(trained.net.weights, 0.9)
    before = [w.copy() for w in trained.net.weights]
    batches = fine_tune_batches(len(trained.y_train), 30, 50, np.random.default_rng(0))
    tuned = fine_tuned(trained.net, masks, CONFIG, trained.pixels_train, trained.y_train, batches, prepare)
    for w, mask, original, now in zip(tuned.weights, masks, before, trained.net.weights):
        assert np.all(w[~mask] == 0)  # held at zero through 30 steps of L1 (which pushes zeros off 0)
        assert np.any(w[mask] != original[mask])  # the kept weights moved
        np.testing.assert_array_equal(now, original)  # the run's network is not touched


def test_batches_are_shuffled_passes():
    batches = fine_tune_batches(10, 7, 3, np.random.default_rng(0))
    assert len(batches) == 7 and all(len(b) == 3 for b in batches)
    first_pass = np.concatenate(batches)[:10]
    assert sorted(first_pass) == list(range(10))


def test_fine_tuning_wins_back_what_pruning_cost(trained, tiny_data):
    args = (trained.net, tiny_data.x_test, trained.y_test)
    fractions = (0.0, 0.9, 0.99)
    plain = pruning_curve(*args, fractions, prepare=prepare)
    tuned = fine_tuned_pruning_curve(trained.net, CONFIG, trained.pixels_train, trained.y_train, tiny_data.x_test,
                                     trained.y_test, np.random.default_rng(1), steps=60, fractions=fractions,
                                     prepare=prepare)
    assert tuned.fractions == fractions
    assert tuned.accuracy_global[2] > plain.accuracy_global[2] + 0.1  # 99 % of the weights gone
    again = fine_tuned_pruning_curve(trained.net, CONFIG, trained.pixels_train, trained.y_train, tiny_data.x_test,
                                     trained.y_test, np.random.default_rng(1), steps=60, fractions=fractions,
                                     prepare=prepare)
    assert again == tuned


@pytest.mark.parametrize("steps", [0, -1, 10_001, 2.5, True])
def test_bad_step_counts_are_refused_by_name(trained, tiny_data, steps):
    with pytest.raises(ValueError, match="^steps:"):
        fine_tuned_pruning_curve(trained.net, CONFIG, trained.pixels_train, trained.y_train, tiny_data.x_test,
                                 trained.y_test, np.random.default_rng(0), steps=steps)
    with pytest.raises(ValueError, match="^fine_tune_steps:"):
        train(CONFIG, tiny_data, fine_tune_steps=steps if steps != 0 else -5)


def test_a_run_reports_the_fine_tuned_curve_only_when_asked(tiny_data):
    config = RunConfig(dataset="synthetic", train_size=200, epochs=1, batch_size=50, hidden=8, lr=0.5)
    assert train(config, tiny_data).pruning_fine_tuned is None
    done = train(config, tiny_data, fine_tune_steps=5)
    tuned = done.pruning_fine_tuned
    assert tuned["steps"] == 5 and tuned["fractions"] == list(PRUNING_FRACTIONS)
    assert set(tuned) == {"fractions", "accuracy", "prunable_fraction", "steps"}
    assert done.pruning["accuracy"]["global"][0] == done.test_accuracy  # the plain curve is unchanged by it


def test_the_config_asks_for_the_fine_tuned_curve(tiny_data):
    config = RunConfig(dataset="synthetic", train_size=200, epochs=1, batch_size=50, hidden=8, lr=0.5,
                       prune_fine_tune_steps=5)
    done = train(config, tiny_data)
    assert done.pruning_fine_tuned == train(config, tiny_data, fine_tune_steps=5).pruning_fine_tuned
    assert done.pruning_fine_tuned["steps"] == 5
    assert train(config, tiny_data, fine_tune_steps=0).pruning_fine_tuned is None  # an explicit count wins
