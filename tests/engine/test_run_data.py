"""The settings recipes added to a run: no hidden layer, noise features, the first images, the validation split.

Each is checked where it acts (the arrays a run trains on, the network, what the done event
says) and for the promise it makes: noise that depends on the seed and k only, splits that
never share an image, and earlier runs' numbers unchanged.
"""
from dataclasses import replace

import numpy as np
import pytest

from engine import ConfigError, RunConfig, event_to_dict, train
from engine.data.synthetic import synthetic_dataset
from engine.events import event_from_dict
from engine.pruning import pruning_curve
from engine.run_data import VALIDATION_START, run_data, with_noise
from engine.training import RandomStreams, _Emitter, _Run, preprocess

SOFTMAX = RunConfig(dataset="synthetic", train_size=300, epochs=3, batch_size=50, hidden=0, lr=0.02)


@pytest.fixture(scope="module")
def full_split():
    """MNIST's shape of split: 60 000 training images (the validation split needs them), a small test set."""
    return synthetic_dataset(n_train=60_000, n_test=200, seed=1)


def data_for(config, dataset):
    streams = RandomStreams.from_seed(config.seed)
    return run_data(dataset, config.train_size, config.subset, config.test_split, config.noise_features,
                    streams.subset, streams.noise)


def test_noise_depends_on_the_seed_and_k_only(tiny_data):
    base = replace(SOFTMAX, noise_features=30)
    plain = data_for(base, tiny_data)
    for other in (replace(base, penalty="l1", lam=1e-3), replace(base, penalty="l2", lam=0.5, lr=0.1, epochs=9)):
        again = data_for(other, tiny_data)
        np.testing.assert_array_equal(again.x_train, plain.x_train)
        np.testing.assert_array_equal(again.x_test, plain.x_test)
    np.testing.assert_array_equal(plain.x_train[:, :784], tiny_data.x_train[plain.indices])  # pixels first, unchanged
    np.testing.assert_array_equal(plain.x_test[:, :784], tiny_data.x_test)
    assert plain.x_train.shape == (300, 814) and plain.x_train.dtype == np.uint8
    reseeded = data_for(replace(base, seed=1), tiny_data)
    assert not np.array_equal(reseeded.x_test[:, 784:], plain.x_test[:, 784:])
    # The test set's noise does not depend on the training set's size.
    np.testing.assert_array_equal(data_for(replace(base, train_size=500), tiny_data).x_test, plain.x_test)


def test_noise_is_uniform_bytes_and_row_i_never_depends_on_n():
    rng = lambda: np.random.default_rng(7)  # noqa: E731
    pixels = np.zeros((2500, 784), np.uint8)
    long, short = with_noise(pixels, 40, rng()), with_noise(pixels[:1200], 40, rng())
    np.testing.assert_array_equal(long[:1200], short)
    noise = long[:, 784:].astype(float)
    assert noise.min() == 0 and noise.max() == 255 and abs(noise.mean() - 127.5) < 2
    assert with_noise(pixels, 0, rng()) is pixels


def test_existing_runs_keep_their_streams():
    """The noise stream is a new child after the others: the first five are those runs always had."""
    seed_sequence = np.random.SeedSequence(11)
    old = [np.random.default_rng(s) for s in seed_sequence.spawn(5)]
    new = RandomStreams.from_seed(11)
    for before, now in zip(old, (new.subset, new.init, new.order, new.trajectory, new.fine_tune)):
        np.testing.assert_array_equal(before.integers(0, 2**32, 8), now.integers(0, 2**32, 8))


def test_subset_first_takes_the_first_images_for_every_seed(tiny_data):
    config = replace(SOFTMAX, subset="first", train_size=120)
    for seed in (0, 5):
        data = data_for(replace(config, seed=seed), tiny_data)
        np.testing.assert_array_equal(data.indices, np.arange(120))
        np.testing.assert_array_equal(data.x_train, tiny_data.x_train[:120])
    assert not np.array_equal(data_for(replace(config, subset="random"), tiny_data).indices, np.arange(120))


def test_validation_split_holds_out_images_50000_to_59999(full_split):
    config = replace(SOFTMAX, test_split="validation", train_size=49_000, batch_size=100)
    data = data_for(config, full_split)
    np.testing.assert_array_equal(data.x_test, full_split.x_train[VALIDATION_START:])
    np.testing.assert_array_equal(data.y_test, full_split.y_train[VALIDATION_START:])
    assert data.indices.max() < VALIDATION_START  # training never draws a validation image
    first = data_for(replace(config, subset="first"), full_split)
    np.testing.assert_array_equal(first.indices, np.arange(49_000))


def test_validation_split_needs_sixty_thousand_training_images(tiny_data):
    with pytest.raises(ValueError, match="test_split: validation needs the 60000 training images"):
        data_for(replace(SOFTMAX, test_split="validation"), tiny_data)


def test_new_settings_are_validated_naming_the_field():
    cases = [({"hidden": -1}, "hidden", "from 0 to 4096"),
             ({"noise_features": 10_001}, "noise_features", "from 0 to 10000"),
             ({"subset": "last"}, "subset", "must be one of random, first"),
             ({"test_split": "train"}, "test_split", "must be one of test, validation"),
             ({"test_split": "validation", "train_size": 50_001}, "train_size", "at most 50,000 with test_split"),
             ({"train_size": 25_000, "noise_features": 10_000}, "noise_features", r"train_size × \(784 \+ noise_features\)")]
    for values, field, message in cases:
        with pytest.raises(ConfigError, match=message) as info:
            RunConfig.from_dict(values)
        assert info.value.field == field
    assert RunConfig(train_size=20_000, noise_features=10_000, hidden=0).noise_features == 10_000


def test_a_softmax_regression_reports_its_one_layer(tiny_data):
    config = replace(SOFTMAX, penalty="l1", lam=1e-3, noise_features=50)
    events = []
    final = train(config, tiny_data, events.append)
    assert final.kind == "done"
    start = events[0]
    assert start.n_params == (784 + 50) * 10 + 10
    epoch = [e for e in events if e.kind == "epoch"][-1]
    assert [w.name for w in epoch.weights] == ["W1"] and epoch.weights[0].shape == (834, 10)
    w1 = np.asarray(final.first_layer, np.float64).reshape(10, 784).T  # the class templates: W1's pixel rows
    assert final.first_layer.shape == (10, 28, 28)
    np.testing.assert_allclose(final.input_importance, np.abs(w1).sum(axis=1), rtol=1e-6)  # pixels only
    assert len(final.input_importance) == 784 and len(final.unit_norms) == 10 and final.dead_units == 0
    pruning = final.pruning
    assert pruning["accuracy"]["global"] == pruning["accuracy"]["first_layer"]  # the first layer is all of them
    assert all(0 <= i < 834 and 0 <= j < 10 for i, j in start.trajectory_positions)


def test_the_pruning_paths_agree_without_a_hidden_layer(tiny_data):
    run = _Run(replace(SOFTMAX, penalty="l1", lam=1e-3, epochs=4), tiny_data, _Emitter(None), lambda: False)
    run.execute()
    prepare = lambda p: preprocess(p, "float32")  # noqa: E731
    pixels, labels = np.concatenate([tiny_data.x_test] * 12), np.concatenate([tiny_data.y_test] * 12).astype(np.intp)
    fast = pruning_curve(run.net, pixels, labels, prepare=prepare, threads=2)
    assert fast == pruning_curve(run.net, pixels, labels, prepare=prepare, readable=True)
    assert fast.accuracy_global[0] > 0.3


def test_peak_is_the_best_epoch_and_survives_a_round_trip(tiny_data):
    events = []
    final = train(replace(SOFTMAX, epochs=4, lr=0.2), tiny_data, events.append)
    accuracies = [e.test_accuracy for e in events if e.kind == "epoch"]
    assert final.peak_test_accuracy == max(accuracies)
    assert final.peak_epoch == accuracies.index(max(accuracies)) + 1  # the first epoch that reached it
    data = event_to_dict(final)
    assert event_from_dict(data).peak_epoch == final.peak_epoch
    older = {k: v for k, v in data.items() if k not in ("peak_test_accuracy", "peak_epoch")}
    assert event_from_dict(older).peak_test_accuracy is None  # a done event stored before peaks were kept
