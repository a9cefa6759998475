"""The training flags ``train``, ``compare`` and ``sweep`` share, and their translation into a RunConfig."""
from __future__ import annotations

import argparse
from typing import Sequence

from engine import ConfigError, RunConfig
from engine.config import SUBSETS, TEST_SPLITS
from engine.activations import ACTIVATIONS
from engine.data import DATASET_NAMES
from engine.initializers import DEFAULT_INIT, INITIALIZERS
from engine.penalties import PENALTY_NAMES
from engine.spec import SpecError, parse_spec

# Spellings accepted inside --regular "l2(lambd=0.01)" for each RunConfig field.
REGULAR_KEYS = {"lambd": "lam", "lam": "lam", "lambda": "lam", "l1": "lam", "l2": "lam_l2", "lam_l2": "lam_l2"}
OPTIMIZER_KEYS = {"lr": "lr", "momentum": "momentum"}


class UsageError(Exception):
    """A command-line value that cannot be used; the message says what is allowed (exit status 2)."""


def add_training_flags(parser: argparse.ArgumentParser, with_penalty: bool = True) -> None:
    """Flags shared by ``train``, ``compare`` and ``sweep``; defaults are the reference setup."""
    d = RunConfig()
    if with_penalty:
        parser.add_argument("--penalty", choices=PENALTY_NAMES, help="weight penalty (default: none)")
        parser.add_argument("--lam", type=float, help="penalty strength λ (the L1 part for elastic)")
        parser.add_argument("--lam-l2", type=float, help="the L2 part of an elastic-net penalty")
        parser.add_argument("--regular", metavar="SPEC",
                            help="the reference study's spelling, e.g. 'l2(lambd=0.01)', 'l1(lambd=1e-4)', 'elastic(l1=1e-4, l2=1e-3)'")
    parser.add_argument("--hidden", type=int, default=d.hidden,
                        help=f"hidden units (default {d.hidden}; 0: no hidden layer, a softmax regression)")
    parser.add_argument("--epochs", type=int, default=d.epochs, help=f"default {d.epochs}")
    parser.add_argument("--batch-size", type=int, default=d.batch_size, help=f"default {d.batch_size}")
    parser.add_argument("--lr", type=float, help=f"learning rate (default {d.lr:g})")
    parser.add_argument("--momentum", type=float, help="SGD momentum (default 0)")
    parser.add_argument("--optimizer", metavar="SPEC",
                        help="the reference study's spelling, e.g. 'sgd(lr=0.1)' or 'sgd(lr=0.1, momentum=0.9)'")
    parser.add_argument("--train-size", type=int, default=d.train_size, help=f"training examples drawn at random (default {d.train_size})")
    parser.add_argument("--subset", choices=SUBSETS, default=d.subset,
                        help="training examples drawn at random (default) or the first ones in the dataset's order")
    parser.add_argument("--test-split", choices=TEST_SPLITS, default=d.test_split,
                        help="measure on the test set (default) or on the validation images (training images "
                             "50 000–59 999, then never trained on)")
    parser.add_argument("--noise-features", type=int, default=d.noise_features, metavar="K",
                        help="append K features of pure noise to every image (default 0; at most 10 000)")
    parser.add_argument("--seed", type=int, default=d.seed, help=f"random seed (default {d.seed})")
    parser.add_argument("--init", choices=tuple(INITIALIZERS), default=DEFAULT_INIT, help=f"weight initializer (default {DEFAULT_INIT})")
    parser.add_argument("--activation", choices=tuple(ACTIVATIONS), default=d.activation,
                        help=f"hidden activation (default {d.activation})")
    parser.add_argument("--dtype", choices=("float32", "float64"), default=d.dtype, help=f"default {d.dtype}")
    parser.add_argument("--prune-fine-tune-steps", type=int, default=d.prune_fine_tune_steps, metavar="N",
                        help="also fine-tune each point of the pruning curve N steps with its mask held (default 0: off)")
    add_data_flags(parser)
    parser.add_argument("--json", action="store_true", help="print JSON Lines instead of text")


def add_data_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", choices=DATASET_NAMES, default="mnist", help="default mnist")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="folder with mnist.npz or the IDX files; also used as the cache "
                             "(default: $NORMLAB_DATA_DIR or ~/.cache/normlab)")


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """Turn parsed flags into a validated RunConfig (seed spellings parsed, never eval-ed)."""
    values = {
        "hidden": args.hidden, "epochs": args.epochs, "batch_size": args.batch_size,
        "train_size": args.train_size, "seed": args.seed, "init": args.init,
        "activation": args.activation, "dataset": args.dataset, "dtype": args.dtype,
        "prune_fine_tune_steps": args.prune_fine_tune_steps, "noise_features": args.noise_features,
        "subset": args.subset, "test_split": args.test_split,
    }
    values.update(_penalty_values(args))
    values.update(_optimizer_values(args))
    try:
        return RunConfig(**values)
    except ConfigError as exc:
        raise flag_error(exc) from None


def flag_error(exc: ConfigError) -> UsageError:
    """A RunConfig field's error, named by its flag (``lam_l2`` → ``--lam-l2``)."""
    return UsageError(f"--{exc.field.replace('_', '-')}: {exc.message}")


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
    if values["penalty"] == "none" and values.get("lam"):
        raise UsageError("--lam: is only used with a penalty: add --penalty l1, l2 or elastic (or leave --lam out)")
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
