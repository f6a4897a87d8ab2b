"""The logic of the product. API blueprints and Celery tasks are thin callers of these modules."""
