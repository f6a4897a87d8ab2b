"""analytics-report: the caller's job history (admins: everyone's) as a JSON and a CSV report."""

from app.services.analytics import run_report


def run(ctx) -> dict:
    return run_report(ctx, days=int(ctx.payload.get("days", 30)), all_users=bool(ctx.payload.get("allUsers", False)))
