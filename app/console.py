"""Text output for the CLI: epoch lines, an in-epoch progress bar and tables."""
from __future__ import annotations

from typing import IO, Any, Sequence

from engine import RunConfig
from engine.comparisons import MIN_PAIRS
from engine.events import BatchEvent, DoneEvent, EpochEvent, Event, StartEvent
from engine.metrics import SPARSITY_THRESHOLD
from engine.formats import fmt_change, fmt_percent


class EpochPrinter:
    """Prints one line per epoch in the spirit of the reference study's log, plus the final result."""

    def __init__(self, config: RunConfig, label: str | None = None):
        self.config = config
        self.label = label
        self.prev_loss: float | None = None

    def show(self, event: Event) -> None:
        if isinstance(event, StartEvent):
            print(f"{self.label or self.config.describe_penalty()}: {event.train_size} train / {event.test_size} test, "
                  f"hidden {self.config.hidden}, {plural(event.epochs, 'epoch')} × "
                  f"{plural(event.batches_per_epoch, 'batch', 'batches')}", flush=True)
        elif isinstance(event, EpochEvent):
            delta = "" if self.prev_loss is None else f" ({fmt_change(event.train_loss - self.prev_loss)} since epoch {event.epoch - 1})"
            self.prev_loss = event.train_loss
            print(f"[Epoch {event.epoch}/{self.config.epochs}] loss {event.train_loss:.4f} "
                  f"(data {event.data_loss:.4f} + penalty {event.penalty:.4f}){delta} | "
                  f"test acc {fmt_percent(event.test_accuracy)} | sparsity {fmt_percent(event.sparsity, 1)} | "
                  f"{event.seconds:.2f}s ({event.train_seconds:.2f}s training)", flush=True)
        elif event.kind == "done":
            print(f"done: test accuracy {fmt_percent(event.test_accuracy)}, sparsity {fmt_percent(event.sparsity, 1)}, "
                  f"{event.dead_units} dead hidden units, {event.seconds:.1f}s", flush=True)
            print("\n".join(insight_lines(event)), flush=True)
        elif event.kind in ("failed", "cancelled"):
            print(f"{event.kind}: {event.reason}", flush=True)


class ProgressBar:
    """A one-line bar within the epoch, redrawn at most every 2% of the epoch."""

    def __init__(self, stream: IO[str], width: int = 30):
        self.stream = stream
        self.width = width
        self.total = 1
        self.shown = -1

    def start(self, event: StartEvent) -> None:
        self.total = max(event.batches_per_epoch, 1)

    def update(self, event: BatchEvent) -> None:
        filled = int(self.width * event.batch / self.total)
        if filled == self.shown:
            return
        self.shown = filled
        self.stream.write(f"\r  epoch {event.epoch} [{'#' * filled}{'.' * (self.width - filled)}] "
                          f"batch {event.batch} loss {event.loss:.3f}")
        self.stream.flush()

    def clear(self) -> None:
        self.stream.write("\r" + " " * (self.width + 50) + "\r")
        self.stream.flush()
        self.shown = -1


def plural(n: int, noun: str, many: str | None = None) -> str:
    """``1 epoch``, ``2 epochs``; ``plural(3, "batch", "batches")`` when the plural is not noun + s."""
    return f"{n} {noun if n == 1 else many or noun + 's'}"


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain aligned text table."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    lines = ["  ".join(str(cell).ljust(w) for cell, w in zip(row, widths)).rstrip() for row in (header, *rows)]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def insight_lines(done: DoneEvent) -> list[str]:
    """What the trained weights show, for the end of a run's text: prunable fractions, dead inputs, the prior."""
    def pruned(curve: dict[str, Any], what: str) -> str:
        fraction = curve["prunable_fraction"]
        return f"{fraction['global']:.0%} {what} (first layer alone: {fraction['first_layer']:.0%})"

    what = "of the weights can be set to zero within one point of test accuracy"
    lines = [f"pruning: {pruned(done.pruning, what)}"]
    if done.pruning_fine_tuned:
        steps = done.pruning_fine_tuned["steps"]
        lines.append(f"pruning: {pruned(done.pruning_fine_tuned, f'after fine-tuning {steps} steps per point')}")
    fit = done.prior_fit["all"]
    lines.append(f"inputs: {done.dead_inputs} of {len(done.input_importance)} dead (every outgoing |w| < "
                 f"{SPARSITY_THRESHOLD:g}); {done.active_weights} of {fit['n']} weights active (|w| ≥ {SPARSITY_THRESHOLD:g})")
    if fit["better"]:
        gaussian, laplace = fit["gaussian"]["loglik_per_weight"], fit["laplace"]["loglik_per_weight"]
        name = "Laplace (L1's prior)" if fit["better"] == "laplace" else "Gaussian (L2's prior)"
        lines.append(f"prior: the weights fit a {name} better (log-likelihood per weight: Laplace {laplace:.3f}, "
                     f"Gaussian {gaussian:.3f})")
    return lines


def _points(value: float) -> str:
    return f"{value * 100:+.2f}"


def _interval(ci: Sequence[float]) -> str:
    return f"[{_points(ci[0])}, {_points(ci[1])}]"


def _p(value: float) -> str:
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def comparisons_text(comparisons: Sequence[dict[str, Any]], effect: float) -> str:
    """The paired comparisons (``app.comparison_view.comparison_json``) as a table in points of accuracy.

    Settings with fewer than ``MIN_PAIRS`` seeds get a line saying no test is possible instead of numbers.
    """
    if not comparisons:
        return "paired comparisons: none (the study has no finished no-penalty runs to pair with)"
    against = "no penalty" if comparisons[0]["baseline_penalty"] == "none" else comparisons[0]["baseline_penalty"]
    header = ("setting", "n", "mean diff", "95% CI paired", "bootstrap CI", "unpaired CI", "p t-test", "p Wilcoxon",
              "p Holm", f"seeds for {effect * 100:g} pt")
    rows, untestable = [], []
    for c in comparisons:
        setting = c["penalty"] if c["penalty"] == "none" else f"{c['penalty']} λ={c['lam']:g}"
        if not c["testable"]:
            untestable.append(f"{setting}: no test possible with fewer than {MIN_PAIRS} seeds ({c['n_pairs']} paired)")
            continue
        needed = "more than 100000" if c["seeds_needed"] is None else str(c["seeds_needed"])
        rows.append((setting, str(c["n_pairs"]), _points(c["mean_diff"]), _interval(c["ci95_paired"]),
                     _interval(c["ci95_bootstrap"]), _interval(c["ci95_unpaired"]), _p(c["p_ttest"]),
                     _p(c["p_wilcoxon"]), _p(c["p_holm"]), needed))
    parts = [f"paired with {against}, seed by seed (test accuracy, setting − {against}, in points):"]
    if rows:
        parts.append(format_table(header, rows))
    return "\n".join(parts + untestable)
