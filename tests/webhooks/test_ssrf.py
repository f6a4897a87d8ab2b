"""The SSRF guard: URLs refused at creation (400), and addresses refused again at delivery
(allow-list changed, DNS answering differently), without a single byte sent to them.

Names other than `localhost` are resolved by a stand-in for the system resolver (this machine
has no DNS); every address is checked by the real code, and nothing here connects anywhere
but 127.0.0.1.
"""

from __future__ import annotations

import socket
import uuid

import pytest

from app import create_app
from app.extensions import db
from app.webhooks import outbox, sender
from app.webhooks.models import WebhookDelivery
from tests.support.api import register
from tests.webhooks.conftest import create_webhook

PUBLIC = "93.184.216.34"


def _fake_dns(monkeypatch, answers: dict[str, list[str]]):
    """getaddrinfo for the names in `answers`: call n gets the n-th answer (the last one from then
    on), an answer being addresses separated by commas ("" does not resolve); every other name
    goes to the real resolver (only IP literals and `localhost` in these tests)."""
    real = socket.getaddrinfo
    calls: dict[str, int] = {}

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            return real(host, port, *args, **kwargs)
        calls[host] = calls.get(host, 0) + 1
        plan = answers[host]
        answer = plan[min(calls[host], len(plan)) - 1]
        if not answer:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port or 0))
            for address in answer.split(",")
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return calls


@pytest.fixture(scope="session")
def strict_app(database):
    """The production default: nothing is allowed beyond public https."""
    app = create_app({"WEBHOOK_ALLOWED_HOSTS": [], "WEBHOOK_TIMEOUT_SECONDS": 2.0})
    app.config["TESTING"] = True
    return app


REFUSED = [
    "https://169.254.169.254/latest/meta-data/",
    "https://10.0.0.5/hook",
    "https://172.16.3.4/hook",
    "https://172.31.255.1/hook",
    "https://192.168.1.1/hook",
    "https://[::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://[::ffff:a9fe:a9fe]/hook",  # 169.254.169.254, IPv4-mapped in hex
    "https://[::127.0.0.1]/hook",  # IPv4-compatible
    "https://[2002:7f00:1::]/hook",  # 6to4 of 127.0.0.1
    "https://[fe80::1]/hook",
    "https://0.0.0.0/hook",
    "https://224.0.0.1/hook",
    "https://100.64.0.1/hook",
    "https://127.0.0.1/hook",
    "https://2130706433/hook",  # 127.0.0.1 as one number, which the resolver accepts
    "https://0x7f.1/hook",
    "https://localhost/hook",
    "https://LOCALHOST./hook",
    "https://loopback.example.test/hook",
    "https://mixed.example.test/hook",  # one public address and one private: refused
    "https://user:hunter2@public.example.test/hook",
    "https://token@public.example.test/hook",
    "http://public.example.test/hook",  # plain http to a host that is not allowed
    "ftp://public.example.test/hook",
    "file:///etc/passwd",
    "gopher://public.example.test/",
    "javascript:alert(1)",
    "https:///nohost",
    "https://public.example.test:99999/hook",
    "https://public.example.test\\@127.0.0.1/hook",
    "https://unresolvable.invalid/hook",
]


@pytest.mark.parametrize("url", REFUSED)
def test_creation_refuses_urls_that_could_reach_inside(strict_app, monkeypatch, url):
    _fake_dns(
        monkeypatch,
        {
            "public.example.test": [PUBLIC],
            "loopback.example.test": ["127.0.0.1"],
            "mixed.example.test": [f"{PUBLIC},10.1.1.1"],
            "unresolvable.invalid": [""],
        },
    )
    client = strict_app.test_client()
    account = register(client)
    response = client.post("/api/webhooks", json={"url": url, "events": ["*"]}, headers=account["headers"])
    assert response.status_code == 400, response.get_json()
    body = response.get_json()["error"]
    assert body["code"] == "validation_error" and body["details"]["url"]
    assert "hunter2" not in response.get_data(as_text=True)


def test_public_https_is_accepted(strict_app, monkeypatch):
    _fake_dns(monkeypatch, {"hooks.example.test": [PUBLIC]})
    client = strict_app.test_client()
    account = register(client)
    webhook = create_webhook(client, account["headers"], "https://hooks.example.test/in?src=jobs")
    assert webhook["url"] == "https://hooks.example.test/in?src=jobs" and webhook["enabled"] is True


def test_the_allow_list_opens_exactly_what_it_names(wh_client, account, receiver):
    hook = receiver()
    assert create_webhook(wh_client, account["headers"], hook.url)["url"] == hook.url
    for url in ("http://127.0.0.2/hook", "https://[::1]/hook", "https://10.0.0.1/hook"):
        response = wh_client.post("/api/webhooks", json={"url": url, "events": ["*"]}, headers=account["headers"])
        assert response.status_code == 400, url
    # A change of URL is checked the same way, and a refused one changes nothing.
    webhook = create_webhook(wh_client, account["headers"], hook.url)
    path = f"/api/webhooks/{webhook['id']}"
    refused = wh_client.patch(path, json={"url": "https://169.254.169.254/"}, headers=account["headers"])
    assert refused.status_code == 400 and refused.get_json()["error"]["details"]["url"]
    assert wh_client.get(path, headers=account["headers"]).get_json()["url"] == hook.url


def _staged_delivery(app, user_id: str) -> uuid.UUID:
    """A recorded delivery, not handed to any worker: the test runs the sender itself."""
    with app.app_context():
        [delivery_id] = outbox.record(uuid.UUID(user_id), "job.completed", {"job": {"id": "x"}})
        db.session.commit()
        db.session.remove()
    return delivery_id


def _deliver(app, delivery_id):
    with app.app_context():
        outcome = sender.deliver(delivery_id)
        row = db.session.get(WebhookDelivery, delivery_id)
        db.session.remove()
    return outcome, row


def test_delivery_refuses_an_address_the_allow_list_no_longer_allows(wh_app, wh_client, strict_app, receiver):
    hook = receiver()
    account = register(wh_client)
    create_webhook(wh_client, account["headers"], hook.url, events=["job.completed"])
    delivery_id = _staged_delivery(wh_app, account["id"])
    outcome, row = _deliver(strict_app, delivery_id)  # the operator removed 127.0.0.1 since
    assert outcome == "failed" and row.status == "failed" and row.attempts == 1
    assert row.last_error.startswith("Refused:")
    assert hook.requests == []


def test_delivery_rechecks_dns_and_refuses_a_rebound_name(wh_app, wh_client, receiver, monkeypatch):
    hook = receiver()
    _fake_dns(monkeypatch, {"rebind.example.test": ["127.0.0.1", "127.0.0.2"]})
    account = register(wh_client)
    create_webhook(wh_client, account["headers"], f"http://rebind.example.test:{hook.port}/hook", events=["*"])
    delivery_id = _staged_delivery(wh_app, account["id"])
    outcome, row = _deliver(wh_app, delivery_id)
    assert outcome == "failed" and "loopback address (127.0.0.2)" in row.last_error
    assert hook.requests == []


def test_delivery_connects_to_the_address_it_checked(wh_app, wh_client, receiver, monkeypatch):
    """Resolved once per attempt: a resolver answering differently a moment later is not asked."""
    hook = receiver()
    calls = _fake_dns(monkeypatch, {"pinned.example.test": ["127.0.0.1", "127.0.0.1", "127.0.0.2"]})
    account = register(wh_client)
    create_webhook(wh_client, account["headers"], f"http://pinned.example.test:{hook.port}/hook", events=["*"])
    delivery_id = _staged_delivery(wh_app, account["id"])
    outcome, row = _deliver(wh_app, delivery_id)
    assert outcome == "succeeded" and row.status == "succeeded"
    assert calls["pinned.example.test"] == 2
    [request] = hook.requests
    assert request.headers["Host"] == f"pinned.example.test:{hook.port}"
