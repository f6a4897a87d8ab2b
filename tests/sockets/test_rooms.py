"""The room index of the web process's client manager keeps python-socketio's own bookkeeping."""

from __future__ import annotations

import random
import time

import socketio

from app.sockets.rooms import IndexedRedisManager

NAMESPACES = ("/", "/other")


def play(manager, seed: int, steps: int = 3000) -> list:
    """Random connects, room changes and disconnects; returns what a caller could observe."""
    rng = random.Random(seed)
    connected: list[tuple[str, str]] = []
    observed = []
    for step in range(steps):
        action = rng.random()
        if action < 0.3 or not connected:
            sid, namespace = f"s{step}", rng.choice(NAMESPACES)
            manager.basic_enter_room(sid, namespace, None, eio_sid=f"e{step}")
            manager.basic_enter_room(sid, namespace, sid, eio_sid=f"e{step}")
            connected.append((sid, namespace))
        elif action < 0.6:
            sid, namespace = rng.choice(connected)
            manager.basic_enter_room(sid, namespace, f"job:{rng.randrange(20)}")
        elif action < 0.75:
            sid, namespace = rng.choice(connected)
            manager.basic_leave_room(sid, namespace, f"job:{rng.randrange(20)}")
        elif action < 0.8:
            manager.basic_close_room(f"job:{rng.randrange(20)}", rng.choice(NAMESPACES))
        else:
            sid, namespace = connected.pop(rng.randrange(len(connected)))
            manager.basic_disconnect(sid, namespace)
        if connected and step % 50 == 0:
            sid, namespace = rng.choice(connected)
            observed.append(sorted(manager.get_rooms(sid, namespace), key=str))
    for sid, namespace in connected:
        manager.basic_disconnect(sid, namespace)
    observed.append(
        {ns: {room: dict(members) for room, members in rooms.items()} for ns, rooms in manager.rooms.items()}
    )
    return observed


def test_indexed_manager_behaves_like_the_library_one():
    for seed in range(5):
        stock, indexed = socketio.Manager(), IndexedRedisManager("redis://127.0.0.1:1/0")
        assert play(indexed, seed) == play(stock, seed)
        assert indexed.rooms == {} and indexed._rooms_of == {}  # nothing left behind


def test_disconnect_cost_does_not_grow_with_the_number_of_sockets():
    manager = IndexedRedisManager("redis://127.0.0.1:1/0")
    for i in range(20_000):
        manager.basic_enter_room(f"s{i}", "/", None, eio_sid=f"e{i}")
        manager.basic_enter_room(f"s{i}", "/", f"s{i}", eio_sid=f"e{i}")
        manager.basic_enter_room(f"s{i}", "/", "user:1")

    started = time.perf_counter()
    for i in range(20_000):
        manager.basic_disconnect(f"s{i}", "/")
    assert time.perf_counter() - started < 2.0  # the library's scan is quadratic: over a minute here
    assert manager.rooms == {}
