"""REST API: one flask-smorest blueprint per resource, thin over the domain packages."""

from flask import Flask

from app.api import admin, auth, connections, health, jobs, notifications, schedules, uploads, webhooks, workflows
from app.extensions import api


def register_api(app: Flask) -> None:
    for module in (auth, connections, jobs, workflows, schedules, uploads, notifications, health, admin, webhooks):
        api.register_blueprint(module.blp)
