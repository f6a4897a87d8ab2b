"""Checks on a connection URL before it is stored: form, dialect, operator allow-list, and
never the service's own database."""

from __future__ import annotations

import ipaddress
import os
import socket

from flask import current_app
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from app.errors import ValidationFailed

# Dialect name in the URL -> (canonical dialect, driver we connect with).
DIALECTS = {
    "postgresql": ("postgresql", "postgresql+psycopg2"),
    "postgres": ("postgresql", "postgresql+psycopg2"),
    "mysql": ("mysql", "mysql+pymysql"),
    "mariadb": ("mysql", "mysql+pymysql"),
    "sqlite": ("sqlite", "sqlite"),
}
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}

# The URLs the OpenAPI document promises to accept, as wide as the checks below: a server
# dialect (any driver), an optional user and password, a host, an optional port 1..65535, a
# database and an optional query; or an SQLite file other than `:memory:`.
_DRIVER = r"(\+[A-Za-z0-9_]+)?"
_USER = r"[^:/@?#\s\u0000]+(:[^@/?#\s\u0000]*)?@"
_HOST = r"[^/:?@#\[\]\s\u0000]+"
_PORT = r"(:([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?"
_DATABASE = r"/[^?#\s\u0000]+"
_QUERY = r"(\?[^#\s\u0000]*)?"
_SQLITE_FILE = r":///[^?#:\s\u0000][^?#\s\u0000]*"


def documented_url_pattern(allow_sqlite: bool) -> str:
    """A regular expression of the URLs the checks below accept (unless the host is outside
    CONNECTION_ALLOWED_HOSTS or it names the service's own database), built from DIALECTS."""
    servers = sorted(name for name, (dialect, _) in DIALECTS.items() if dialect != "sqlite")
    alternatives = [f"({'|'.join(servers)}){_DRIVER}://({_USER})?{_HOST}{_PORT}{_DATABASE}{_QUERY}"]
    if allow_sqlite:
        alternatives.append(f"sqlite{_DRIVER}{_SQLITE_FILE}{_QUERY}")
    return "^(" + "|".join(alternatives) + ")$"


def _invalid(message: str) -> ValidationFailed:
    return ValidationFailed("Invalid connection URL", {"url": [message]})


def parse_connection_url(raw: str) -> tuple[URL, str]:
    """Parse and normalise a user's URL; return it with its canonical dialect, or a 400."""
    try:
        url = make_url(raw.strip())
    except (ArgumentError, ValueError):
        raise _invalid("Not a valid database URL (expected e.g. postgresql://user:pass@host:5432/db)") from None
    backend = url.get_backend_name()
    if backend not in DIALECTS:
        raise _invalid(f"Unsupported dialect {backend!r}: use postgresql, mysql, mariadb or sqlite")
    dialect, driver = DIALECTS[backend]
    url = url.set(drivername=driver)
    if dialect == "sqlite":
        _check_sqlite(url)
    else:
        _check_server(url, dialect)
    return url, dialect


def _check_sqlite(url: URL) -> None:
    if not current_app.config["CONNECTION_ALLOW_SQLITE"]:
        raise _invalid("SQLite connections are disabled on this server (CONNECTION_ALLOW_SQLITE)")
    if not url.database or url.database == ":memory:" or url.database.startswith("file::memory:"):
        raise _invalid("A SQLite URL must name a database file")


def _check_server(url: URL, dialect: str) -> None:
    if not url.host:
        raise _invalid("The URL must name a host")
    if not url.database:
        raise _invalid("The URL must name a database")
    try:
        port = url.port
    except ValueError:
        raise _invalid("The port must be a number") from None
    if port is not None and not 0 < port < 65536:
        raise _invalid("The port must be between 1 and 65535")
    addresses = _resolve(url.host)
    _check_allowed_host(url.host, addresses)
    if dialect == "postgresql" and _is_own_database(url, addresses):
        raise _invalid("This URL points at the service's own database, which is never allowed")


def _resolve(host: str) -> set[ipaddress._BaseAddress]:
    """Every address a host name resolves to (empty if it does not resolve now)."""
    try:
        return {ipaddress.ip_address(host)}
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return set()
    return {ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos}


def _check_allowed_host(host: str, addresses: set) -> None:
    allowed = current_app.config["CONNECTION_ALLOWED_HOSTS"]
    if allowed is None:
        return
    for entry in allowed:
        if "/" in entry:
            network = ipaddress.ip_network(entry, strict=False)
            if addresses and all(address in network for address in addresses):
                return
        elif entry.lower() == host.lower():
            return
        else:
            try:
                if addresses and ipaddress.ip_address(entry) in addresses:
                    return
            except ValueError:
                pass
    raise _invalid(f"Host {host!r} is not in the operator's allowed hosts (CONNECTION_ALLOWED_HOSTS)")


def _is_local(addresses: set, host: str) -> bool:
    return (
        host.lower() in _LOOPBACK_NAMES
        or host.startswith("/")
        or any(address.is_loopback or address.is_unspecified or address in _own_addresses() for address in addresses)
    )


def _own_addresses() -> set:
    try:
        return _resolve(socket.gethostname())
    except OSError:
        return set()


def _is_own_database(url: URL, addresses: set) -> bool:
    """Same database name on the same server as DATABASE_URL (local aliases count as one host)."""
    own = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if (url.database or "") != (own.database or ""):
        return False
    if (url.port or 5432) != (own.port or 5432):
        return False
    own_host = own.host or own.query.get("host") or "localhost"
    if isinstance(own_host, tuple):
        own_host = own_host[0]
    if own_host.lower() == url.host.lower():
        return True
    own_addresses = _resolve(own_host) if not own_host.startswith("/") else set()
    if addresses & own_addresses:
        return True
    return _is_local(addresses, url.host) and _is_local(own_addresses, own_host)


def display_url(url: URL) -> str:
    """The URL as users see it: the password masked."""
    return url.render_as_string(hide_password=True)


def sqlite_path(url: URL) -> str | None:
    return os.path.abspath(url.database) if url.get_backend_name() == "sqlite" and url.database else None
