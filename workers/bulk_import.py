"""bulk-import: load an uploaded CSV or JSON file into a table of the user's database, all or nothing."""

from app.services.importing import run_import


def run(ctx) -> dict:
    return run_import(ctx)
