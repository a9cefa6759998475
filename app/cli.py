"""The ``normlab`` command line: obtain data, train one run, compare penalties, serve the dashboard.

This module is the only place the engine's events are printed.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import Callable, Sequence

from engine import ConfigError, RunConfig, event_to_dict, train
from engine.activations import ACTIVATIONS
from engine.data import DATASET_NAMES, DataError, load_dataset
from engine.events import BatchEvent, DoneEvent, EpochEvent, Event, StartEvent
from engine.initializers import DEFAULT_INIT, INITIALIZERS
from engine.penalties import PENALTY_NAMES
from engine.spec import SpecError, parse_spec
from engine.studies import StudySpec, aggregate, best_setting, log_range, run_metrics
from engine.training import warm_up
from engine.events import to_jsonable

from .console import EpochPrinter, ProgressBar, format_table
from .executors import EXECUTOR_NAMES, ExecutorError

# The seed study's three settings (README, "normlab compare").
SEED_STUDY = (("none", 0.0), ("l2", 0.01), ("l1", 1e-4))

# Spellings accepted inside --regular "l2(lambd=0.01)" for each RunConfig field.
REGULAR_KEYS = {"lambd": "lam", "lam": "lam", "lambda": "lam", "l1": "lam", "l2": "lam_l2", "lam_l2": "lam_l2"}
OPTIMIZER_KEYS = {"lr": "lr", "momentum": "momentum"}


class UsageError(Exception):
    """A command-line value that cannot be used; the message says what is allowed."""


def add_training_flags(parser: argparse.ArgumentParser, with_penalty: bool = True) -> None:
    """Flags shared by ``train``, ``compare`` (and later ``sweep``); defaults are the seed setup."""
    d = RunConfig()
    if with_penalty:
        parser.add_argument("--penalty", choices=PENALTY_NAMES, help="weight penalty (default: none)")
        parser.add_argument("--lam", type=float, help="penalty strength λ (the L1 part for elastic)")
        parser.add_argument("--lam-l2", type=float, help="the L2 part of an elastic-net penalty")
        parser.add_argument("--regular", metavar="SPEC",
                            help="the seed's spelling, e.g. 'l2(lambd=0.01)', 'l1(lambd=1e-4)', 'elastic(l1=1e-4, l2=1e-3)'")
    parser.add_argument("--hidden", type=int, default=d.hidden, help=f"hidden units (default {d.hidden})")
    parser.add_argument("--epochs", type=int, default=d.epochs, help=f"default {d.epochs}")
    parser.add_argument("--batch-size", type=int, default=d.batch_size, help=f"default {d.batch_size}")
    parser.add_argument("--lr", type=float, help=f"learning rate (default {d.lr:g})")
    parser.add_argument("--momentum", type=float, help="SGD momentum (default 0)")
    parser.add_argument("--optimizer", metavar="SPEC", help="the seed's spelling, e.g. 'sgd(lr=0.1)' or 'sgd(lr=0.1, momentum=0.9)'")
    parser.add_argument("--train-size", type=int, default=d.train_size, help=f"training examples drawn at random (default {d.train_size})")
    parser.add_argument("--seed", type=int, default=d.seed, help=f"random seed (default {d.seed})")
    parser.add_argument("--init", choices=tuple(INITIALIZERS), default=DEFAULT_INIT, help=f"weight initializer (default {DEFAULT_INIT})")
    parser.add_argument("--activation", choices=tuple(ACTIVATIONS), default=d.activation, help=f"hidden activation (default {d.activation})")
    parser.add_argument("--dtype", choices=("float32", "float64"), default=d.dtype, help=f"default {d.dtype}")
    add_data_flags(parser)
    parser.add_argument("--json", action="store_true", help="print JSON Lines instead of text")


def add_data_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", choices=DATASET_NAMES, default="mnist", help="default mnist")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="folder with mnist.npz or the IDX files; also used as the cache (default: $NORMLAB_DATA_DIR or ~/.cache/normlab)")


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """Turn parsed flags into a validated RunConfig (seed spellings parsed, never eval-ed)."""
    values = {
        "hidden": args.hidden, "epochs": args.epochs, "batch_size": args.batch_size,
        "train_size": args.train_size, "seed": args.seed, "init": args.init,
        "activation": args.activation, "dataset": args.dataset, "dtype": args.dtype,
    }
    values.update(_penalty_values(args))
    values.update(_optimizer_values(args))
    try:
        return RunConfig(**values)
    except ConfigError as exc:
        raise UsageError(f"--{exc.field.replace('_', '-')}: {exc.message}") from None


def _penalty_values(args: argparse.Namespace) -> dict:
    if getattr(args, "penalty", None) is None and getattr(args, "regular", None) is None:
        values = {"penalty": "none"}
    elif args.regular is not None:
        if args.penalty is not None or args.lam is not None or args.lam_l2 is not None:
            raise UsageError("give either --regular or --penalty/--lam, not both")
        values = _from_spec(args.regular, "--regular", PENALTY_NAMES, REGULAR_KEYS, "penalty")
    else:
        values = {"penalty": args.penalty}
    if getattr(args, "lam", None) is not None:
        values["lam"] = args.lam
    if getattr(args, "lam_l2", None) is not None:
        values["lam_l2"] = args.lam_l2
    if values["penalty"] in ("l1", "l2", "elastic") and "lam" not in values:
        raise UsageError(f"--lam is required with --penalty {values['penalty']} (e.g. --lam 0.01)")
    return values


def _optimizer_values(args: argparse.Namespace) -> dict:
    values = {}
    if args.optimizer is not None:
        values = _from_spec(args.optimizer, "--optimizer", ("sgd",), OPTIMIZER_KEYS, None)
    if args.lr is not None:
        values["lr"] = args.lr
    if args.momentum is not None:
        values["momentum"] = args.momentum
    return values


def _from_spec(text: str, flag: str, names: Sequence[str], keys: dict[str, str], name_field: str | None) -> dict:
    try:
        spec = parse_spec(text)
    except SpecError as exc:
        raise UsageError(f"{flag}: {exc}") from None
    if spec.name not in names:
        raise UsageError(f"{flag}: unknown name {spec.name!r}; choose one of {', '.join(names)}")
    values = {name_field: spec.name} if name_field else {}
    for key, value in spec.kwargs.items():
        if key not in keys:
            raise UsageError(f"{flag}: unknown argument {key!r}; allowed: {', '.join(sorted(set(keys)))}")
        values[keys[key]] = value
    return values


def load_data_for(args: argparse.Namespace, quiet: bool = False):
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


def run_one(config: RunConfig, dataset, as_json: bool, label: str | None = None, stop=None) -> Event:
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
    final = train(config, dataset, on_event, stop)
    if as_json:
        _emit_json(final, label)
    return final


def _emit_json(event: Event, label: str | None) -> None:
    record = event_to_dict(event)
    record.pop("first_layer", None)
    if label is not None:
        record["run"] = label
    print(json.dumps(record), flush=True)


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
    return _exit_code(final)


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
        code = max(code, _exit_code(final))
        if final.kind == "cancelled":
            break
    if not args.json:
        print()
        print(format_table(("penalty", "test acc", "final loss", "sparsity", "dead units", "seconds", "status"), rows))
    return code


def cmd_sweep(args: argparse.Namespace) -> int:
    base = config_from_args(args)
    try:
        spec = StudySpec(_penalty_list(args.penalties), _lambda_list(args), args.seeds, base)
    except ConfigError as exc:
        raise UsageError(f"--{exc.field.replace('_', '-')}: {exc.message}") from None
    dataset = load_data_for(args, quiet=args.json)
    stop = stop_on_interrupt()
    configs, rows, code = spec.configs(), [], 0
    warm_up()
    for i, config in enumerate(configs, 1):
        final = train(config, dataset, None, stop)
        record = event_to_dict(final)
        record.pop("first_layer", None)
        rows.append(run_metrics(config.to_dict(), record))
        code = max(code, _exit_code(final))
        if args.json:
            print(json.dumps({**record, "run": config.describe_penalty(), "seed": config.seed}), flush=True)
        else:
            print(f"[{i}/{len(configs)}] {config.describe_penalty()} seed {config.seed}: " + _sweep_outcome(final), flush=True)
        if final.kind == "cancelled":
            break
    summaries = aggregate(rows)
    verdict = best_setting(summaries)
    if args.json:
        print(json.dumps({"event": "study", "settings": to_jsonable(summaries),
                          "best": to_jsonable(verdict), "verdict": verdict.sentence() if verdict else None}))
    else:
        print()
        print(format_table(("penalty", "λ", "runs", "test acc (mean ± sd)", "sparsity", "‖W‖₁", "train−test gap", "seconds"),
                           [_sweep_row(s) for s in summaries]))
        if verdict:
            print("\n" + verdict.sentence())
    return code


def _penalty_list(text: str) -> tuple[str, ...]:
    return tuple(p.strip().lower() for p in text.split(",") if p.strip())


def _lambda_list(args: argparse.Namespace) -> tuple[float, ...]:
    if args.lam_range:
        parts = args.lam_range.split(":")
        try:
            low, high, count = float(parts[0]), float(parts[1]), int(parts[2])
            if len(parts) != 3:
                raise ValueError
        except (ValueError, IndexError):
            raise UsageError("--lam-range: expected LOW:HIGH:COUNT, e.g. 1e-5:1e-1:5") from None
        try:
            return log_range(low, high, count)
        except ConfigError as exc:
            raise UsageError(f"--lam-range: {exc.message}") from None
    try:
        return tuple(float(v) for v in args.lams.split(",") if v.strip())
    except ValueError:
        raise UsageError(f"--lams: expected numbers separated by commas, e.g. 1e-4,1e-3,1e-2; got {args.lams[:60]!r}") from None


def _sweep_outcome(final: Event) -> str:
    if isinstance(final, DoneEvent):
        return f"test acc {final.test_accuracy:.4f}, sparsity {final.sparsity:.1%}, {final.seconds:.1f}s"
    return f"{final.kind}: {final.reason}"


def _sweep_row(s) -> tuple:
    def fmt(metric: str, pattern: str, with_sd: bool = True) -> str:
        spread = s.metrics.get(metric)
        if spread is None:
            return "-"
        sd = pattern.replace("+", "").format(spread.std)
        return pattern.format(spread.mean) + (f" ± {sd}" if with_sd and spread.n > 1 else "")
    return (s.penalty, "-" if s.penalty == "none" else f"{s.lam:g}", str(s.runs), fmt("test_accuracy", "{:.4f}"),
            fmt("sparsity", "{:.1%}"), fmt("l1_norm", "{:.1f}", False), fmt("gap", "{:+.4f}"), fmt("seconds", "{:.1f}", False))


def cmd_serve(args: argparse.Namespace) -> int:
    from .server import serve
    from .store import StoreError

    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port: must be from 0 to 65535, got {args.port}")
    if not 1 <= args.workers <= 64:
        raise UsageError(f"--workers: must be from 1 to 64, got {args.workers}")
    if not 1 <= args.queue_limit <= 10000:
        raise UsageError(f"--queue-limit: must be from 1 to 10000, got {args.queue_limit}")
    _check_executor_flags(args)
    try:
        serve(args.host, args.port, args.db, args.data_dir, args.workers, args.queue_limit,
              preload=None if args.no_preload else "mnist", token=args.token, allowed_hosts=tuple(args.allow_host),
              executor=args.executor, scheduler=args.scheduler, pin=not args.no_pin)
    except (StoreError, ExecutorError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


def _check_executor_flags(args: argparse.Namespace) -> None:
    from .executors.cluster import check_scheduler_address

    if args.executor == "dask":
        if not args.scheduler:
            raise UsageError("--executor dask needs --scheduler ADDRESS, the Dask scheduler's address "
                             "(e.g. --scheduler tcp://10.0.0.5:8786, as `dask scheduler` prints it)")
        try:
            check_scheduler_address(args.scheduler)
        except ValueError as exc:
            raise UsageError(f"--scheduler: {exc}") from None
    elif args.scheduler is not None:
        raise UsageError(f"--scheduler is only used with --executor dask (got --executor {args.executor})")


def _compare_row(label: str, final: Event) -> tuple:
    if isinstance(final, DoneEvent):
        return (label, f"{final.test_accuracy:.4f}", f"{final.train_loss:.4f}", f"{final.sparsity:.1%}",
                str(final.dead_units), f"{final.seconds:.1f}", "done")
    return (label, "-", "-", "-", "-", f"{final.seconds:.1f}", f"{final.kind}: {final.reason}")


def _exit_code(final: Event) -> int:
    return {"done": 0, "failed": 1, "cancelled": 130}[final.kind]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="normlab", description="See what L1 and L2 weight penalties do to a small network.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("data", help="obtain, verify and cache a dataset")
    add_data_flags(p)
    p.set_defaults(func=cmd_data)
    p = sub.add_parser("train", help="train one run and print one line per epoch")
    add_training_flags(p)
    p.set_defaults(func=cmd_train)
    p = sub.add_parser("compare", help="the seed study: none, L2(0.01), L1(1e-4) with the same settings")
    add_training_flags(p, with_penalty=False)
    p.set_defaults(func=cmd_compare)
    p = sub.add_parser("sweep", help="a study: penalties × λ values × seeds; prints mean ± spread per setting")
    p.add_argument("--penalties", default="none,l1,l2", help="comma-separated, from none, l1, l2, elastic (default none,l1,l2)")
    p.add_argument("--lams", default="1e-4,1e-3,1e-2", help="comma-separated λ values (default 1e-4,1e-3,1e-2)")
    p.add_argument("--lam-range", metavar="LOW:HIGH:COUNT", help="λ values evenly spaced on a log scale, e.g. 1e-5:1e-1:5")
    p.add_argument("--seeds", type=int, default=1, help="seeds per setting (default 1, at most 10)")
    add_training_flags(p, with_penalty=False)
    p.set_defaults(func=cmd_sweep)
    p = sub.add_parser("serve", help="start the dashboard (default http://127.0.0.1:5000/)")
    from .server import default_database

    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=5000, help="default 5000; 0 picks a free port")
    p.add_argument("--db", type=Path, default=default_database(), help=f"SQLite file (default {default_database()})")
    p.add_argument("--data-dir", metavar="DIR", help="folder with your mnist.npz or IDX files; also the cache")
    p.add_argument("--workers", type=int, default=1, help="runs trained at the same time (default 1)")
    p.add_argument("--executor", choices=EXECUTOR_NAMES, default="process",
                   help="where runs train: process (default: a child process per worker, one BLAS thread each, "
                        "so serving pages never slows training), thread (in this process), "
                        "dask (on a Dask cluster; needs --scheduler)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="the Dask scheduler, tcp://HOST:PORT (with --executor dask)")
    p.add_argument("--no-pin", action="store_true",
                   help="let the OS move run processes between cores (by default, with --executor process, each is "
                        "kept to a core of its own when there are as many cores as workers)")
    p.add_argument("--queue-limit", type=int, default=100,
                   help="runs launched on their own that may wait in the queue (default 100; "
                        "study runs are counted apart, up to 900)")
    p.add_argument("--no-preload", action="store_true", help="do not load MNIST at start-up")
    p.add_argument("--token", default=os.environ.get("NORMLAB_TOKEN"),
                   help="require this token on every request ($NORMLAB_TOKEN; one is made up when --host is not loopback)")
    p.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                   help="another host name the server may be reached by (repeatable; loopback names always work)")
    p.set_defaults(func=cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UsageError as exc:
        parser.error(str(exc))
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
