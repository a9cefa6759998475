"""``normlab data``, ``train`` and ``compare``: obtain data and train runs in this process, printing as they go.

The command line is the only place the engine's events are printed.
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from dataclasses import replace
from typing import Any, Callable

from engine import RunConfig, event_to_dict, train
from engine.data import Dataset, load_dataset
from engine.events import BatchEvent, DoneEvent, EpochEvent, Event, StartEvent
from engine.formats import fmt_percent
from engine.training import warm_up

from .cli_flags import add_data_flags, add_training_flags, config_from_args
from .console import EpochPrinter, ProgressBar, format_table
from .cores import usable_cores

# The reference study's three settings (README, "normlab compare").
SEED_STUDY = (("none", 0.0), ("l2", 0.01), ("l1", 1e-4))


def add_commands(sub: Any) -> None:
    """Add ``data``, ``train`` and ``compare`` to the subcommands ``sub``."""
    p = sub.add_parser("data", help="obtain, verify and cache a dataset")
    add_data_flags(p)
    p.set_defaults(func=cmd_data)
    p = sub.add_parser("train", help="train one run and print one line per epoch")
    add_training_flags(p)
    p.set_defaults(func=cmd_train)
    p = sub.add_parser("compare", help="the reference study: none, L2(0.01), L1(1e-4) with the same settings")
    add_training_flags(p, with_penalty=False)
    p.set_defaults(func=cmd_compare)


def cmd_data(args: argparse.Namespace) -> int:
    dataset = load_data_for(args)
    print(f"{dataset.name}: {len(dataset.y_train)} train / {len(dataset.y_test)} test images")
    print(f"source:   {dataset.source}")
    print(f"checksum: sha256 {dataset.checksum}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    dataset = load_data_for(args, quiet=args.json)
    final = run_one(config, dataset, args.json)
    return exit_code(final)


def cmd_compare(args: argparse.Namespace) -> int:
    base = config_from_args(args)
    dataset = load_data_for(args, quiet=args.json)
    stop = stop_on_interrupt()
    rows, code = [], 0
    for penalty, lam in SEED_STUDY:
        config = replace(base, penalty=penalty, lam=lam)
        label = config.describe_penalty()
        if not args.json:
            print(f"\n== {label} ==")
        final = run_one(config, dataset, args.json, label=label, stop=stop)
        rows.append(_compare_row(label, final))
        code = max(code, exit_code(final))
        if final.kind == "cancelled":
            break
    if not args.json:
        print()
        print(format_table(("penalty", "test acc", "final loss", "sparsity", "dead units", "seconds", "status"), rows))
    return code


def load_data_for(args: argparse.Namespace, quiet: bool = False) -> Dataset:
    """Load the dataset the flags name, showing progress on stderr."""
    progress = None if quiet else _print_progress
    return load_dataset(args.dataset, args.data_dir, progress=progress)


def _print_progress(message: str, fraction: float | None) -> None:
    suffix = f" {fraction:4.0%}" if fraction is not None else ""
    end = "\r" if (fraction is not None and fraction < 1 and sys.stderr.isatty()) else "\n"
    print(f"[data] {message}{suffix}", file=sys.stderr, end=end, flush=True)


def stop_on_interrupt() -> Callable[[], bool]:
    """Turn Ctrl-C into a cooperative cancel: the run ends cleanly at the next batch."""
    flag = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, lambda *_: flag.set())
    return flag.is_set


def run_one(config: RunConfig, dataset: Dataset, as_json: bool, label: str | None = None,
            stop: Callable[[], bool] | None = None) -> Event:
    """Train one run, printing epoch lines (text or JSON Lines) as it goes."""
    stop = stop or stop_on_interrupt()
    if as_json:
        def on_event(event: Event) -> None:
            if isinstance(event, EpochEvent):
                _emit_json(event, label)
    else:
        printer = EpochPrinter(config, label)
        bar = ProgressBar(sys.stderr) if sys.stderr.isatty() else None

        def on_event(event: Event) -> None:
            if bar is not None and isinstance(event, BatchEvent):
                bar.update(event)
                return
            if bar is not None:
                bar.clear()
                if isinstance(event, StartEvent):
                    bar.start(event)
            printer.show(event)
    warm_up()  # the kernels' compile (or cache load) is not part of the run's seconds
    final = train(config, dataset, on_event, stop, threads=len(usable_cores()))  # alone here: every core
    if as_json:
        _emit_json(final, label)
    return final


def _emit_json(event: Event, label: str | None) -> None:
    record = event_to_dict(event)
    record.pop("first_layer", None)
    if label is not None:
        record["run"] = label
    print(json.dumps(record), flush=True)


def _compare_row(label: str, final: Event) -> tuple:
    if isinstance(final, DoneEvent):
        return (label, fmt_percent(final.test_accuracy), f"{final.train_loss:.4f}", fmt_percent(final.sparsity, 1),
                str(final.dead_units), f"{final.seconds:.1f}", "done")
    return (label, "-", "-", "-", "-", f"{final.seconds:.1f}", f"{final.kind}: {final.reason}")


def exit_code(final: Event) -> int:
    """The exit status a run's final event gives: 0 done, 1 failed, 130 cancelled (Ctrl-C)."""
    return {"done": 0, "failed": 1, "cancelled": 130}[final.kind]
