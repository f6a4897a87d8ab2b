"""The notification centre over REST (CONTRACT.md "Notifications"): listing, reading, deleting,
preferences, scoping to the caller, bad input, and retention."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from app.extensions import db
from app.models import Notification
from app.notifications import service as notifications
from app.notifications import sweeps as maintenance
from tests.support.api import DEFAULT_PREFERENCES

NOTIFICATION_FIELDS = {"id", "type", "title", "message", "data", "read", "readAt", "createdAt", "expiresAt"}


def notify(user: dict, count: int, prefix: str = "n") -> list[str]:
    """`count` system notifications through the service, oldest first; returns their ids."""
    ids = []
    for i in range(count):
        row = notifications.send(uuid.UUID(user["id"]), "system", f"{prefix}{i}", f"message {i}", {"i": i})
        ids.append(str(row.id))
    return ids


def insert(user: dict, created_at: datetime, expires_at: datetime | None, title: str = "row") -> str:
    """A notification row written directly, for timestamps the service would not produce."""
    row = Notification(
        id=uuid.uuid4(),
        user_id=uuid.UUID(user["id"]),
        type="system",
        title=title,
        message=title,
        data={},
        read=False,
        created_at=created_at,
        expires_at=expires_at,
    )
    db.session.add(row)
    db.session.commit()
    return str(row.id)


def listing(client, user: dict, query: str = "") -> dict:
    response = client.get(f"/api/notifications{query}", headers=user["headers"])
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.get_json()
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["message"]
    if code:
        assert error["code"] == code
    return error


def test_list_is_paginated_newest_first_with_unread_count(client, user, ctx):
    notify(user, 25)

    first = listing(client, user, "?limit=10")
    assert [n["title"] for n in first["data"]] == [f"n{i}" for i in range(24, 14, -1)]
    assert first["pagination"] == {"page": 1, "limit": 10, "total": 25, "totalPages": 3}
    assert first["unreadCount"] == 25
    item = first["data"][0]
    assert set(item) == NOTIFICATION_FIELDS
    assert item["type"] == "system" and item["message"] == "message 24" and item["data"] == {"i": 24}
    assert item["read"] is False and item["readAt"] is None

    last = listing(client, user, "?page=3&limit=10")
    assert [n["title"] for n in last["data"]] == ["n4", "n3", "n2", "n1", "n0"]
    beyond = listing(client, user, "?page=4&limit=10")
    assert beyond["data"] == [] and beyond["pagination"]["total"] == 25

    default = listing(client, user)
    assert default["pagination"] == {"page": 1, "limit": 20, "total": 25, "totalPages": 2}
    assert len(default["data"]) == 20


def test_pages_neither_repeat_nor_skip_rows_that_share_a_timestamp(client, user, ctx):
    moment = datetime.now(UTC)
    ids = {insert(user, moment, moment + timedelta(days=1)) for _ in range(25)}
    seen = [n["id"] for page in (1, 2, 3) for n in listing(client, user, f"?page={page}&limit=10")["data"]]
    assert len(seen) == 25 and set(seen) == ids


def test_expiry_follows_the_retention_setting(client, user, ctx, app):
    notify(user, 20)  # several: a clock read twice would drift by a microsecond now and then
    retention = timedelta(days=app.config["NOTIFICATION_RETENTION_DAYS"])
    for item in listing(client, user, "?limit=20")["data"]:
        created, expires = datetime.fromisoformat(item["createdAt"]), datetime.fromisoformat(item["expiresAt"])
        assert expires - created == retention


def test_mark_one_read_then_filter_unread(client, user, ctx):
    ids = notify(user, 4)

    response = client.patch(f"/api/notifications/{ids[1]}/read", headers=user["headers"])
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == ids[1] and body["read"] is True
    read_at = datetime.fromisoformat(body["readAt"])
    assert abs(datetime.now(UTC) - read_at) < timedelta(minutes=1)
    # Reading again changes nothing: same answer, same time.
    again = client.patch(f"/api/notifications/{ids[1]}/read", headers=user["headers"]).get_json()
    assert again == body

    unread = listing(client, user, "?unread=true")
    assert [n["id"] for n in unread["data"]] == [ids[3], ids[2], ids[0]]
    assert unread["pagination"]["total"] == 3 and unread["unreadCount"] == 3
    everything = listing(client, user, "?unread=false")
    assert everything["pagination"]["total"] == 4 and everything["unreadCount"] == 3
    shown = next(n for n in everything["data"] if n["id"] == ids[1])
    assert shown["read"] is True and shown["readAt"] == body["readAt"]


def test_mark_all_read_counts_only_the_callers_unread(client, user, other_user, ctx):
    ids = notify(user, 3)
    notify(other_user, 2)
    client.patch(f"/api/notifications/{ids[0]}/read", headers=user["headers"])

    response = client.patch("/api/notifications/read-all", headers=user["headers"])
    assert response.status_code == 200 and response.get_json() == {"count": 2}
    assert listing(client, user)["unreadCount"] == 0
    assert all(n["read"] and n["readAt"] for n in listing(client, user)["data"])
    assert client.patch("/api/notifications/read-all", headers=user["headers"]).get_json() == {"count": 0}
    assert listing(client, other_user)["unreadCount"] == 2


def test_delete_removes_it_from_the_list(client, user, ctx):
    ids = notify(user, 2)
    response = client.delete(f"/api/notifications/{ids[0]}", headers=user["headers"])
    assert response.status_code == 200 and response.get_json() == {"message": "Notification deleted"}
    body = listing(client, user)
    assert [n["id"] for n in body["data"]] == [ids[1]]
    assert body["pagination"]["total"] == 1 and body["unreadCount"] == 1
    assert_error(client.delete(f"/api/notifications/{ids[0]}", headers=user["headers"]), 404, "not_found")


def test_another_users_notification_is_not_found(client, user, other_user, ctx):
    [theirs] = notify(other_user, 1)
    assert_error(client.patch(f"/api/notifications/{theirs}/read", headers=user["headers"]), 404, "not_found")
    assert_error(client.delete(f"/api/notifications/{theirs}", headers=user["headers"]), 404, "not_found")
    assert listing(client, user)["data"] == []
    owner_view = listing(client, other_user)
    assert [n["id"] for n in owner_view["data"]] == [theirs] and owner_view["unreadCount"] == 1


def test_preferences_are_the_six_defaults_and_can_be_switched(client, user):
    response = client.get("/api/notifications/preferences", headers=user["headers"])
    assert response.status_code == 200
    preferences = response.get_json()
    assert all(set(p) == {"id", "notificationType", "channel", "enabled"} for p in preferences)
    assert {(p["notificationType"], p["channel"], p["enabled"]) for p in preferences} == DEFAULT_PREFERENCES

    target = next(p for p in preferences if (p["notificationType"], p["channel"]) == ("job_status", "email"))
    response = client.patch(
        f"/api/notifications/preferences/{target['id']}", json={"enabled": False}, headers=user["headers"]
    )
    assert response.status_code == 200
    assert response.get_json() == {**target, "enabled": False}
    after = client.get("/api/notifications/preferences", headers=user["headers"]).get_json()
    assert next(p for p in after if p["id"] == target["id"])["enabled"] is False
    assert len(after) == 6

    url = f"/api/notifications/preferences/{target['id']}"
    back = client.patch(url, json={"enabled": True}, headers=user["headers"])
    assert back.get_json()["enabled"] is True


def test_another_users_preference_is_not_found_and_unchanged(client, user, other_user):
    theirs = client.get("/api/notifications/preferences", headers=other_user["headers"]).get_json()[0]
    response = client.patch(
        f"/api/notifications/preferences/{theirs['id']}",
        json={"enabled": not theirs["enabled"]},
        headers=user["headers"],
    )
    assert_error(response, 404, "not_found")
    still = client.get("/api/notifications/preferences", headers=other_user["headers"]).get_json()
    assert next(p for p in still if p["id"] == theirs["id"]) == theirs


def test_unknown_preference_is_not_found(client, user):
    response = client.patch(
        f"/api/notifications/preferences/{uuid.uuid4()}", json={"enabled": True}, headers=user["headers"]
    )
    assert_error(response, 404, "not_found")


@pytest.mark.parametrize("body", [{"enabled": "yes"}, {"enabled": 1}, {"enabled": None}, {}, {"enabled": "true"}])
def test_enabled_must_be_a_json_boolean(client, user, body):
    preference = client.get("/api/notifications/preferences", headers=user["headers"]).get_json()[0]
    response = client.patch(f"/api/notifications/preferences/{preference['id']}", json=body, headers=user["headers"])
    error = assert_error(response, 400, "validation_error")
    assert "enabled" in error["details"]


def test_unknown_fields_and_non_json_bodies_are_refused(client, user):
    preference = client.get("/api/notifications/preferences", headers=user["headers"]).get_json()[0]
    url = f"/api/notifications/preferences/{preference['id']}"
    error = assert_error(client.patch(url, json={"enabled": True, "userId": "x"}, headers=user["headers"]), 400)
    assert "userId" in error["details"]
    assert_error(client.patch(url, data="enabled=true", content_type="text/plain", headers=user["headers"]), 415)
    assert_error(client.patch(url, data="{not json", content_type="application/json", headers=user["headers"]), 400)


@pytest.mark.parametrize(
    "query, field",
    [
        ("page=0", "page"),
        ("page=abc", "page"),
        ("limit=101", "limit"),
        ("limit=0", "limit"),
        ("unread=maybe", "unread"),
    ],
)
def test_bad_list_parameters_are_400_with_details(client, user, query, field):
    error = assert_error(client.get(f"/api/notifications?{query}", headers=user["headers"]), 400, "validation_error")
    assert field in error["details"]


@pytest.mark.parametrize(
    "method, path",
    [
        ("patch", "/api/notifications/not-a-uuid/read"),
        ("delete", "/api/notifications/123"),
        ("patch", "/api/notifications/preferences/not-a-uuid"),
    ],
)
def test_non_uuid_ids_are_not_found(client, user, method, path):
    response = getattr(client, method)(path, headers=user["headers"], json={"enabled": True})
    assert_error(response, 404, "not_found")


# A fixed id, not uuid4(): parametrized ids must be the same in every collecting process (xdist).
NOBODYS_ID = uuid.UUID("00000000-0000-4000-8000-000000000001")


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/api/notifications"),
        ("patch", "/api/notifications/read-all"),
        ("patch", f"/api/notifications/{NOBODYS_ID}/read"),
        ("delete", f"/api/notifications/{NOBODYS_ID}"),
        ("get", "/api/notifications/preferences"),
        ("patch", f"/api/notifications/preferences/{NOBODYS_ID}"),
    ],
)
def test_every_endpoint_needs_a_token(client, method, path):
    assert_error(getattr(client, method)(path), 401)


def test_secrets_in_what_is_sent_never_reach_the_notification(client, user, ctx):
    notifications.send(
        uuid.UUID(user["id"]),
        "system",
        "Connection to postgresql://app:hunter2@db.internal/prod failed",
        "could not connect to mysql+pymysql://root:p%40ss:w0rd@10.0.0.5:3306/x: timeout",
        {"url": "https://bob:s3cr3t@example.com/jobs/1", "password": "hunter2", "nested": [{"apiKey": "k-123"}]},
    )
    item = listing(client, user)["data"][0]
    shown = repr(item)
    for secret in ("hunter2", "p%40ss", "w0rd", "s3cr3t", "k-123"):
        assert secret not in shown
    assert "postgresql://app:***@db.internal/prod" in item["title"]
    assert item["data"]["url"] == "https://bob:***@example.com/jobs/1"


def test_purge_deletes_expired_notifications_in_batches_and_keeps_the_rest(client, user, other_user, ctx, monkeypatch):
    monkeypatch.setattr(maintenance, "PURGE_BATCH", 10)  # 25 expired rows take three batches
    now = datetime.now(UTC)
    expired = {insert(user, now - timedelta(days=91), now - timedelta(seconds=1), "old") for _ in range(20)}
    expired |= {insert(other_user, now - timedelta(days=100), now - timedelta(days=10), "old") for _ in range(5)}
    kept = {insert(user, now, now + timedelta(days=90), "fresh") for _ in range(3)}
    kept.add(insert(user, now - timedelta(days=400), None, "never expires"))
    kept_other = set(notify(other_user, 2))

    assert maintenance.purge_expired_notifications() >= 25

    remaining = {n["id"] for n in listing(client, user, "?limit=100")["data"]}
    assert remaining == kept
    assert {n["id"] for n in listing(client, other_user, "?limit=100")["data"]} == kept_other
    assert not expired & (remaining | kept_other)
    assert maintenance.purge_expired_notifications() == 0
