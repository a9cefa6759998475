"""Turn stored rows into the JSON the API and the socket send (see README)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from .hub import StreamHub


def iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).isoformat(timespec="seconds")


def run_summary(row: dict[str, Any], hub: StreamHub | None = None) -> dict[str, Any]:
    """A run as the API shows it; progress comes live from the hub while it runs."""
    start = row.get("start_event") or {}
    progress = dict(row.get("progress") or {})
    progress.setdefault("epoch", 0)
    progress.setdefault("step", 0)
    progress["epochs"] = start.get("epochs", row["settings"]["epochs"])
    progress["total_steps"] = start.get("total_steps")
    live = hub.progress(row["id"]) if hub is not None else None
    if live:
        progress.update(live)
    result = dict(row["result"]) if row.get("result") else None
    if result is not None and row.get("started"):
        end = row.get("finished") or dt.datetime.now().timestamp()
        final_seconds = (row.get("final_event") or {}).get("seconds")
        result["seconds"] = final_seconds if final_seconds is not None else round(end - row["started"], 3)
    return {
        "id": row["id"],
        "status": row["status"],
        "reason": row["reason"],
        "label": row["label"],
        "group": row["grp"],
        "study": row.get("study_id"),
        "created": iso(row["created"]),
        "started": iso(row["started"]),
        "finished": iso(row["finished"]),
        "settings": row["settings"],
        "progress": progress,
        "result": result,
    }
