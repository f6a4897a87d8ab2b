"""The browser client: plain HTML pages over the REST API and Socket.IO (no build step).

The pages carry no data of their own: the JavaScript in app/static reads the tokens from
localStorage and fetches everything from /api, so these routes need no authentication.
The Content-Security-Policy forbids inline scripts and styles: every page loads its JS and CSS
from /static.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from flask import Blueprint, Response, redirect, render_template, send_file

from app.jobs.registry import enabled_types
from app.jobs.state import JobStatus

bp = Blueprint("web", __name__)

# Installed by `npm install` at the repo root (scripts/dev.py); never copied into the repo.
NODE_MODULES = Path(__file__).resolve().parent.parent / "node_modules"
SOCKET_IO_CLIENT = NODE_MODULES / "socket.io-client/dist/socket.io.min.js"
UPLOT_JS = NODE_MODULES / "uplot/dist/uPlot.iife.min.js"
UPLOT_CSS = NODE_MODULES / "uplot/dist/uPlot.min.css"
# Without Node.js the pages poll the REST API; an empty script (not a 404) keeps the console quiet.
NO_CLIENT_JS = "/* socket.io-client is not installed (npm install): the pages poll the REST API */\n"
# Without uPlot the operator page shows its figures as tables and says the charts are unavailable.
NO_UPLOT_JS = "/* uplot is not installed (npm install): the operator page shows tables instead of charts */\n"
NO_UPLOT_CSS = "/* uplot is not installed */\n"


@bp.context_processor
def _job_choices() -> dict:
    """What the pages' job filters offer (app/templates/pages/_job_filters.html)."""
    return {"job_statuses": [status.value for status in JobStatus], "job_type_names": list(enabled_types())}


@bp.get("/")
def index():
    # Where the user is signed in is known only to the browser (localStorage): /jobs sends a
    # signed-out visitor on to /login.
    return redirect("/jobs")


@bp.get("/login")
def login():
    return render_template("pages/login.html", mode="login")


@bp.get("/signup")
def signup():
    return render_template("pages/login.html", mode="signup")


@bp.get("/jobs")
def jobs():
    return render_template("pages/jobs.html")


@bp.get("/jobs/<uuid:job_id>")
def job_detail(job_id: uuid.UUID):
    return render_template("pages/job.html", job_id=str(job_id))


@bp.get("/workflows", defaults={"workflow_id": None})
@bp.get("/workflows/<uuid:workflow_id>")
def workflows(workflow_id: uuid.UUID | None):
    return render_template("pages/workflow.html", workflow_id=str(workflow_id) if workflow_id else None)


@bp.get("/connections")
def connections():
    return render_template("pages/connections.html")


@bp.get("/schedules")
def schedules():
    return render_template("pages/schedules.html")


@bp.get("/preferences")
def preferences():
    return render_template("pages/preferences.html")


@bp.get("/webhooks")
def webhooks():
    return render_template("pages/webhooks.html")


@bp.get("/operator")
def operator():
    # Admins only, like the API it reads: the page itself says so to anyone else.
    return render_template("pages/operator.html")


@bp.get("/vendor/socket.io.min.js")
def socket_io_client():
    return _node_file(SOCKET_IO_CLIENT, "text/javascript", NO_CLIENT_JS)


@bp.get("/vendor/uPlot.iife.min.js")
def uplot_js():
    return _node_file(UPLOT_JS, "text/javascript", NO_UPLOT_JS)


@bp.get("/vendor/uPlot.min.css")
def uplot_css():
    return _node_file(UPLOT_CSS, "text/css", NO_UPLOT_CSS)


def _node_file(path: Path, mimetype: str, stand_in: str) -> Response:
    """A file of an npm package, or a stand-in comment (not a 404) when it is not installed."""
    if path.is_file():
        return send_file(path, mimetype=mimetype, max_age=3600)
    return Response(stand_in, mimetype=mimetype)


def register_web(app) -> None:
    """Serve the pages (called from app.create_app)."""
    app.register_blueprint(bp)
