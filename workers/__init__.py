"""Celery workers: `celery -A workers worker` finds the `celery` app here."""

from workers.celery_app import celery, flask_app

__all__ = ["celery", "flask_app"]
