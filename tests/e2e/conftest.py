"""Fixtures of the browser tests: headless Chromium (Debian's package, driven by Playwright) and
a real web server process on a free port, with the test environment of tests/conftest.py."""

from __future__ import annotations

import shutil
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.processes import _spawn, wait_for_log
from tests.support.web import READY_LINE, WebServer, free_port, wait_until_serving

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Quiet, sandbox-free Chromium for containers: no background traffic, no GPU.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# Other test folders import `browser` into their own conftest, which makes another session fixture:
# they all share one Chromium, since Playwright's sync API cannot be started twice at once.
_shared: dict = {"users": 0}


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install -r requirements/dev.txt)")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    if not _shared["users"]:
        _shared["playwright"] = sync_playwright().start()
        _shared["browser"] = _shared["playwright"].chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    _shared["users"] += 1
    yield _shared["browser"]
    _shared["users"] -= 1
    if not _shared["users"]:
        _shared["browser"].close()
        _shared["playwright"].stop()


@pytest.fixture(scope="session")
def site(database) -> Iterator[WebServer]:
    """`python wsgi.py` (through tests/e2e/serve.py, which makes sure the pages are registered)."""
    port = free_port()
    proc = _spawn([sys.executable, "tests/e2e/serve.py"], {"PORT": str(port), "HOST": "127.0.0.1"}, log_name="web-e2e")
    server = WebServer(proc, port)
    wait_for_log(proc, READY_LINE, timeout=60)
    wait_until_serving(server, timeout=60)
    yield server
    server.stop()


@pytest.fixture()
def shop_db(tmp_path) -> Path:
    """A small SQLite database for a connection to point at."""
    path = tmp_path / "shop.sqlite"
    with sqlite3.connect(path) as conn:
        conn.executescript(
            """
            CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT);
            CREATE TABLE products (id INTEGER PRIMARY KEY, title TEXT NOT NULL, price REAL);
            CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id),
                                 created_at TEXT);
            CREATE TABLE order_items (order_id INTEGER REFERENCES orders(id),
                                      product_id INTEGER REFERENCES products(id), quantity INTEGER,
                                      PRIMARY KEY (order_id, product_id));
            """
        )
    return path
