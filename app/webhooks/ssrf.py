"""Which webhook URLs and addresses may be reached (server-side request forgery guard).

A URL must be `https`, or `http` to a host of WEBHOOK_ALLOWED_HOSTS, and carry no credentials.
Its host is resolved and refused when any address is loopback, private, link-local, multicast,
reserved or unspecified, in any IPv6 form that embeds such an IPv4 address, unless the operator
allowed it. The same check runs at creation and again at every delivery, on the addresses the
delivery then connects to (DNS can change in between).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
URL_MAX = 2048
# IPv6 ranges that carry an IPv4 address in their low 32 bits.
_COMPATIBLE = ipaddress.ip_network("::/96")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class RefusedTarget(Exception):
    """The URL or one of its addresses may not be reached; the message says why (never a secret)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # lower-case, IDNA-encoded, without brackets
    port: int
    path: str  # path and query, as sent in the request line

    @property
    def host_header(self) -> str:
        shown = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return shown if self.port == default else f"{shown}:{self.port}"


@dataclass(frozen=True)
class AllowList:
    names: frozenset[str]
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

    def allows_name(self, host: str) -> bool:
        return host in self.names

    def allows_address(self, address: IPAddress) -> bool:
        return any(candidate in network for candidate in _forms(address) for network in self.networks)


@lru_cache(maxsize=16)
def allow_list(entries: tuple[str, ...]) -> AllowList:
    """WEBHOOK_ALLOWED_HOSTS read once: host names, IP addresses and CIDR ranges."""
    names, networks = set(), []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
        except ValueError:
            names.add(entry.lower().rstrip("."))
    return AllowList(frozenset(names), tuple(networks))


def parse(url: str) -> Target:
    """Check a URL's form: scheme, host, port, no credentials. Raises RefusedTarget."""
    if not isinstance(url, str) or len(url) > URL_MAX:
        raise RefusedTarget(f"The URL must be at most {URL_MAX} characters")
    if any(ch.isspace() or ord(ch) < 32 or ch == "\\" for ch in url):
        raise RefusedTarget("The URL must not contain spaces, control characters or backslashes")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise RefusedTarget("Only https URLs are allowed (or http to an allowed host)")
    if "@" in parts.netloc:
        raise RefusedTarget("The URL must not contain credentials")
    if not parts.hostname:
        raise RefusedTarget("The URL must name a host")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise RefusedTarget("The port must be a number between 1 and 65535") from None
    if not 0 < port < 65536:
        raise RefusedTarget("The port must be a number between 1 and 65535")
    host = _normalise_host(parts.hostname)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme, host, port, path)


def _normalise_host(hostname: str) -> str:
    if "%" in hostname:
        raise RefusedTarget("The host must not carry an IPv6 zone")
    try:
        return str(ipaddress.ip_address(hostname))
    except ValueError:
        pass
    try:
        return hostname.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise RefusedTarget("The host name is not valid") from None


def check(url: str, allowed: AllowList, timeout: float | None = None) -> tuple[Target, list[IPAddress]]:
    """The URL's target and the addresses it may be reached at now; raises RefusedTarget."""
    target = parse(url)
    addresses = resolve(target.host, target.port, timeout)
    named = allowed.allows_name(target.host)
    if not named:
        for address in addresses:
            check_address(address, allowed)
    if target.scheme == "http" and not (named or all(allowed.allows_address(a) for a in addresses)):
        raise RefusedTarget(f"Plain http is allowed only to the operator's allowed hosts; use https for {target.host}")
    return target, addresses


def check_address(address: IPAddress, allowed: AllowList) -> None:
    """Refuse an address that is not public unless the operator allowed it."""
    if allowed.allows_address(address):
        return
    reason = refusal_reason(address)
    if reason:
        raise RefusedTarget(f"The host resolves to a {reason} address ({address}), which is not allowed")


def refusal_reason(address: IPAddress) -> str | None:
    """Why an address is not public (None when it is), looking through IPv6 forms of IPv4."""
    for form in _forms(address):
        for reason, test in _CATEGORIES:
            if test(form):
                return reason
        if not form.is_global:
            return "non-public"
    return None


_CATEGORIES = (
    ("loopback", lambda a: a.is_loopback),
    ("unspecified", lambda a: a.is_unspecified),
    ("link-local", lambda a: a.is_link_local),
    ("private", lambda a: a.is_private),
    ("multicast", lambda a: a.is_multicast),
    ("reserved", lambda a: a.is_reserved),
)


def _forms(address: IPAddress) -> list[IPAddress]:
    """The address and every IPv4 address an IPv6 one carries (mapped, compatible, 6to4, NAT64, Teredo)."""
    forms: list[IPAddress] = [address]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            forms.append(address.ipv4_mapped)
        if address.sixtofour:
            forms.append(address.sixtofour)
        if address.teredo:
            forms.extend(address.teredo)
        if address in _COMPATIBLE or address in _NAT64:
            forms.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return forms


def resolve(host: str, port: int, timeout: float | None = None) -> list[IPAddress]:
    """Every address of a host (an IP literal is itself). `timeout` bounds a slow resolver."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    infos = _getaddrinfo(host, port, timeout)
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise RefusedTarget(f"The host {host} could not be resolved")
    return addresses


def _getaddrinfo(host: str, port: int, timeout: float | None) -> list:
    def lookup():
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)

    try:
        if timeout is None:
            return lookup()
        return _with_timeout(lookup, timeout)
    except (OSError, UnicodeError):
        raise RefusedTarget(f"The host {host} could not be resolved") from None


def _with_timeout(call, timeout: float):
    """Run a blocking lookup in a helper thread: getaddrinfo itself cannot be interrupted."""
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = call()
        except BaseException as exc:  # handed back to the caller below
            outcome["error"] = exc

    helper = threading.Thread(target=run, name="webhook-resolve", daemon=True)
    helper.start()
    helper.join(timeout)
    if helper.is_alive():
        raise TimeoutError("name resolution timed out")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
