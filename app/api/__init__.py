"""REST API: one flask-smorest blueprint per resource, thin over the domain packages."""

from flask import Flask

from app.api import (
    admin,
    auth,
    batches,
    connections,
    health,
    job_history,
    jobs,
    notifications,
    schedules,
    uploads,
    webhooks,
    workflows,
)
from app.extensions import api


def register_api(app: Flask) -> None:
    resources = (auth, connections, jobs, batches, job_history, workflows, schedules, uploads, notifications, webhooks)
    for module in (*resources, health, admin):
        api.register_blueprint(module.blp)
