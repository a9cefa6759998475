"""``normlab sweep``: a study of penalties × λ values × seeds, summarised as mean ± spread per setting."""
from __future__ import annotations

import argparse
import json
import sys
from contextlib import closing
from typing import Any, Callable, Iterator, Sequence

from engine import ConfigError, RunConfig, event_to_dict, train
from engine.data import Dataset
from engine.events import DoneEvent, Event, to_jsonable
from engine.formats import fmt_lambda, fmt_percent, fmt_points
from engine.studies import SettingSummary, StudySpec, aggregate, best_setting, log_range, run_metrics
from engine.training import warm_up

from .cli_flags import UsageError, add_training_flags, config_from_args, flag_error
from .cli_train import exit_code, load_data_for, stop_on_interrupt
from .comparison_view import against_baseline, comparison_json, parse_effect, power_analysis
from .console import comparisons_text, format_table
from .cores import usable_cores
from .sweep_runner import SweepRunner


WORKERS_HELP = ("runs trained at the same time, each in a process of its own with its share of the cores "
                "(default: one per core; 1: one after another in this process, on every core)")


def add_command(sub: Any) -> None:
    """Add ``sweep`` to the subcommands ``sub``."""
    p = sub.add_parser("sweep", help="a study: penalties × λ values × seeds; prints mean ± spread per setting")
    p.add_argument("--penalties", default="none,l1,l2", help="comma-separated, from none, l1, l2, elastic (default none,l1,l2)")
    p.add_argument("--lams", default="1e-4,1e-3,1e-2", help="comma-separated λ values (default 1e-4,1e-3,1e-2)")
    p.add_argument("--lam-range", metavar="LOW:HIGH:COUNT", help="λ values evenly spaced on a log scale, e.g. 1e-5:1e-1:5")
    p.add_argument("--seeds", type=int, default=1, help="seeds per setting (default 1, at most 10)")
    p.add_argument("--workers", type=int, help=WORKERS_HELP)
    p.add_argument("--effect", metavar="DIFF", help="the difference in test accuracy worth detecting, for the "
                                                    "seeds-needed estimate (default 0.01: one point)")
    add_training_flags(p, with_penalty=False)
    p.set_defaults(func=cmd_sweep)


def cmd_sweep(args: argparse.Namespace) -> int:
    base = config_from_args(args)
    try:
        spec = StudySpec(_penalty_list(args.penalties), _lambda_list(args), args.seeds, base)
    except ConfigError as exc:
        raise flag_error(exc) from None
    effect = _effect(args)
    configs = spec.configs()
    workers = workers_for(args.workers, len(configs))
    dataset = load_data_for(args, quiet=args.json)
    stop = stop_on_interrupt()
    print(at_a_time(len(configs), workers), file=sys.stderr if args.json else sys.stdout, flush=True)
    rows, code = [], 0
    with closing(run_finals(configs, dataset, stop, workers, args.data_dir)) as finals:
        for i, (config, final) in enumerate(zip(configs, finals), 1):
            record = event_to_dict(final)
            record.pop("first_layer", None)
            rows.append(run_metrics(config.to_dict(), record))
            code = max(code, exit_code(final))
            if args.json:
                print(json.dumps({**record, "run": config.describe_penalty(), "seed": config.seed}), flush=True)
            else:
                print(f"[{i}/{len(configs)}] {config.describe_penalty()} seed {config.seed}: " + _sweep_outcome(final),
                      flush=True)
            if final.kind == "cancelled":
                break
    report(rows, effect, args.json)
    return code


def workers_for(workers: int | None, runs: int) -> int:
    """Runs to train at once: ``--workers`` (checked), by default one per core, never more than the runs."""
    if workers is None:
        return max(1, min(len(usable_cores()), runs))
    if not 1 <= workers <= 64:
        raise UsageError(f"--workers: must be a whole number from 1 to 64, got {workers}")
    return min(workers, runs) or 1


def at_a_time(runs: int, workers: int) -> str:
    """"30 runs, 2 at a time on 2 cores": what a sweep is about to do."""
    cores = len(usable_cores())
    return f"{runs} runs, {workers} at a time on {cores} core{'s' if cores != 1 else ''}"


def run_finals(configs: Sequence[RunConfig], dataset: Dataset, stop: Callable[[], bool], workers: int = 1,
               data_dir: str | None = None) -> Iterator[Event]:
    """Each run's final event in the order of ``configs``: the runner of ``normlab sweep`` and ``normlab
    recipe run``. One after another here, on every core, or ``workers`` at once in run processes; either
    way the same numbers (engine/fast/products.py). A caller that stops iterating starts no further run."""
    if workers > 1:
        yield from SweepRunner(configs, workers, data_dir, stop).results()
        return
    warm_up()
    threads = len(usable_cores())
    for config in configs:
        yield train(config, dataset, None, stop, threads=threads)


def report(rows: list[dict[str, Any]], effect: float, as_json: bool) -> None:
    """The study's summary from its runs' ``run_metrics`` rows: per setting, paired with no penalty, the verdict."""
    summaries = aggregate(rows)
    comparisons = against_baseline(rows)
    verdict = best_setting(summaries, comparisons=comparisons)
    shown = [comparison_json(c, effect) for c in comparisons]
    if as_json:
        print(json.dumps({"event": "study", "settings": to_jsonable(summaries),
                          "best": to_jsonable(verdict), "verdict": verdict.sentence() if verdict else None,
                          "comparisons": shown, "power_analysis": power_analysis(effect)}))
        return
    print()
    print(format_table(("penalty", "λ", "runs", "test acc (mean ± sd)", "sparsity", "‖W‖₁", "train−test gap", "seconds"),
                       [_sweep_row(s) for s in summaries]))
    print()
    print(comparisons_text(shown, effect))
    if verdict:
        print("\n" + verdict.sentence())


def _effect(args: argparse.Namespace) -> float:
    try:
        return parse_effect(args.effect)
    except ConfigError as exc:
        raise UsageError(f"--effect: {exc.message}") from None


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
        return f"test acc {fmt_percent(final.test_accuracy)}, sparsity {fmt_percent(final.sparsity, 1)}, {final.seconds:.1f}s"
    return f"{final.kind}: {final.reason}"


def _sweep_row(s: SettingSummary) -> tuple:
    def fmt(metric: str, write, with_sd: bool = True) -> str:
        spread = s.metrics.get(metric)
        if spread is None:
            return "-"
        return write(spread.mean) + (f" ± {write(spread.std)}" if with_sd and spread.n > 1 else "")
    return (s.penalty, "-" if s.penalty == "none" else fmt_lambda(s.lam), str(s.runs), fmt("test_accuracy", fmt_percent),
            fmt("sparsity", lambda v: fmt_percent(v, 1)), fmt("l1_norm", "{:.1f}".format, False), fmt("gap", fmt_points),
            fmt("seconds", "{:.1f}".format, False))
