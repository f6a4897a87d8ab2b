"""Run every benchmark and print one table: what is measured, ours, baseline, ratio, target, met?

    python bench/run.py [--quick] [--only NAME,...] [--json PATH]

Each baseline is measured in the same run, on the same machine, so the ratio is what matters
(the machine is shared and noisy: absolute figures move from run to run). Each benchmark runs in a
process of its own with a time limit, starts what it needs (databases, Redis, web and worker
processes) and removes it afterwards; its output goes to a log under bench/.scratch/logs/.

--quick   tiny sizes, two benchmarks at a time: a smoke run of about a minute
--only    benchmarks or rows, by name or prefix: `--only sockets,latency.median`
--json    also save the rows (and the run's settings and wall time) as JSON

Exits 1 when a benchmark failed (a row says "error: ..."); a missed target is only reported.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from bench.support import Row, print_rows  # noqa: E402

LOGS = ROOT / "bench" / ".scratch" / "logs"
ROWS_MARKER = "BENCH-ROWS "
QUICK_PARALLEL = 2


@dataclass(frozen=True)
class Benchmark:
    name: str  # the prefix of its rows' names
    module: str  # exposes collect(quick: bool) -> list[Row]
    limit: float  # seconds for the full run; a quick run gets a third of it
    optional: bool = False  # left out (with a word) while the module has no collect()


BENCHMARKS = [
    Benchmark("introspection", "bench.introspection", 240),
    Benchmark("notifications", "bench.notifications", 180),
    Benchmark("sockets", "bench.sockets", 360),
    Benchmark("delivery", "bench.socket_delivery", 300),
    Benchmark("hot-path", "bench.hot_path", 400),
    Benchmark("cpu-http", "bench.cpu_http", 420),
    Benchmark("api", "bench.api_throughput", 180),
    Benchmark("jobs-list", "bench.jobs_list", 300),
    Benchmark("batch", "bench.batch", 300),
    Benchmark("latency", "bench.latency", 480),
    Benchmark("pipeline", "bench.pipeline_rows", 400),
    Benchmark("peers", "bench.peers.compare", 400),
    Benchmark("export-memory", "bench.export_memory", 300, optional=True),
]


def selected(name: str, selectors: list[str] | None) -> bool:
    """Whether a benchmark or row `name` is asked for: every one without --only; with it, a
    selector equal to the name, naming a part of it, or naming something inside it."""
    if not selectors:
        return True
    return any(name == s or name.startswith(s + ".") or s.startswith(name + ".") for s in selectors)


# --------------------------------------------------------------------------- one benchmark (child)


def run_child(name: str, quick: bool) -> None:
    """Measure one benchmark and print its rows as one marked JSON line on stdout. Everything the
    benchmark prints goes to stderr (the log); SIGTERM unwinds it so its clean-up runs."""

    def on_term(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    benchmark = next(b for b in BENCHMARKS if b.name == name)
    out, sys.stdout = sys.stdout, sys.stderr
    try:
        rows = importlib.import_module(benchmark.module).collect(quick=quick)
    finally:
        sys.stdout = out
    print(ROWS_MARKER + json.dumps([row.as_dict() for row in rows]), flush=True)


# --------------------------------------------------------------------------- the table (parent)


def available(benchmark: Benchmark) -> bool:
    if not benchmark.optional:
        return True
    path = ROOT / Path(*benchmark.module.split("."))
    return path.with_suffix(".py").exists() and "def collect(" in path.with_suffix(".py").read_text()


def run_benchmark(benchmark: Benchmark, quick: bool) -> list[Row]:
    """The benchmark in a child process, within its time limit; a failure becomes an error row."""
    LOGS.mkdir(parents=True, exist_ok=True)
    log_path = LOGS / f"{benchmark.name}{'-quick' if quick else ''}.log"
    limit = benchmark.limit / 3 if quick else benchmark.limit
    command = [sys.executable, __file__, "--child", benchmark.name, *(["--quick"] if quick else [])]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}  # eventlet's deprecation notice, once per process
    with log_path.open("w") as log:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=log, text=True)
        try:
            out, _ = proc.communicate(timeout=limit)
            failure = f"exit {proc.returncode}" if proc.returncode else ""
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGTERM)  # its clean-up stops what it started
            try:
                out, _ = proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, _ = proc.communicate()
            failure = f"over its {limit:.0f} s limit"
    marked = [line for line in out.splitlines() if line.startswith(ROWS_MARKER)]
    if marked and not failure:
        return [Row.from_dict(data) for data in json.loads(marked[-1][len(ROWS_MARKER) :])]
    tail = log_path.read_text(errors="replace").strip().splitlines()[-3:]
    print(f"  {benchmark.name} failed ({failure or 'no rows'}); log: {log_path}", file=sys.stderr)
    for line in tail:
        print(f"    {line[:200]}", file=sys.stderr)
    return [Row(f"{benchmark.name}.error", f"{benchmark.name} benchmark", "", note=f"error: {failure or 'no rows'}")]


_finished = []


def timed(benchmark: Benchmark, quick: bool, of: int) -> list[Row]:
    began = time.monotonic()
    rows = run_benchmark(benchmark, quick)
    _finished.append(benchmark.name)
    print(f"[{len(_finished)}/{of}] {benchmark.name}: {time.monotonic() - began:.0f} s", file=sys.stderr, flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], epilog=f"benchmarks: {', '.join(b.name for b in BENCHMARKS)}"
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    parser.add_argument("--only", help="comma-separated benchmark or row names (prefixes)")
    parser.add_argument("--json", type=Path, help="also save the rows here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        run_child(args.child, args.quick)
        return 0
    selectors = [s.strip() for s in args.only.split(",") if s.strip()] if args.only else None
    known = {b.name for b in BENCHMARKS}
    unknown = [s for s in selectors or () if s.split(".")[0] not in known]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(sorted(known))}")

    started = time.monotonic()
    chosen = [b for b in BENCHMARKS if selected(b.name, selectors)]
    for benchmark in chosen:
        if not available(benchmark):
            print(f"{benchmark.name}: left out ({benchmark.module} has no collect())", file=sys.stderr)
    chosen = [b for b in chosen if available(b)]
    # The full table runs one benchmark at a time: each has the machine to itself, as far as a
    # shared machine allows. A quick run only checks that every row still produces figures, so
    # it runs two at a time to stay near a minute.
    with ThreadPoolExecutor(max_workers=QUICK_PARALLEL if args.quick else 1) as pool:
        futures = {b.name: pool.submit(timed, b, args.quick, len(chosen)) for b in chosen}
        results = {name: future.result() for name, future in futures.items()}
    rows = [
        row for b in chosen for row in results[b.name] if selected(row.name, selectors) or row.name.endswith(".error")
    ]
    wall = time.monotonic() - started

    print()
    print_rows(rows)
    met = sum(row.met is True for row in rows)
    targeted = sum(row.met is not None for row in rows)
    quick = " (--quick)" if args.quick else ""
    print(f"\n{len(rows)} rows, {met} of {targeted} targets met; wall time {wall:.0f} s{quick}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        report = {
            "finishedAt": datetime.now(UTC).isoformat(timespec="seconds"),
            "quick": args.quick,
            "only": selectors,
            "wallSeconds": round(wall, 1),
            "rows": [row.as_dict() for row in rows],
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 1 if any(row.note.startswith("error") for row in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
