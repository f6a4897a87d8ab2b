"""Benchmark the notification centre's list queries on a large table.

    python bench/notifications.py [--rows 1000000] [--user-rows 100000] [--repeat 15] [--quick]

Creates a throw-away database on the server of DATABASE_URL (default
postgresql://postgres@127.0.0.1:5432/postgres), migrates it with Alembic as `release` does,
bulk-inserts --rows notifications (INSERT ... SELECT generate_series) of which --user-rows belong to
one user and the rest are spread over many others, VACUUM ANALYZEs, then times what the service
runs for that user (app.notifications.center, inside an app context): the first page,
page 1,000 (limit 20, so offset 19,980), the unread count and the total. It prints the median of
--repeat runs, each case's ratio to the first page, and the EXPLAIN (ANALYZE, BUFFERS) plans.
A plain LIMIT/OFFSET page 1,000 is timed too, as the baseline the service's query must beat.
--quick: 20,000 rows for the user (page 1,000 is its last page) and 20,000 for the others.
The database is dropped at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

# Run as a script from anywhere: make the repository root importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
LIMIT = 20
FAR_PAGE = 1000
USERS_PER_ROWS = 100  # one other user per 100 of their rows: 10,000 users for a million rows


def server_url() -> URL:
    url = make_url(os.environ.get("DATABASE_URL", DEFAULT_SERVER_URL))
    return url.set(drivername="postgresql+psycopg2")


@contextmanager
def bench_database() -> Iterator[URL]:
    """A fresh, randomly named database on the server; dropped on exit."""
    name = f"bench_notifications_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server_url(), poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield server_url().set(database=name)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def build_app(url: URL):
    """The app on the bench database, migrated; secrets given so that nothing is written to instance/."""
    os.environ["DATABASE_URL"] = url.render_as_string(hide_password=False)
    from flask_migrate import upgrade

    from app import create_app

    app = create_app({"JWT_SECRET_KEY": "bench", "CONNECTION_SECRET_KEY": "bench", "LOG_FORMAT": "text"})
    with app.app_context():
        upgrade()
    return app


def fill(session, rows: int, user_rows: int) -> tuple[uuid.UUID, int]:
    """Users and notifications in two set-based statements; returns the heavy user's id and row count.

    Rows are made oldest first, as they arrive in production, so the heavy user's rows (every
    `stride`-th, one in ten unread) lie scattered over the heap among the others' (dealt
    round-robin over their users, one in five unread) rather than packed together."""
    stride = max(1, rows // user_rows)
    others = max(1, (rows - rows // stride) // USERS_PER_ROWS)
    session.execute(
        text(
            "INSERT INTO users (id, email, password_hash, role, created_at) "
            "SELECT gen_random_uuid(), 'bench-' || g || '@example.com', 'x', 'user', now() "
            "FROM generate_series(0, :n) AS g"
        ),
        {"n": others},
    )
    heavy = session.execute(text("SELECT id FROM users WHERE email = 'bench-0@example.com'")).scalar_one()
    session.execute(
        text(
            "WITH u AS (SELECT array_agg(id ORDER BY id) AS ids FROM users WHERE id <> :uid), "
            "r AS (SELECT g, g % :stride = 0 AS mine, CASE WHEN g % :stride = 0 THEN (g / :stride) % 10 <> 0 "
            "      ELSE g % 5 <> 0 END AS read FROM generate_series(1, :rows) AS g) "
            "INSERT INTO notifications "
            "(id, user_id, type, title, message, data, read, read_at, created_at, expires_at) "
            "SELECT gen_random_uuid(), CASE WHEN r.mine THEN :uid ELSE u.ids[1 + r.g % cardinality(u.ids)] END, "
            "'job_completed', 'Job ' || r.g || ' completed', 'Schema rebuild completed successfully', '{}'::jsonb, "
            "r.read, CASE WHEN r.read THEN now() END, now() - (:rows - r.g) * interval '1 second', "
            "now() + interval '90 days' FROM u, r ORDER BY r.g"
        ),
        {"uid": heavy, "rows": rows, "stride": stride},
    )
    session.commit()
    return heavy, rows // stride


def vacuum_analyze(url: URL) -> None:
    """VACUUM sets the visibility map (what index-only scans rely on; autovacuum does it in
    production), ANALYZE the statistics. VACUUM cannot run inside a transaction."""
    engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql("VACUUM (ANALYZE) notifications")
        conn.exec_driver_sql("ANALYZE users")
    engine.dispose()


def median_ms(run: Callable[[], object], repeat: int) -> float:
    for _ in range(2):  # warm the caches and the connection
        run()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def explain(session, statement) -> str:
    sql = str(statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    rows = session.execute(text(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {sql}")).scalars()
    return "\n".join(rows)


def plain_offset_statement(user_id: uuid.UUID, page: int, limit: int):
    """The textbook LIMIT/OFFSET page: the baseline to beat."""
    from sqlalchemy import select

    from app.models import Notification

    return (
        select(Notification)
        .where(Notification.user_id == user_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .offset((page - 1) * limit)
        .limit(limit)
    )


def measure(app, user_id: uuid.UUID, repeat: int, plans: bool = True) -> dict[str, float]:
    """Median milliseconds per case; prints them (and with `plans` the EXPLAIN of each query)."""
    from app.extensions import db
    from app.notifications import center

    with app.app_context():
        session = db.session

        def plain_page():
            return session.scalars(plain_offset_statement(user_id, FAR_PAGE, LIMIT)).all()

        cases: list[tuple[str, Callable[[], object], object]] = [
            ("page 1 (rows)", lambda: center.page_rows(user_id, 1, LIMIT), center.page_statement(user_id, 1, LIMIT)),
            (
                f"page {FAR_PAGE:,} (rows)",
                lambda: center.page_rows(user_id, FAR_PAGE, LIMIT),
                center.page_statement(user_id, FAR_PAGE, LIMIT),
            ),
            (f"page {FAR_PAGE:,}, plain OFFSET", plain_page, plain_offset_statement(user_id, FAR_PAGE, LIMIT)),
            ("unread count", lambda: center.unread_count(user_id), center.unread_statement(user_id)),
            ("total count", lambda: center.total_count(user_id), center.total_statement(user_id)),
            ("GET page 1 (rows+counts)", lambda: center.list_notifications(user_id, 1, LIMIT, False), None),
            (f"GET page {FAR_PAGE:,}", lambda: center.list_notifications(user_id, FAR_PAGE, LIMIT, False), None),
        ]
        assert len(center.page_rows(user_id, FAR_PAGE, LIMIT)) == LIMIT, "page 1,000 must be a full page"
        assert [n.id for n in center.page_rows(user_id, FAR_PAGE, LIMIT)] == [n.id for n in plain_page()]
        results = [(name, median_ms(run, repeat)) for name, run, _ in cases]
        base = results[0][1]
        print(f"\n{'case':<28} {'median ms':>10} {'x page 1':>9}")
        for name, ms in results:
            print(f"{name:<28} {ms:>10.3f} {ms / base:>9.2f}")
        for name, _, statement in cases if plans else ():
            if statement is not None:
                print(f"\n--- {name}\n{explain(session, statement)}")
        session.rollback()
    return dict(results)


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="notifications in all")
    parser.add_argument("--user-rows", type=int, default=100_000, help="of which the measured user holds")
    parser.add_argument("--repeat", type=int, default=15, help="timed runs per case (median)")
    parser.add_argument("--quick", action="store_true", help="20,000 rows for the user, 20,000 for the others")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.user_rows = 40_000, 20_000
    if args.user_rows < FAR_PAGE * LIMIT or args.rows < args.user_rows:
        parser.error(f"--user-rows must be >= {FAR_PAGE * LIMIT:,} and <= --rows")
    return args


def run(args: argparse.Namespace, plans: bool = True) -> dict[str, float]:
    """Build, fill and measure a throw-away database; returns the median ms per case."""
    with bench_database() as url:
        app = build_app(url)
        from app.extensions import db

        started = time.perf_counter()
        with app.app_context():
            user_id, user_rows = fill(db.session, args.rows, args.user_rows)
            db.session.remove()
            db.engine.dispose()
        vacuum_analyze(url)
        print(
            f"{args.rows:,} notifications ({user_rows:,} for the measured user) "
            f"loaded and analysed in {time.perf_counter() - started:.1f}s"
        )
        results = measure(app, user_id, args.repeat, plans)
        with app.app_context():
            db.engine.dispose()  # let DROP DATABASE go without waiting on our pool
    return results


def collect(quick: bool = False) -> list:
    """The rows of `bench/run.py`: the service's page 1,000 against a plain OFFSET and its page 1."""
    from bench.support import Row

    args = arguments(["--quick"] if quick else [])
    results = run(args, plans=False)
    far, first, plain = (
        results[f"page {FAR_PAGE:,} (rows)"],
        results["page 1 (rows)"],
        results[f"page {FAR_PAGE:,}, plain OFFSET"],
    )
    of = f"{args.user_rows:,}/{args.rows:,} notifications"
    return [
        Row(
            "notifications.far-page",
            f"notifications page {FAR_PAGE:,}, {of} (vs plain OFFSET)",
            "ms",
            far,
            plain,
            "<= 1",
        ),
        Row(
            "notifications.far-vs-first", f"notifications page {FAR_PAGE:,}, {of} (vs page 1)", "ms", far, first, "<= 3"
        ),
    ]


def main() -> int:
    run(arguments())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
