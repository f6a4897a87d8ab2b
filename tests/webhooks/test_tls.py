"""https deliveries verify the receiver's certificate against the URL's host name, sent as SNI,
while connecting to the address that was checked. The receiver here has a self-signed
certificate, so the attempt must fail; what it saw of the handshake shows which name was asked."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
import uuid

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app import create_app
from app.extensions import db
from app.webhooks import outbox, sender
from app.webhooks.models import WebhookDelivery
from tests.support.api import register
from tests.webhooks.conftest import OVERRIDES, create_webhook

NAME = "tls.example.test"


def _self_signed(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, NAME)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(NAME), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@pytest.fixture()
def tls_receiver(tmp_path):
    """A TLS listener on 127.0.0.1 that records the SNI name of each handshake."""
    cert, key = _self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    names: list[str | None] = []
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            try:
                with context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)
            except (OSError, ssl.SSLError):
                pass  # the client refused our certificate: expected

    threading.Thread(target=serve, daemon=True).start()
    yield listener.getsockname()[1], names
    stop.set()
    listener.close()


@pytest.fixture()
def one_attempt_app(database):
    """One attempt only: no retry is handed to a worker, which could not resolve the test's name."""
    return create_app({**OVERRIDES, "WEBHOOK_MAX_ATTEMPTS": 1})


def test_https_checks_the_certificate_for_the_urls_host(one_attempt_app, wh_client, tls_receiver, monkeypatch):
    port, names = tls_receiver
    real = socket.getaddrinfo
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, *a, **k: (
            [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))] if host == NAME else real(host, *a, **k)
        ),
    )
    account = register(wh_client)
    create_webhook(wh_client, account["headers"], f"https://{NAME}:{port}/hook", events=["job.failed"])
    with one_attempt_app.app_context():
        # Recorded, not handed to a worker: the test makes the attempt itself.
        [delivery_id] = outbox.record(uuid.UUID(account["id"]), "job.failed", {"job": {}})
        db.session.commit()
        assert sender.deliver(delivery_id) == "failed"
        row = db.session.get(WebhookDelivery, delivery_id)
        assert "CERTIFICATE_VERIFY_FAILED" in row.last_error and row.response_status is None
        db.session.remove()
    assert names == [NAME]
