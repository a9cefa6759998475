"""``normlab sweep``: a study of penalties × λ values × seeds, summarised as mean ± spread per setting."""
from __future__ import annotations

import argparse
import json
from typing import Any

from engine import ConfigError, event_to_dict, train
from engine.events import DoneEvent, Event, to_jsonable
from engine.formats import fmt_lambda, fmt_percent, fmt_points
from engine.studies import SettingSummary, StudySpec, aggregate, best_setting, log_range, run_metrics
from engine.training import warm_up

from .cli_flags import UsageError, add_training_flags, config_from_args, flag_error
from .cli_train import exit_code, load_data_for, stop_on_interrupt
from .console import format_table


def add_command(sub: Any) -> None:
    """Add ``sweep`` to the subcommands ``sub``."""
    p = sub.add_parser("sweep", help="a study: penalties × λ values × seeds; prints mean ± spread per setting")
    p.add_argument("--penalties", default="none,l1,l2", help="comma-separated, from none, l1, l2, elastic (default none,l1,l2)")
    p.add_argument("--lams", default="1e-4,1e-3,1e-2", help="comma-separated λ values (default 1e-4,1e-3,1e-2)")
    p.add_argument("--lam-range", metavar="LOW:HIGH:COUNT", help="λ values evenly spaced on a log scale, e.g. 1e-5:1e-1:5")
    p.add_argument("--seeds", type=int, default=1, help="seeds per setting (default 1, at most 10)")
    add_training_flags(p, with_penalty=False)
    p.set_defaults(func=cmd_sweep)


def cmd_sweep(args: argparse.Namespace) -> int:
    base = config_from_args(args)
    try:
        spec = StudySpec(_penalty_list(args.penalties), _lambda_list(args), args.seeds, base)
    except ConfigError as exc:
        raise flag_error(exc) from None
    dataset = load_data_for(args, quiet=args.json)
    stop = stop_on_interrupt()
    configs, rows, code = spec.configs(), [], 0
    warm_up()
    for i, config in enumerate(configs, 1):
        final = train(config, dataset, None, stop)
        record = event_to_dict(final)
        record.pop("first_layer", None)
        rows.append(run_metrics(config.to_dict(), record))
        code = max(code, exit_code(final))
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
