"""A real SMTP server for the tests: aiosmtpd on a free local port, keeping every message it
accepts. Optional SMTP AUTH, STARTTLS or implicit TLS (self-signed certificate made with
`cryptography`), and per-recipient refusals to play a server that says no."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import tempfile
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import quote, urlencode

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HOST = "127.0.0.1"
# recipient address -> an SMTP reply ("451 4.3.0 Try later") to refuse it with, or None to accept.
RefusalRule = Callable[[str], str | None]


@dataclass
class ReceivedMessage:
    """One accepted message, as the server saw it."""

    mail_from: str
    recipients: list[str]
    message: EmailMessage
    authenticated_as: str | None
    tls: bool

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        return self.message.get_body(preferencelist=("plain",)).get_content()

    @property
    def html(self) -> str:
        return self.message.get_body(preferencelist=("html",)).get_content()

    @property
    def raw(self) -> str:
        return self.message.as_string()


class _Recorder:
    """aiosmtpd handler: refuses what the rule says, keeps the rest."""

    def __init__(self, refuse: RefusalRule | None):
        self.refuse = refuse
        self.messages: list[ReceivedMessage] = []
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd's name)
        reply = self.refuse(address) if self.refuse else None
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        message = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        tls = server.transport.get_extra_info("ssl_object") is not None or session.ssl is not None
        with self.lock:
            self.messages.append(
                ReceivedMessage(envelope.mail_from, list(envelope.rcpt_tos), message, session.auth_data, tls)
            )
        return "250 Message accepted for delivery"


class _Controller(Controller):
    def factory(self):
        # Plain-text AUTH is what the AUTH-without-TLS test asks for: aiosmtpd's warning is expected.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
            return super().factory()


class SmtpServer:
    """Start with `with SmtpServer(...) as server:`; `server.url()` is what SMTP_URL should be.

    users: {login: password} turns on SMTP AUTH (required before MAIL FROM).
    starttls / implicit_tls: offer STARTTLS (and require it when `require_tls`) or speak TLS at once.
    """

    def __init__(
        self,
        users: dict[str, str] | None = None,
        starttls: bool = False,
        implicit_tls: bool = False,
        require_tls: bool = False,
        refuse: RefusalRule | None = None,
    ):
        self.users = users or {}
        self.starttls, self.implicit_tls = starttls, implicit_tls
        self.handler = _Recorder(refuse)
        self.port = free_port()
        self._certdir = tempfile.TemporaryDirectory(prefix="smtp-cert-") if starttls or implicit_tls else None
        kwargs: dict = {"hostname": HOST, "port": self.port, "server_hostname": "localhost", "ready_timeout": 10}
        if self._certdir:
            context = server_tls_context(Path(self._certdir.name))
            if implicit_tls:
                kwargs["ssl_context"] = context
            else:
                kwargs.update(tls_context=context, require_starttls=require_tls)
        if self.users:
            kwargs.update(
                authenticator=self._authenticate,
                auth_required=True,
                # With STARTTLS on offer, AUTH is refused until the client has upgraded; without it,
                # plain-text AUTH is allowed (what a test of AUTH alone needs; never in production).
                auth_require_tls=starttls,
            )
        self.controller = _Controller(self.handler, **kwargs)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self.controller.stop()
        if self._certdir:
            self._certdir.cleanup()

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            login, password = auth_data.login.decode(), auth_data.password.decode()
            if login in self.users and self.users[login] == password:
                return AuthResult(success=True, auth_data=login)
        return AuthResult(success=False, handled=False)

    def url(self, user: str | None = None, password: str | None = None, **options: str) -> str:
        """The SMTP_URL that reaches this server, e.g. url("bob", "pw", starttls="true", verify="false")."""
        scheme = "smtps" if self.implicit_tls else "smtp"
        credentials = f"{quote(user, safe='')}:{quote(password or '', safe='')}@" if user else ""
        query = f"?{urlencode(options)}" if options else ""
        return f"{scheme}://{credentials}{HOST}:{self.port}{query}"

    @property
    def messages(self) -> list[ReceivedMessage]:
        with self.handler.lock:
            return list(self.handler.messages)

    def messages_to(self, address: str) -> list[ReceivedMessage]:
        return [m for m in self.messages if address.lower() in (r.lower() for r in m.recipients)]

    def wait_for(self, address: str, count: int = 1, timeout: float = 20.0) -> list[ReceivedMessage]:
        """Wait until `count` messages for `address` have arrived; returns them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.messages_to(address)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        got = self.messages_to(address)
        raise AssertionError(f"{count} message(s) to {address} not received in {timeout}s; got {got}")


def free_port() -> int:
    """A port nothing listens on right now (also what a "server down" test points at)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def server_tls_context(directory: Path) -> ssl.SSLContext:
    """A server context with a fresh self-signed certificate for localhost / 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context
