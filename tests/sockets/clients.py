"""A python-socketio client that records what it receives, so tests assert what a user sees."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import requests
import socketio
from socketio import packet as sio_packet

Event = tuple[str, Any, float]  # (name, data, monotonic arrival time)


class RecordingClient:
    """Connects to one web server and keeps every event, its disconnect and any connect error."""

    def __init__(self, url: str, transports: tuple[str, ...] = ("websocket",)) -> None:
        self.url = url
        self.transports = list(transports)
        self.sio = socketio.Client(reconnection=False)
        self.events: list[Event] = []
        self.connect_error: Any = None
        self.disconnected = threading.Event()
        self._changed = threading.Condition()
        self._hooks: dict[str, Callable[[Any], Any]] = {}
        self.hook_results: list[tuple[str, Any, Any]] = []  # (event, data, what the hook returned)
        self._record_in_wire_order()
        self.sio.on("disconnect", self._on_disconnect)
        self.sio.on("connect_error", self._on_connect_error)

    # -- connection -------------------------------------------------------------------------

    def connect(self, token: str | None = None, auth: Any = None, headers: dict | None = None) -> RecordingClient:
        """Connect (with `auth={"token": token}` when a token is given); raises on refusal."""
        if token is not None:
            auth = {"token": token}
        self.sio.connect(self.url, auth=auth, transports=self.transports, headers=headers or {}, wait_timeout=10)
        return self

    def close(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()

    @property
    def connected(self) -> bool:
        return self.sio.connected

    def wait_disconnected(self, timeout: float = 10) -> bool:
        return self.disconnected.wait(timeout)

    # -- sending ----------------------------------------------------------------------------

    def call(self, event: str, *args: Any, timeout: float = 10) -> Any:
        """Emit and wait for the acknowledgement."""
        return self.sio.call(event, args[0] if len(args) == 1 else (tuple(args) or None), timeout=timeout)

    def emit(self, event: str, *args: Any) -> None:
        self.sio.emit(event, args[0] if len(args) == 1 else (tuple(args) or None))

    # -- receiving --------------------------------------------------------------------------

    def received(self, name: str | None = None) -> list[Any]:
        with self._changed:
            return [data for event, data, _ in self.events if name is None or event == name]

    def names(self) -> list[str]:
        with self._changed:
            return [event for event, _, _ in self.events]

    def job_events(self, job_id: str) -> list[tuple[str, Any]]:
        """The job:* events of one job, in arrival order."""
        with self._changed:
            return [
                (event, data)
                for event, data, _ in self.events
                if event.startswith("job:") and isinstance(data, dict) and data.get("jobId") == job_id
            ]

    def wait_for(self, name: str, where: Callable[[Any], bool] | None = None, timeout: float = 15) -> Any:
        """The data of the first `name` event matching `where`, waiting for it if needed."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for event, data, _ in self.events:
                    if event == name and (where is None or where(data)):
                        return data
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no {name!r} event in {timeout}s; received {self.names()}")
                self._changed.wait(remaining)

    def on_arrival(self, name: str, hook: Callable[[Any], Any]) -> None:
        """Run `hook(data)` the moment a `name` event arrives (before later events are handled)."""
        self._hooks[name] = hook

    # -- recording ---------------------------------------------------------------------------

    def _record_in_wire_order(self) -> None:
        """python-socketio hands every message to its handlers in a new thread, so handlers can
        see events out of order. Tests assert the order the server sent, so the events are read
        where engine.io's read loop hands over each message, one after the other."""
        eio = self.sio.eio
        trigger = eio._trigger_event

        def recording_trigger(event: str, *args: Any, **kwargs: Any) -> Any:
            if event == "message" and args and isinstance(args[0], str):
                self._on_message(args[0])
            return trigger(event, *args, **kwargs)

        eio._trigger_event = recording_trigger

    def _on_message(self, encoded: str) -> None:
        pkt = sio_packet.Packet(encoded_packet=encoded)
        if pkt.packet_type != sio_packet.EVENT or not pkt.data:
            return
        event, args = pkt.data[0], pkt.data[1:]
        data = args[0] if len(args) == 1 else tuple(args)
        hook = self._hooks.get(event)
        outcome = hook(data) if hook is not None else None  # runs before the next message is read
        with self._changed:
            if hook is not None:
                self.hook_results.append((event, data, outcome))
            self.events.append((event, data, time.monotonic()))
            self._changed.notify_all()

    # -- handlers (run in threads of the client) ------------------------------------------------

    def _on_disconnect(self, *_reason: Any) -> None:
        self.disconnected.set()
        with self._changed:
            self._changed.notify_all()

    def _on_connect_error(self, data: Any = None) -> None:
        self.connect_error = data


def wait_for_count(url: str, expected: int, timeout: float = 15) -> dict:
    """Poll /api/health/websocket until it reports `expected` clients (published every 2 s)."""
    deadline = time.monotonic() + timeout
    body: dict = {}
    while time.monotonic() < deadline:
        body = requests.get(f"{url}/api/health/websocket", timeout=5).json()
        if body.get("connectedClients") == expected:
            return body
        time.sleep(0.25)
    raise AssertionError(f"connectedClients never reached {expected}; last answer {body}")
