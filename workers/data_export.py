"""data-export: a read-only query on one of the user's connections, kept as a CSV or JSON file."""

from app.services.exporting.runner import export


def run(ctx) -> dict:
    return export(ctx, ctx.payload)
