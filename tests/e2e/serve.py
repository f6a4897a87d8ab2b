"""`python wsgi.py` with the browser pages registered.

Until app/__init__.py registers app.web itself, the browser tests start the web server through
this file; once it does, the check below makes this the same as `python wsgi.py`."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import wsgi  # noqa: E402  (patches the standard library for eventlet first, then builds the app)

if "web" not in wsgi.app.blueprints:
    from app.web import register_web

    register_web(wsgi.app)

if __name__ == "__main__":
    wsgi.main()
