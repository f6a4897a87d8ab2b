"""The page routes without a browser: they render, keep the strict CSP (no inline script or
style), and the socket.io client is served from node_modules or replaced by an empty script."""

from __future__ import annotations

import re

import pytest

from app import create_app, web
from app.jobs.registry import enabled_types
from app.jobs.state import JobStatus
from app.web import register_web

PAGES = [
    "/login",
    "/signup",
    "/jobs",
    "/jobs/00000000-0000-0000-0000-000000000001",
    "/connections",
    "/preferences",
    "/operator",
]


@pytest.fixture(scope="module")
def pages(database):
    """An app of its own: blueprints cannot be added to the shared one once it served requests."""
    app = create_app()
    if "web" not in app.blueprints:
        register_web(app)
    return app.test_client()


@pytest.mark.parametrize("path", PAGES)
def test_page_renders_without_inline_code(pages, path):
    response = pages.get(path)
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    html = response.get_data(as_text=True)
    assert "<main" in html
    # Every <script> has a src, no element has a style attribute, no on* handlers.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert not re.search(r"\sstyle=|\son[a-z]+=", html)


@pytest.mark.parametrize(("path", "prefix"), [("/jobs", ""), ("/operator", "admin-")])
def test_job_filters_offer_every_status_and_enabled_type(pages, path, prefix):
    """The filters list what the jobs list accepts: a new job type appears without a page edit."""
    html = pages.get(path).get_data(as_text=True)

    def options(select_id: str) -> list[str]:
        select = re.search(rf'<select id="{select_id}"[^>]*>(.*?)</select>', html, re.S)
        assert select, f"{path} has no #{select_id}"
        return re.findall(r'<option value="([^"]*)">', select.group(1))

    with pages.application.app_context():
        type_names = list(enabled_types())
    assert options(f"{prefix}filter-status") == ["", *(status.value for status in JobStatus)]
    assert options(f"{prefix}filter-type") == ["", *type_names]
    assert "noop" in type_names


def test_root_redirects_to_jobs(pages):
    response = pages.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/jobs")


def test_unknown_job_id_is_404(pages):
    assert pages.get("/jobs/not-a-uuid").status_code == 404


def test_socket_client_served_or_replaced(pages, monkeypatch, tmp_path):
    if web.SOCKET_IO_CLIENT.is_file():
        body = pages.get("/vendor/socket.io.min.js").get_data(as_text=True)
        assert "io" in body and len(body) > 10_000
    monkeypatch.setattr(web, "SOCKET_IO_CLIENT", tmp_path / "absent.js")
    response = pages.get("/vendor/socket.io.min.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert "not installed" in response.get_data(as_text=True)


def test_uplot_served_or_replaced(pages, monkeypatch, tmp_path):

    if web.UPLOT_JS.is_file():
        body = pages.get("/vendor/uPlot.iife.min.js").get_data(as_text=True)
        assert "uPlot" in body and len(body) > 10_000
        assert ".uplot" in pages.get("/vendor/uPlot.min.css").get_data(as_text=True)
    monkeypatch.setattr(web, "UPLOT_JS", tmp_path / "absent.js")
    monkeypatch.setattr(web, "UPLOT_CSS", tmp_path / "absent.css")
    script = pages.get("/vendor/uPlot.iife.min.js")
    assert script.status_code == 200 and script.mimetype == "text/javascript"
    assert "not installed" in script.get_data(as_text=True)
    assert pages.get("/vendor/uPlot.min.css").mimetype == "text/css"


def test_static_assets(pages):
    scripts = ["api.js", "live.js", "job-forms.js", "job-tracker.js", "operator.js", "operator-charts.js"]
    for path in ["/static/css/app.css"] + [f"/static/js/{name}" for name in scripts]:
        response = pages.get(path)
        assert response.status_code == 200, path
        response.close()
