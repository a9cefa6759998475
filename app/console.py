"""Text output for the CLI: epoch lines, an in-epoch progress bar and tables."""
from __future__ import annotations

from typing import IO, Sequence

from engine import RunConfig
from engine.events import BatchEvent, EpochEvent, Event, StartEvent
from engine.formats import fmt_percent


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
            delta = "" if self.prev_loss is None else f" Δ{self.prev_loss - event.train_loss:+.3f}"
            self.prev_loss = event.train_loss
            print(f"[Epoch {event.epoch}/{self.config.epochs}] loss {event.train_loss:.4f} "
                  f"(data {event.data_loss:.4f} + penalty {event.penalty:.4f}){delta} | "
                  f"test acc {fmt_percent(event.test_accuracy)} | sparsity {fmt_percent(event.sparsity, 1)} | "
                  f"{event.seconds:.2f}s ({event.train_seconds:.2f}s training)", flush=True)
        elif event.kind == "done":
            print(f"done: test accuracy {fmt_percent(event.test_accuracy)}, sparsity {fmt_percent(event.sparsity, 1)}, "
                  f"{event.dead_units} dead hidden units, {event.seconds:.1f}s", flush=True)
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
