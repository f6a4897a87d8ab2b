"""Our no-op enqueue and drain rates next to pg-boss's and BullMQ's, on the same servers.

    python bench/peers/compare.py [--quick] [--jobs 1000] [--concurrency 4] [--drain-seconds 30]

Installs pg-boss and BullMQ with npm into bench/.scratch/peers (git-ignored; nothing of theirs is
committed) with the machine's node and npm, then runs bench/peers/peers.mjs there against a
scratch PostgreSQL database (created and dropped) and a free Redis database (leased, flushed).

Ours: enqueue = jobs created one at a time through the service layer (`create_job`: the row, its
notification and audit entry, the commit, the hand-off to Celery) per second, with no worker
running; drain = a Celery worker of the same concurrency started on the full queue, jobs completed
per second from the first start to the last completion (PostgreSQL's timestamps). Each drain is
capped at --drain-seconds and counts what completed by then. When node or npm is missing, or the
install fails (offline), the rows say "skipped: ..." instead.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script from anywhere

from bench import support  # noqa: E402

HERE = Path(__file__).resolve().parent
SCRATCH = support.ROOT / "bench" / ".scratch" / "peers"
# Pinned: pg-boss 11+ needs node 22, and this is what node 20 runs. BullMQ 5 brings its ioredis.
PACKAGES = {"pg-boss": "10.4.2", "bullmq": "5.81.5"}
NPM_TIMEOUT = 300


class Skipped(Exception):
    """The peers cannot run here; the message says why."""


def install(script_name: str = "peers.mjs") -> Path:
    """pg-boss and BullMQ in the scratch folder (reused while the pinned versions match), and a
    copy of bench/peers/`script_name` there to run."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise Skipped(f"{'node' if node is None else 'npm'} not found")
    SCRATCH.mkdir(parents=True, exist_ok=True)
    manifest = {"name": "jobsvc-bench-peers", "private": True, "version": "1.0.0", "dependencies": PACKAGES}
    manifest_path = SCRATCH / "package.json"
    installed = all((SCRATCH / "node_modules" / name / "package.json").exists() for name in PACKAGES)
    if not installed or json.loads(manifest_path.read_text() if manifest_path.exists() else "{}") != manifest:
        manifest_path.write_text(json.dumps(manifest, indent=2))
        try:
            done = subprocess.run(
                [npm, "install", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=SCRATCH,
                capture_output=True,
                text=True,
                timeout=NPM_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            raise Skipped(f"npm install did not finish in {NPM_TIMEOUT} s (offline?)") from None
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise Skipped(f"npm install failed: {last[:120]}")
    # Run from the scratch folder so that the script's imports resolve to what was installed there.
    script = SCRATCH / script_name
    shutil.copyfile(HERE / script_name, script)
    return script


def run_script(script: Path, settings: dict[str, str]) -> dict:
    """Run an installed script against a scratch PostgreSQL database (created and dropped) and a
    leased Redis database, as PEERS_DATABASE_URL / PEERS_REDIS_URL plus `settings` in its
    environment; returns the JSON of its last line."""
    name = f"jobsvc_bench_peers_{secrets.token_hex(4)}"
    admin = support._admin()
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    try:
        with support.leased_redis_database() as redis_url:
            env = {
                **os.environ,
                "PEERS_DATABASE_URL": support.SERVER_URL.set(drivername="postgresql", database=name).render_as_string(
                    hide_password=False
                ),
                "PEERS_REDIS_URL": redis_url,
                **settings,
            }
            done = subprocess.run(
                [shutil.which("node"), script.name], cwd=SCRATCH, env=env, capture_output=True, text=True, timeout=600
            )
        if done.returncode != 0:
            raise RuntimeError(f"{script.name} failed:\n{done.stderr[-2000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def measure_peers(script: Path, jobs: int, concurrency: int, drain_seconds: float) -> dict:
    settings = {
        "PEERS_JOBS": str(jobs),
        "PEERS_CONCURRENCY": str(concurrency),
        "PEERS_DRAIN_SECONDS": str(drain_seconds),
    }
    return run_script(script, settings)


def measure_ours(jobs: int, concurrency: int, drain_seconds: float) -> dict:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.jobs import service as job_service
    from app.models import Job
    from app.users.service import create_user

    # A private redis-server: the jobs' socket events stay off any shared server's channels.
    with support.service_environment(private_redis=True) as app, app.app_context():
        user = create_user(f"bench-{time.time_ns()}@example.com", "benchmark-password")
        started = time.perf_counter()
        for _ in range(jobs):
            job_service.create_job(user.id, "noop", {})
        enqueue = jobs / (time.perf_counter() - started)
        support.start_worker(concurrency)
        deadline = time.monotonic() + drain_seconds  # from "ready": its start-up is not the queue's
        completed = select(func.count()).select_from(Job).where(Job.status == "completed")
        while db.session.scalar(completed) < jobs and time.monotonic() < deadline:
            db.session.rollback()
            time.sleep(0.05)
        support.stop_all()
        db.session.rollback()
        first, last, done = db.session.execute(
            select(func.min(Job.started_at), func.max(Job.completed_at), func.count(Job.completed_at))
        ).one()
        drain = done / (last - first).total_seconds() if done else float("nan")
        db.session.remove()
    return {"enqueuePerSecond": enqueue, "drainPerSecond": drain, "completed": done}


def to_rows(ours: dict | None, peers: dict | None, args, skipped: str = "") -> list[support.Row]:
    rows = []
    for key, label in (("pgBoss", f"pg-boss {PACKAGES['pg-boss']}"), ("bullMq", f"BullMQ {PACKAGES['bullmq']}")):
        slug = key.lower()
        peer = (peers or {}).get(key)
        how = f", {peer['how']}" if peer else ""
        enqueue = f"noop jobs enqueued one at a time, {args.jobs:,} (vs {label})"
        drain = f"noop jobs drained, concurrency {args.concurrency} (vs {label}{how})"
        if peer is None or ours is None:
            note = skipped or "error: not measured"
            rows += [support.not_measured(f"peers.enqueue-{slug}", enqueue, "jobs/s", note)]
            rows += [support.not_measured(f"peers.drain-{slug}", drain, "jobs/s", note)]
            continue
        rows.append(
            support.Row(f"peers.enqueue-{slug}", enqueue, "jobs/s", ours["enqueuePerSecond"], peer["enqueuePerSecond"])
        )
        rows.append(support.Row(f"peers.drain-{slug}", drain, "jobs/s", ours["drainPerSecond"], peer["drainPerSecond"]))
    return rows


def measure(args) -> list[support.Row]:
    try:
        script = install()
    except Skipped as why:
        return to_rows(None, None, args, skipped=f"skipped: {why}")
    peers = measure_peers(script, args.jobs, args.concurrency, args.drain_seconds)
    ours = measure_ours(args.jobs, args.concurrency, args.drain_seconds)
    for name, result in (("ours", ours), ("pg-boss", peers["pgBoss"]), ("BullMQ", peers["bullMq"])):
        print(f"{name}: {result['completed']} of {args.jobs} drained within the cap", file=sys.stderr)
    return to_rows(ours, peers, args)


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100 jobs, drains capped at 4 s")
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=4, help="as bench/pipeline.py's worker")
    parser.add_argument("--drain-seconds", type=float, default=30)
    args = parser.parse_args(argv)
    if args.quick:
        args.jobs, args.drain_seconds = 100, 4
    return args


def collect(quick: bool = False) -> list[support.Row]:
    """The rows of `bench/run.py`."""
    return measure(arguments(["--quick"] if quick else []))


def main() -> None:
    support.print_rows(measure(arguments()))


if __name__ == "__main__":
    main()
