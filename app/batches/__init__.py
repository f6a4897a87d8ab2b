"""Batches: many independent jobs created in one request, announced once as a whole.

Kept free of imports so that `app.models` can register the model without a cycle.
"""
