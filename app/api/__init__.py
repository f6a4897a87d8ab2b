"""REST API: one flask-smorest blueprint per resource, thin over the domain packages."""

from flask import Flask

from app.api import admin, auth, connections, health, job_history, jobs, notifications, uploads
from app.extensions import api


def register_api(app: Flask) -> None:
    for module in (auth, connections, jobs, job_history, uploads, notifications, health, admin):
        api.register_blueprint(module.blp)
