"""Peers: pg-boss and BullMQ measured next to our pipeline (see compare.py)."""
