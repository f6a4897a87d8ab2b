"""Daemon threads that belong to one process: started on first use, and again in a forked
child (a prefork worker's pool process does not inherit its parent's threads)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

_started: dict[str, int] = {}  # thread name -> pid of the process that started it
_lock = threading.Lock()


def start_once_per_process(name: str, target: Callable[[], None]) -> None:
    with _lock:
        if _started.get(name) == os.getpid():
            return
        _started[name] = os.getpid()
    threading.Thread(target=target, name=name, daemon=True).start()
