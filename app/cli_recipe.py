"""``normlab recipe list`` and ``normlab recipe run NAME``: published results reproduced, their numbers beside ours.

``run`` trains the recipe's study with ``normlab sweep``'s runner (``cli_sweep.run_finals``), one line
per run, then prints the verdict table: quantity, published value, ours (mean ± sd over seeds),
tolerance, verdict; then each claim's note and the recipe's notes, and the minutes it took.
"""
from __future__ import annotations

import argparse
import json
import time
from typing import Any

from engine import ConfigError, event_to_dict
from engine.data import DATASET_NAMES
from engine.events import DoneEvent, Event
from engine.recipes import RECIPES, Recipe, get_recipe
from engine.recipes.model import SCALABLE
from engine.studies import MAX_SEEDS

from .cli_flags import UsageError
from .cli_sweep import WORKERS_HELP, at_a_time, run_finals, workers_for
from .cli_train import exit_code, load_data_for, stop_on_interrupt
from .console import format_table
from .recipe_view import claim_json


def add_command(sub: Any) -> None:
    """Add ``recipe`` (with ``list`` and ``run``) to the subcommands ``sub``."""
    p = sub.add_parser("recipe", help="published results reproduced: list the recipes, or run one")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="the recipes: name, version, runs, title")
    listing.add_argument("--json", action="store_true", help="print each recipe as JSON (as GET /api/recipes)")
    listing.set_defaults(func=cmd_list)
    run = actions.add_parser("run", help="run a recipe's study and print the published numbers beside ours")
    run.add_argument("name", help=f"one of {', '.join(RECIPES)}")
    run.add_argument("--seeds", type=int, help=f"seeds per setting (default: the recipe's; 1 to {MAX_SEEDS})")
    run.add_argument("--dataset", choices=DATASET_NAMES,
                     help="run on another dataset (e.g. synthetic to try it; the verdicts then say nothing about "
                          "the published figures)")
    run.add_argument("--train-size", type=int, help="scale: training examples of every run")
    run.add_argument("--epochs", type=int, help="scale: epochs of every run")
    run.add_argument("--hidden", type=int, help="scale: hidden units (of the recipes with a hidden layer)")
    run.add_argument("--prune-fine-tune-steps", type=int, metavar="N",
                     help="scale: fine-tune steps per pruning point (of the recipes that fine-tune)")
    run.add_argument("--workers", type=int, help=WORKERS_HELP)
    run.add_argument("--data-dir", metavar="DIR", help="folder with mnist.npz or the IDX files; also the cache")
    run.add_argument("--json", action="store_true", help="JSON Lines: one object per run, then the verdicts")
    run.set_defaults(func=cmd_run)


def cmd_list(args: argparse.Namespace) -> int:
    if args.json:
        print(json.dumps([r.describe() for r in RECIPES.values()], ensure_ascii=False))
        return 0
    rows = [(r.name, f"v{r.version}", str(len(r.configs())), r.title) for r in RECIPES.values()]
    print(format_table(("recipe", "version", "runs", "title"), rows))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    recipe, scale = _recipe(args)
    configs = recipe.configs()
    workers = workers_for(args.workers, len(configs))
    args.dataset = configs[0][1].dataset  # every arm's: the recipe's, or the one it was scaled to
    started = time.monotonic()
    if not args.json:
        print(f"{recipe.name} v{recipe.version}: {recipe.title}\n{recipe.question}\n"
              f"{at_a_time(len(configs), workers)}, on {args.dataset}" + (f", scaled ({_scale_text(scale)})" if scale else ""),
              flush=True)
    dataset = load_data_for(args, quiet=args.json)
    stop = stop_on_interrupt()
    runs, code = [], 0
    for i, ((arm, config), final) in enumerate(zip(configs, run_finals([c for _, c in configs], dataset, stop, workers, args.data_dir)), 1):
        record = event_to_dict(final)
        runs.append((config.to_dict(), record))
        code = max(code, exit_code(final))
        if args.json:
            slim = {k: v for k, v in record.items() if k != "first_layer"}
            print(json.dumps({**slim, "arm": arm, "run": config.describe_penalty(), "seed": config.seed}), flush=True)
        else:
            print(f"[{i}/{len(configs)}] {arm} · {config.describe_penalty()} seed {config.seed}: {_outcome(final)}",
                  flush=True)
        if final.kind == "cancelled":
            break
    results = [claim_json(r) for r in recipe.evaluate(runs)]
    minutes = (time.monotonic() - started) / 60
    if args.json:
        print(json.dumps({"event": "recipe", "name": recipe.name, "version": recipe.version, "seeds": recipe.seeds,
                          "scale": scale or None, "claims": results, "notes": list(recipe.notes),
                          "minutes": round(minutes, 2)}, ensure_ascii=False))
    else:
        print_verdicts(recipe, results, minutes, scale)
    return code


def print_verdicts(recipe: Recipe, results: list[dict[str, Any]], minutes: float, scale: dict[str, Any]) -> None:
    """The verdict table, each claim's note and the recipe's notes."""
    rows = [(r["quantity"], r["published_text"], r["ours_text"], _tolerance(r["tolerance"]), r["verdict"])
            for r in results]
    print()
    print(format_table(("quantity", "published", "ours (mean ± sd over seeds)", "tolerance", "verdict"), rows))
    print()
    for r in results:
        if r["note"]:
            print(f"- {r['quantity']}: {r['note']}")
    for note in recipe.notes:
        print(f"* {note}")
    if scale:
        print(f"! scaled ({_scale_text(scale)}): these verdicts say nothing about the published figures")
    print(f"\n{minutes:.1f} minutes")


def _recipe(args: argparse.Namespace) -> tuple[Recipe, dict[str, Any]]:
    recipe = get_recipe(args.name)
    if recipe is None:
        raise UsageError(f"unknown recipe {args.name[:40]!r}; choose one of {', '.join(RECIPES)}")
    scale = {k: getattr(args, k) for k in SCALABLE if getattr(args, k) is not None}
    try:
        recipe = recipe.scaled(**scale)
        if args.seeds is not None:
            recipe = recipe.with_seeds(args.seeds)
    except ConfigError as exc:
        raise UsageError(f"--{exc.field.replace('_', '-')}: {exc.message}") from None
    return recipe, scale


def _scale_text(scale: dict[str, Any]) -> str:
    return ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in scale.items())


def _tolerance(tolerance: float | None) -> str:
    return "—" if tolerance is None else f"± {100 * tolerance:g} points"


def _outcome(final: Event) -> str:
    if isinstance(final, DoneEvent):
        peak = f" (peak {final.peak_test_accuracy:.4f} at epoch {final.peak_epoch})" if final.peak_epoch else ""
        return f"test acc {final.test_accuracy:.4f}{peak}, sparsity {final.sparsity:.1%}, {final.seconds:.1f}s"
    return f"{final.kind}: {final.reason}"
