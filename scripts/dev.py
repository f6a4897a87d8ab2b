#!/usr/bin/env python3
"""Developer entry point: set everything up, then run the service or the tests.

usage:
  python3 scripts/dev.py up                    run web, worker, beat and flower (Procfile, via honcho)
  python3 scripts/dev.py test [pytest args]    run the tests; every argument goes to pytest untouched
                                               (none: the whole suite, in TEST_WORKERS sessions)

Set-up, shared by both commands:
  * creates .venv with this interpreter if missing and installs
    requirements/dev.txt whenever the requirements files change, then re-runs
    itself inside .venv;
  * PostgreSQL: DATABASE_URL if set, else a server on 127.0.0.1:5432 (database
    "jobsvc", created if missing), else an embedded one under .local/postgres;
  * Redis: REDIS_URL if set, else a server on 127.0.0.1:6379, else an embedded
    redis-server on a free port;
  * embedded servers are stopped when the command exits.

environment:
  DATABASE_URL, REDIS_URL   use these servers as they are
  DEV_SERVICES=embedded     ignore servers on the default ports and start the
                            embedded ones (default: auto)
  up only, defaults when unset: APP_ENV=development PORT=5000 FLOWER_PORT=5555
                            FLOWER_BASIC_AUTH=admin:<random, printed once>
  test: APP_ENV=test; pytest's exit code is returned (5, "no tests
  collected", counts as a failure).
  TEST_WORKERS              test without arguments: how many pytest-xdist
                            sessions share the suite, a file each at a time
                            (default: 2, or 1 on a one-core machine)
"""

# Only the standard library may be imported at module level: this file runs
# before .venv exists. Project dependencies are imported after the re-exec.
from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
VENV_BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
VENV_PYTHON = VENV_BIN / ("python.exe" if os.name == "nt" else "python")
REQUIREMENTS = ROOT / "requirements" / "dev.txt"
REQUIREMENTS_STAMP = VENV / ".requirements.sha256"
PACKAGE_JSON = ROOT / "package.json"
NODE_MODULES_STAMP = ROOT / "node_modules" / ".package.sha256"
LOCAL_DIR = ROOT / ".local"
PROCFILE = ROOT / "Procfile"
UP_PROCESSES = ("web", "worker", "beat", "flower")
REEXEC_MARKER = "_DEV_PY_REEXECED"  # guards against an endless re-exec loop
PYTEST_NO_TESTS = 5


class DevError(Exception):
    """A failure explained in one line; reported without a traceback."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


def say(message: str) -> None:
    """Print a progress line, flushed so it interleaves correctly with children."""
    print(f"dev.py: {message}", flush=True)


# ------------------------------------------------------------------ virtualenv


def requirement_files(path: Path = REQUIREMENTS) -> list[Path]:
    """``path`` and every file it pulls in with ``-r``/``--requirement``, recursively."""
    files = [path]
    for line in path.read_text().splitlines():
        parts = line.split("#", 1)[0].split()
        if len(parts) == 2 and parts[0] in ("-r", "--requirement"):
            files += requirement_files(path.parent / parts[1])
    return files


def requirements_hash() -> str:
    """sha256 over the names and contents of the requirements files."""
    digest = hashlib.sha256()
    for path in requirement_files():
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def in_venv() -> bool:
    """Whether this interpreter is the repository's .venv."""
    return Path(sys.prefix).resolve() == VENV.resolve()


def create_venv() -> None:
    """Create .venv with the running interpreter (stdlib venv, with pip)."""
    say(f"creating {VENV.relative_to(ROOT)} with Python {sys.version.split()[0]}")
    # A subprocess rather than venv.create(): its error output names the missing
    # OS package (e.g. python3-venv on Debian) instead of a bare traceback.
    result = subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=False)
    if result.returncode != 0 or not VENV_PYTHON.exists():
        raise DevError(f"could not create {VENV} (see the message above)")


def install_requirements(digest: str) -> None:
    """pip install requirements/dev.txt into .venv, then record their hash."""
    say("installing requirements/dev.txt into .venv (takes a minute the first time)")
    command = [
        str(VENV_PYTHON),
        "-m",
        "pip",
        "install",
        "--quiet",
        "--quiet",  # -qq: errors only (-q still prints warnings, e.g. from pip config)
        "--disable-pip-version-check",
        "-r",
        str(REQUIREMENTS),
    ]
    if subprocess.run(command, cwd=ROOT, check=False).returncode != 0:
        raise DevError("pip install -r requirements/dev.txt failed (see the errors above)")
    # Written only on success, so an interrupted install is retried next time.
    REQUIREMENTS_STAMP.write_text(digest + "\n")


def ensure_venv() -> None:
    """Create .venv if needed and keep it in sync with the requirements files."""
    if not VENV_PYTHON.exists():
        create_venv()
    digest = requirements_hash()
    try:
        installed = REQUIREMENTS_STAMP.read_text().strip()
    except OSError:
        installed = ""
    if installed != digest:
        install_requirements(digest)


def ensure_node_modules() -> None:
    """npm install the browser pages' client (socket.io-client) when package.json changed.

    Optional: without node/npm, or when npm fails, the pages poll the REST API instead of
    getting live updates, so this warns rather than stops."""
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None or not PACKAGE_JSON.exists():
        return
    lock = ROOT / "package-lock.json"
    locked = lock.read_bytes() if lock.exists() else b""
    digest = hashlib.sha256(PACKAGE_JSON.read_bytes() + b"\0" + locked).hexdigest()
    try:
        if NODE_MODULES_STAMP.read_text().strip() == digest:
            return
    except OSError:
        pass
    say("installing the browser client (npm install)")
    command = [npm, "install", "--no-audit", "--no-fund", "--loglevel=error"]
    if subprocess.run(command, cwd=ROOT, check=False).returncode != 0:
        say("npm install failed: the web pages will poll instead of updating live")
        return
    NODE_MODULES_STAMP.write_text(digest + "\n")


def reexec_in_venv() -> None:
    """Replace this process with the same command run by .venv's interpreter."""
    if os.environ.get(REEXEC_MARKER):
        raise DevError(f"{VENV_PYTHON} does not run inside {VENV}; delete .venv and retry")
    os.environ[REEXEC_MARKER] = "1"
    sys.stdout.flush()
    os.execv(
        str(VENV_PYTHON),
        [str(VENV_PYTHON), str(Path(__file__).resolve()), *sys.argv[1:]],
    )


# ---------------------------------------------------------------- child processes


def child_env(overrides: dict[str, str]) -> dict[str, str]:
    """Environment for children: ours, .venv's bin first on PATH, plus ``overrides``.

    We were started as .venv/bin/python without activating the venv, so
    without this, `flask`, `celery` and `python` in the Procfile would not
    resolve to the venv's.
    """
    env = dict(os.environ)
    env.pop(REEXEC_MARKER, None)
    env.pop("PYTHONHOME", None)
    env["VIRTUAL_ENV"] = str(VENV)
    env["PATH"] = os.pathsep.join([str(VENV_BIN), env.get("PATH", "")])
    env.update(overrides)
    return env


def terminal_sends_sigint() -> bool:
    """Whether our process group is the foreground one of a terminal.

    If so, Ctrl-C already delivers SIGINT to the child (same process group),
    and forwarding it would make the child see two interrupts.
    """
    try:
        fd = os.open("/dev/tty", os.O_RDONLY)
    except OSError:
        return False
    try:
        return os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:
        return False
    finally:
        os.close(fd)


def run_child(command: list[str], env: dict[str, str]) -> int:
    """Run ``command`` in the foreground, forwarding signals; return its exit code.

    We keep running while the child handles the signal, so that the services
    it uses are stopped only after it has exited.
    """
    proc = subprocess.Popen(command, cwd=ROOT, env=env)

    def forward(signum: int, _frame: object) -> None:
        if signum == signal.SIGINT and terminal_sends_sigint():
            return
        proc.send_signal(signum)

    handled = [signal.SIGINT, signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])
    previous = {signum: signal.signal(signum, forward) for signum in handled}
    try:
        code = proc.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 128 - code if code < 0 else code  # killed by signal N: shell-style 128+N


def exit_on_termination() -> None:
    """Turn SIGTERM/SIGHUP into SystemExit so cleanup code (finally, with) runs."""

    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, stop)


# ---------------------------------------------------------------------- commands


def services_module():
    """Import scripts/services.py: it needs .venv's packages, so not at module level."""
    scripts_dir = str(Path(__file__).resolve().parent)
    if scripts_dir not in sys.path:
        sys.path.insert(0, scripts_dir)
    import services

    return services


def up_defaults() -> dict[str, str]:
    """Development defaults for variables the user has not set."""
    defaults = {
        "APP_ENV": "development",
        "PORT": "5000",
        "FLOWER_PORT": "5555",
        "PYTHONUNBUFFERED": "1",  # logs show up in honcho's output as they happen
    }
    env = {name: value for name, value in defaults.items() if not os.environ.get(name)}
    if not os.environ.get("FLOWER_BASIC_AUTH"):
        env["FLOWER_BASIC_AUTH"] = f"admin:{secrets.token_urlsafe(12)}"
    return env


def procfile_commands() -> dict[str, str]:
    """Process name -> command, parsed by honcho like `honcho start` does."""
    from honcho.environ import parse_procfile

    if not PROCFILE.is_file():
        raise DevError(f"{PROCFILE.name} not found in {ROOT}")
    processes = parse_procfile(PROCFILE.read_text()).processes
    missing = [name for name in UP_PROCESSES if name not in processes]
    if missing:
        raise DevError(f"{PROCFILE.name} defines no {', '.join(missing)} process")
    return dict(processes)


def command_up(args: list[str]) -> int:
    """Run the release step, then web, worker, beat and flower under honcho."""
    if args:
        raise DevError(f"'up' takes no arguments (got: {' '.join(args)})")
    processes = procfile_commands()
    defaults = up_defaults()
    # celery beat keeps its schedule in instance/ and fails if the folder is missing.
    (ROOT / "instance").mkdir(exist_ok=True)
    with services_module().running_services(LOCAL_DIR, announce=say) as urls:
        env = child_env({**defaults, **urls})
        if "release" in processes:
            say(f"release: {processes['release']}")
            code = run_child(["/bin/sh", "-c", processes["release"]], env)
            if code != 0:
                raise DevError(f"the release step failed with exit code {code}", code)
        print_urls(env, generated_auth=defaults.get("FLOWER_BASIC_AUTH"))
        command = [
            sys.executable,
            "-m",
            "honcho",
            "-f",
            str(PROCFILE),
            "start",
            *UP_PROCESSES,
        ]
        return run_child(command, env)


def print_urls(env: dict[str, str], generated_auth: str | None) -> None:
    """Where to look once everything is up; the generated Flower login is shown here only."""
    say(f"API     http://127.0.0.1:{env['PORT']}/api/health")
    say(f"docs    http://127.0.0.1:{env['PORT']}/api/docs")
    login = f" (login {generated_auth}, generated for this run)" if generated_auth else ""
    say(f"Flower  http://127.0.0.1:{env['FLOWER_PORT']}{login}")


def default_test_args() -> list[str]:
    """The whole suite, split by file between parallel sessions. Each session has its own
    database, Redis databases and processes, and most tests wait on subprocesses, so two sessions
    finish in about half the time even on two cores; more would crowd a small machine."""
    workers = int(os.environ.get("TEST_WORKERS") or min(2, os.cpu_count() or 1))
    return ["-n", str(workers), "--dist", "loadfile"] if workers > 1 else []


def command_test(args: list[str]) -> int:
    """Run pytest with ``args`` against the services; 'no tests collected' is a failure."""
    args = args or default_test_args()
    with services_module().running_services(LOCAL_DIR, announce=say) as urls:
        env = child_env({**urls, "APP_ENV": "test"})
        code = run_child([sys.executable, "-m", "pytest", *args], env)
    if code == PYTEST_NO_TESTS:
        say("pytest collected no tests (exit code 5): treated as a failure")
    return code


COMMANDS = {"up": command_up, "test": command_test}


def main(argv: list[str]) -> int:
    """Parse the command, prepare .venv, then run the command inside it."""
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(__doc__.strip())
        return 0 if argv else 2
    command, args = argv[0], argv[1:]
    if command not in COMMANDS:
        raise DevError(f"unknown command {command!r}; use 'up' or 'test' (see --help)", 2)
    # Read by whatever python3 the newcomer has, which may be older than ours.
    if sys.version_info < (3, 11):  # noqa: UP036
        raise DevError(f"Python 3.11+ is required, this is {sys.version.split()[0]}")
    exit_on_termination()
    ensure_venv()
    ensure_node_modules()
    if not in_venv():
        reexec_in_venv()
    services = services_module()
    try:
        return COMMANDS[command](args)
    except services.ServiceError as error:
        raise DevError(str(error)) from None


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except DevError as error:
        print(f"dev.py: error: {error}", file=sys.stderr)
        sys.exit(error.code)
    except KeyboardInterrupt:
        sys.exit(130)
