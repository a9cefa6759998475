"""The live stream socket (``/ws``, see README): one handler thread per socket, the only writer to it."""
from __future__ import annotations

import json
import logging
import time
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request
from flask_sock import Sock
from simple_websocket import ConnectionClosed

from engine.config import is_finite_number

from .handshake import check_handshake
from .hub import encode, stored_to_frame, with_progress
from .ids import MAX_ROW_ID, parse_row_id
from .run_view import live_progress, run_view
from .runs_list import runs_page
from .runs_query import RunsQuery
from .store import FINISHED

log = logging.getLogger(__name__)

sock = Sock()
bp = Blueprint("ws", __name__)
bp.before_app_request(check_handshake)  # first: a malformed handshake is a 400 whatever else holds

MAX_FRAMES_PER_SECOND = 20
# Frames leave at least 10 % more than 1/rate apart, so that delivery jitter (a frame held up,
# the next one on time) cannot show a client 21 frames within one second.
FRAME_SPACING = 1.1
POLL_SECONDS = 0.05
# With nothing new to send, look again this soon (a run's new events are sealed every 50 ms).
IDLE_LOOK_SECONDS = 0.025
MAX_EVENTS_PER_FRAME = 20000
MAX_SUBSCRIPTIONS = 500
STORE_RECHECK_SECONDS = 0.5


# Close codes (RFC 6455): the payload was not what the protocol allows.
CLOSE_INVALID_DATA = 1007
CLOSE_INTERNAL_ERROR = 1011


class MessageError(ValueError):
    """A client message that cannot be used; ``field`` names the part. ``fatal`` ones close the socket."""

    def __init__(self, message: str, field: str | None = None, fatal: bool = False):
        super().__init__(message)
        self.field = field
        self.fatal = fatal


class Subscription:
    """One run a socket follows: the last sequence number it has sent, and whether the run is over."""

    def __init__(self, last_seq: int):
        self.last_seq = last_seq
        self.done = False
        self.next_store_check = 0.0


class StreamClient:
    """Serves one socket: reads client messages, sends notices and coalesced frames."""

    def __init__(self, ws, lab):
        self.ws = ws
        self.lab = lab
        self.subscriptions: dict[int, Subscription] = {}
        self.notice_version = lab.hub.notice_version
        self.frame_interval = FRAME_SPACING / MAX_FRAMES_PER_SECOND

    def serve(self) -> None:
        """Run the socket until it closes; a fault here closes it with 1011 and a logged traceback.

        Letting the exception out would make Flask write an HTTP 500 into the upgraded socket.
        """
        try:
            self._serve()
        except ConnectionClosed:
            raise
        except Exception:
            log.exception("the live stream socket failed; closing it")
            self.ws.close(reason=CLOSE_INTERNAL_ERROR, message="internal error; reconnect")

    def _serve(self) -> None:
        self.send({"type": "hello", "max_frames_per_second": MAX_FRAMES_PER_SECOND})
        next_look = 0.0
        while self.ws.connected and not self.lab.stopping:
            # Wake when the next frame may go (or a message comes), not on a fixed tick that
            # would round every frame interval up to a multiple of the tick.
            message = self.ws.receive(timeout=min(POLL_SECONDS, max(0.001, next_look - time.monotonic())))
            if message is not None:
                self.handle(message)
            now = time.monotonic()
            if now >= next_look:
                sent = self.send_updates(now)
                next_look = now + (self.frame_interval if sent else IDLE_LOOK_SECONDS)

    def send(self, message: dict[str, Any]) -> None:
        self.ws.send(json.dumps(message, separators=(",", ":"), allow_nan=False))

    # -- client messages -------------------------------------------------------------
    def handle(self, raw: str | bytes) -> None:
        """Apply one client message; whatever goes wrong, answer an error and keep the socket."""
        try:
            self.apply(parse_message(raw))
        except MessageError as exc:
            body = {"type": "error", "error": str(exc)}
            if exc.field:
                body["field"] = exc.field
            self.send(body)
            if exc.fatal:
                self.ws.close(reason=CLOSE_INVALID_DATA, message=str(exc)[:120])
        except ConnectionClosed:
            raise
        except Exception:  # a bug must not cost the page its socket (and every message after)
            log.exception("could not handle a socket message: %.200r", raw)
            self.send({"type": "error", "error": "the server could not handle this message (its log has why)"})

    def apply(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "subscribe":
            runs = message.get("runs")
            if not isinstance(runs, dict):
                raise MessageError('"runs" must be an object of run id → last sequence number held (-1 for none)', "runs")
            wanted = {parse_run_id(k): parse_seq(v) for k, v in runs.items()}
            if len(set(self.subscriptions) | set(wanted)) > MAX_SUBSCRIPTIONS:
                raise MessageError(f"at most {MAX_SUBSCRIPTIONS} runs per socket", "runs")
            for run_id, seq in wanted.items():
                if self.lab.store.get_run(run_id) is None:
                    raise MessageError(f"there is no run {run_id}", "runs")
                self.subscriptions[run_id] = Subscription(seq)
        elif kind == "ping":
            stamp = message.get("time")
            if stamp is not None and not (is_finite_number(stamp) and abs(stamp) < 2**53):
                raise MessageError(f'"time" must be a finite number (or left out), got {str(stamp)[:40]!r}', "time")
            self.send({"type": "pong", "time": stamp})
        elif kind == "rate":
            rate = parse_rate(message.get("max_frames_per_second"))
            self.frame_interval = FRAME_SPACING / rate
            self.send({"type": "rate", "max_frames_per_second": rate})
        elif kind == "unsubscribe":
            runs = message.get("runs")
            if not isinstance(runs, list):
                raise MessageError('"runs" must be a list of run ids', "runs")
            for run_id in runs:
                self.subscriptions.pop(parse_run_id(run_id), None)
        else:
            raise MessageError(f"unknown message type {str(kind)[:40]!r}; expected subscribe, unsubscribe, rate or ping", "type")

    # -- server messages -------------------------------------------------------------
    def send_updates(self, now: float) -> bool:
        """Send pending notices and one frame with every subscribed run's new events."""
        sent = False
        version, notices, missed = self.lab.hub.notices_after(self.notice_version)
        self.notice_version = version
        if missed:
            # Not every run (there may be 10 000): the newest page, as GET /api/runs?limit=100 answers it;
            # a page that shows other runs (filtered, folded, further pages) fetches its own again.
            notices = [{"type": "runs", "resync": True, **runs_page(self.lab.store, self.lab.hub, RunsQuery())}]
        for notice in notices:
            self.send(notice)
            sent = True
        parts = [part for run_id, sub in list(self.subscriptions.items())
                 if not sub.done for part in self.next_entries(run_id, sub, now)]
        if parts:
            # entries are JSON already (sealed chunks are encoded once for all sockets)
            self.ws.send('{"type":"frame","runs":[' + ",".join(parts) + "]}")
            sent = True
        return sent

    def next_entries(self, run_id: int, sub: Subscription, now: float) -> list[str]:
        """The run's frame entries after the subscription's cursor, each with the run's progress
        as of the frame's last event (from the hub while it has the run, else the store)."""
        live = self.lab.hub.chunks_after(run_id, sub.last_seq, MAX_EVENTS_PER_FRAME)
        if live is not None:
            parts, sub.last_seq, complete = live
            sub.done = complete
            out = []
            for last_seq, part in parts:
                progress = live_progress(self.lab.hub, run_id, last_seq) or self.stored_progress(run_id, sub)
                if progress is None:
                    return []
                out.append(with_progress(part, progress))
            return out
        if now < sub.next_store_check:
            return []
        sub.next_store_check = now + STORE_RECHECK_SECONDS
        run = self.lab.store.get_run(run_id)
        if run is None:
            sub.done = True
            return []
        entry = stored_to_frame(self.lab.store.read_events(run_id, sub.last_seq), sub.last_seq)
        if run["status"] in FINISHED:
            sub.done = True
        if not entry:
            return []
        sub.last_seq = entry["last_seq"]
        return [encode(entry | {"progress": run_view(run, self.lab.hub)["progress"]})]

    def stored_progress(self, run_id: int, sub: Subscription) -> dict[str, Any] | None:
        """The run's progress from the store (the hub's log has no start event yet), or None
        (and the subscription done) when the run is gone."""
        row = self.lab.store.get_run(run_id)
        if row is None:
            sub.done = True
            return None
        return run_view(row, self.lab.hub)["progress"]


def parse_message(raw: str | bytes) -> dict[str, Any]:
    """A client message must be a JSON object; anything else is malformed and ends the socket."""
    try:
        message = json.loads(raw)
    except (ValueError, RecursionError):
        raise MessageError("the message is not valid JSON; closing", fatal=True) from None
    if not isinstance(message, dict):
        raise MessageError('a message must be a JSON object with a "type"; closing', fatal=True)
    return message


def parse_run_id(value: Any) -> int:
    """A run id as a JSON number or, as the keys of "runs" must be, a string of ASCII digits."""
    if isinstance(value, str):
        run_id = parse_row_id(value)
    elif isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ROW_ID:
        run_id = value
    else:
        run_id = None
    if run_id is None:
        raise MessageError(f"a run id must be a positive whole number, got {str(value)[:40]!r}", "runs")
    return run_id


def parse_seq(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not -1 <= value < 2**62:
        raise MessageError(f"a sequence number must be a whole number ≥ -1, got {str(value)[:40]!r}", "runs")
    return value


def parse_rate(value: Any) -> int | float:
    """A socket's frame rate: a number from 1 to MAX_FRAMES_PER_SECOND."""
    if not is_finite_number(value) or not 1 <= value <= MAX_FRAMES_PER_SECOND:
        raise MessageError(f'"max_frames_per_second" must be a number from 1 to {MAX_FRAMES_PER_SECOND}, '
                           f"got {str(value)[:40]!r}", "max_frames_per_second")
    return value


@bp.before_app_request
def limit_sockets():
    """Take a socket place before the handshake, or refuse with 503 when ``max_sockets`` are taken.

    The socket lives inside this one request, so the place is held from here to the request's
    teardown, which gives it back whatever ends the socket (a failed handshake, an error in the
    handler, a client that vanished).
    """
    if request.path == "/ws":
        limit = current_app.extensions["normlab"].config.max_sockets
        if not current_app.extensions["normlab"].reserve_socket(limit):
            return jsonify({"error": f"{limit} live connections are open (the limit); close some tabs"}), 503
        g.socket_place = True
    return None


@bp.teardown_app_request
def release_socket(_exc: BaseException | None) -> None:
    if g.pop("socket_place", False):
        current_app.extensions["normlab"].release_socket()


@sock.route("/ws", bp=bp)
def stream(ws) -> None:
    try:
        StreamClient(ws, current_app.extensions["normlab"]).serve()
    except (ConnectionClosed, OSError):  # OSError: a send timed out, the client stopped reading (app/http_server.py)
        pass
