"""How this machine's cores are divided among the runs that train at once.

A run's threads share its large products (engine/fast/products.py), so a run alone may use
every core, and k runs together each get a group of the cores of their own: never more
threads in all than cores, whatever k is. ``divide`` is the rule, and nothing else decides
it; the process executor applies it whenever a run starts or ends.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class Share:
    """One run's part of the machine: how many threads its products use, and the cores its
    process is kept to (empty: anywhere, as the OS likes)."""

    threads: int
    cores: tuple[int, ...] = ()


def usable_cores() -> list[int]:
    """The cores this process may run on (all of them where the platform cannot say)."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def divide(cores: Sequence[int], runs: int, pin: bool = True) -> list[Share]:
    """The shares of ``runs`` runs training at once on ``cores``, in the order the runs started.

    Each run gets a contiguous group of the cores, the groups as equal as can be (the
    earlier runs get the extra ones), and as many threads as its group has cores. More runs
    than cores: one thread each, kept nowhere (the OS shares the cores out). Without
    ``pin`` the groups only set the thread counts.
    """
    if runs <= 0:
        return []
    if runs > len(cores):
        return [Share(1) for _ in range(runs)]
    ordered = sorted(cores, reverse=True)  # the highest-numbered first: core 0 takes most interrupts
    bounds = [len(ordered) * i // runs for i in range(runs + 1)]
    # earlier runs take the larger groups: sizes in descending order
    sizes = sorted((bounds[i + 1] - bounds[i] for i in range(runs)), reverse=True)
    shares, start = [], 0
    for size in sizes:
        group = tuple(sorted(ordered[start:start + size]))
        shares.append(Share(size, group if pin else ()))
        start += size
    return shares


def run_cores(cores: Sequence[int], workers: int) -> list[int]:
    """The cores runs may use when at most ``workers`` train at once: all of them, or the
    highest-numbered ``workers`` when there are fewer workers than cores (the rest are left
    to the server's own threads)."""
    ordered = sorted(cores)
    if 0 < workers < len(ordered):
        return ordered[-workers:]
    return ordered
