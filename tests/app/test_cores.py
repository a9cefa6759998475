"""How the cores are divided among the runs in flight (app/cores.py): the one rule, never oversubscribed."""
import pytest

from app.cores import Share, divide, run_cores


@pytest.mark.parametrize("cores, runs, expected", [
    ([0, 1], 1, [Share(2, (0, 1))]),
    ([0, 1], 2, [Share(1, (1,)), Share(1, (0,))]),  # the highest-numbered core first
    ([0, 1], 3, [Share(1), Share(1), Share(1)]),  # more runs than cores: one thread each, anywhere
    ([0, 1, 2, 3], 3, [Share(2, (2, 3)), Share(1, (1,)), Share(1, (0,))]),  # the earlier run gets the extra core
    ([0, 1, 2, 3, 4, 5, 6, 7], 3, [Share(3, (5, 6, 7)), Share(3, (2, 3, 4)), Share(2, (0, 1))]),
    ([3], 1, [Share(1, (3,))]),
    ([0, 1], 0, []),
])
def test_divide_gives_each_run_a_group_of_cores_of_its_own(cores, runs, expected):
    assert divide(cores, runs) == expected


@pytest.mark.parametrize("count", range(1, 9))
def test_no_division_is_ever_oversubscribed_or_leaves_a_core_idle(count):
    cores = list(range(count))
    for runs in range(1, 2 * count + 1):
        shares = divide(cores, runs)
        assert len(shares) == runs and all(s.threads >= 1 for s in shares)
        if runs <= count:
            assert sum(s.threads for s in shares) == count  # every core used, none twice
            assert sorted(c for s in shares for c in s.cores) == cores
            assert all(len(s.cores) == s.threads for s in shares)
        else:
            assert all(s == Share(1) for s in shares)


def test_without_pinning_only_the_thread_counts_are_divided():
    assert divide([0, 1, 2, 3], 2, pin=False) == [Share(2), Share(2)]


def test_fewer_workers_than_cores_leave_the_lowest_cores_to_the_server():
    assert run_cores([0, 1, 2, 3], 1) == [3] and run_cores([0, 1, 2, 3], 2) == [2, 3]
    assert run_cores([0, 1], 2) == [0, 1] and run_cores([0, 1], 5) == [0, 1]
