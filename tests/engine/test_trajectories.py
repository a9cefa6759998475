"""Weight trajectories: the sample is the seed's, shared by paired runs; earlier streams are unchanged."""
from dataclasses import replace

import numpy as np
import pytest

from engine import RunConfig, train
from engine.trajectories import TRAJECTORY_SIZE, trajectory_positions, trajectory_values
from engine.training import RandomStreams

BASE = RunConfig(dataset="synthetic", train_size=600, epochs=2, batch_size=50, hidden=16, lr=0.5)


def events_of(config, data):
    events = []
    train(config, data, events.append)
    return events


def test_paired_runs_follow_the_same_weights_from_the_same_values(tiny_data):
    plain = events_of(BASE, tiny_data)
    l1 = events_of(replace(BASE, penalty="l1", lam=1e-2), tiny_data)
    other_seed = events_of(replace(BASE, seed=1), tiny_data)
    start = plain[0]
    assert len(start.trajectory_positions) == TRAJECTORY_SIZE == len(set(start.trajectory_positions))
    assert start.trajectory_positions == l1[0].trajectory_positions != other_seed[0].trajectory_positions
    assert start.trajectory_initial == l1[0].trajectory_initial
    epochs = [e for e in plain if e.kind == "epoch"]
    l1_epochs = [e for e in l1 if e.kind == "epoch"]
    assert all(len(e.trajectory) == TRAJECTORY_SIZE for e in epochs)
    assert epochs[-1].trajectory != l1_epochs[-1].trajectory  # the same weights, moved differently by λ


def test_epoch_trajectory_is_w1_at_the_positions(tiny_data):
    events = events_of(BASE, tiny_data)
    start, last_epoch, done = events[0], [e for e in events if e.kind == "epoch"][-1], events[-1]
    # first_layer[j] is unit j's incoming weights as a 28×28 image: W1[i, j] = first_layer[j].flat[i]
    w1 = done.first_layer.reshape(done.first_layer.shape[0], -1).T
    assert last_epoch.trajectory == tuple(float(w1[i, j]) for i, j in start.trajectory_positions)
    assert all(0 <= i < 784 and 0 <= j < 16 for i, j in start.trajectory_positions)
    assert list(start.trajectory_positions) == sorted(start.trajectory_positions)


def test_a_matrix_smaller_than_the_sample_gives_all_of_it():
    positions = trajectory_positions(np.random.default_rng(0), (3, 5))
    assert positions == tuple((i, j) for i in range(3) for j in range(5))
    w = np.arange(15.0).reshape(3, 5)
    assert trajectory_values(w, positions) == tuple(range(15))
    assert trajectory_values(w, ()) == ()


@pytest.mark.parametrize("seed", [0, 7, 2**32 - 1])
def test_the_earlier_streams_are_those_of_a_three_way_split(seed):
    """Adding the trajectory stream must not move any existing run's subset, weights or batch order."""
    before = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3)]  # the split before
    streams = RandomStreams.from_seed(seed)
    for old, new in zip(before, (streams.subset, streams.init, streams.order)):
        np.testing.assert_array_equal(old.integers(0, 2**62, 64), new.integers(0, 2**62, 64))
    fresh = RandomStreams.from_seed(seed)
    assert not np.array_equal(fresh.trajectory.integers(0, 2**62, 64), fresh.subset.integers(0, 2**62, 64))
