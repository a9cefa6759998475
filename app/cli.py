"""The ``normlab`` command line: obtain data, train one run, compare penalties, run a study, serve the dashboard.

Each command lives in its module: ``cli_train`` (data, train, compare), ``cli_sweep``, ``cli_recipe``, ``cli_serve``;
``cli_flags`` has the training flags they share.
"""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

from engine.data import DataError

from . import cli_recipe, cli_serve, cli_sweep, cli_train
from .cli_flags import UsageError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="normlab", description="See what L1 and L2 weight penalties do to a small network.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    cli_train.add_commands(sub)
    cli_sweep.add_command(sub)
    cli_recipe.add_command(sub)
    cli_serve.add_command(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; the exit status: 0 done, 1 failed, 2 bad flags, 130 interrupted."""
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
