"""Hostile input: huge, deep, malformed or malicious requests get a 4xx in the contract's shape,
never a 500; connection URLs cannot reach the service's own database or hosts the operator did
not allow. Every response of this module is counted, and none may be a 5xx."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from app.extensions import db
from tests.support.api import login, register

SEEN = {"requests": 0, "5xx": []}


SQL_STRINGS = ["'; DROP TABLE jobs; --", '" OR 1=1 --', "x'); DELETE FROM users WHERE ('1'='1", "\\'; --"]


@pytest.fixture(scope="module")
def api(app):
    """`api(method, path, headers=..., **kw)` on the test client, counting every answer."""
    client = app.test_client()

    def call(method, path, **kwargs):
        response = client.open(path, method=method, **kwargs)
        SEEN["requests"] += 1
        if response.status_code >= 500:
            SEEN["5xx"].append(f"{method} {path} -> {response.status_code}: {response.get_data(as_text=True)[:200]}")
        return response

    return call


@pytest.fixture(scope="module")
def owner(app):
    return register(app.test_client())


def assert_error(response, *statuses):
    assert response.status_code in statuses, (response.status_code, response.get_data(as_text=True)[:300])
    error = response.get_json()["error"]
    assert isinstance(error["code"], str) and isinstance(error["message"], str) and isinstance(error["details"], dict)
    return error


def raw(owner) -> dict:
    return {**owner["headers"], "Content-Type": "application/json"}


# -- size and shape of bodies --------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/jobs", "/api/connections", "/api/auth/register"])
def test_oversized_body_is_413(api, app, owner, path):
    limit = app.config["MAX_CONTENT_LENGTH"]
    body = json.dumps({"name": "x" * (limit + 1), "type": "noop", "payload": {}})
    assert_error(api("POST", path, data=body, headers=raw(owner)), 413)


def test_oversized_body_without_content_length_is_413_or_400(api, app, owner):
    limit = app.config["MAX_CONTENT_LENGTH"]
    body = b'{"type": "noop", "payload": {"x": "' + b"y" * (limit + 10) + b'"}}'
    response = api(
        "POST", "/api/jobs", input_stream=io.BytesIO(body), headers={**raw(owner), "Transfer-Encoding": "chunked"}
    )
    assert_error(response, 413, 400)


@pytest.mark.parametrize("opener,closer", [("[", "]"), ('{"a":', "}")])
def test_deeply_nested_json_is_rejected_not_a_crash(api, owner, opener, closer):
    depth = 10_000
    nested = opener * depth + "1" + closer * depth
    body = '{"type": "test-probe", "payload": {"nested": ' + nested + "}}"
    assert_error(api("POST", "/api/jobs", data=body, headers=raw(owner)), 400, 413)
    # The same depth in a connection body and on an auth endpoint.
    body = '{"name": ' + nested + ', "url": "sqlite:////tmp/x.db"}'
    assert_error(api("POST", "/api/connections", data=body, headers=raw(owner)), 400, 413)
    assert_error(
        api("POST", "/api/auth/login", data='{"email": ' + nested + "}", headers={"Content-Type": "application/json"}),
        400,
        413,
    )


@pytest.mark.parametrize(
    "body",
    [
        b'{"name": "\xff\xfe\xfd", "url": "sqlite:////tmp/x.db"}',
        b'{"name": "\xc3\x28", "url": "sqlite:////tmp/x.db"}',
        b'{"name": "\xed\xa0\x80", "url": "sqlite:////tmp/x.db"}',  # an encoded surrogate
        b"\xef\xbb\xbf\xff",
        b'{"name": "ok", "url": "sqlite:////tmp/x.db"',  # truncated
    ],
)
def test_invalid_utf8_or_broken_json_is_400(api, owner, body):
    error = assert_error(api("POST", "/api/connections", data=body, headers=raw(owner)), 400)
    assert error["code"] in ("malformed_json", "validation_error", "bad_request")


def test_lone_surrogate_escape_is_400_or_stored_safely(api, owner):
    body = '{"name": "bad \\ud800 name", "url": "sqlite:////tmp/surrogate.db"}'
    response = api("POST", "/api/connections", data=body, headers=raw(owner))
    if response.status_code != 201:
        assert_error(response, 400)


# -- query parameters ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/jobs", "/api/connections", "/api/notifications", "/api/admin/jobs"])
@pytest.mark.parametrize(
    "query",
    [
        {"page": str(10**30)},
        {"limit": str(10**12)},
        {"page": str(10**30), "limit": str(10**12)},
        {"page": "0"},
        {"page": "-1"},
        {"limit": "0"},
        {"limit": "101"},
        {"page": "1e309"},
        {"page": "NaN"},
        {"limit": "\x00"},
    ],
)
def test_out_of_range_pagination_is_400(api, app, owner, path, query):
    headers = owner["headers"]
    if path.startswith("/api/admin/"):
        headers = _admin(app)["headers"]
    assert_error(api("GET", path, query_string=query, headers=headers), 400)


def test_hostile_filters_are_400_or_harmless(api, owner):
    for value in SQL_STRINGS + ["queued,'; DROP TABLE jobs; --", "a" * 10_000]:
        for name in ("status", "type"):
            response = api("GET", "/api/jobs", query_string={name: value}, headers=owner["headers"])
            if response.status_code == 200:
                assert response.get_json()["data"] == []
            else:
                assert_error(response, 400)


@pytest.mark.parametrize("name", ["status", pytest.param("type")])
def test_nul_byte_in_a_filter_is_400(api, owner, name):
    assert_error(api("GET", "/api/jobs", query_string={name: "queued\x00"}, headers=owner["headers"]), 400)


_ADMIN: dict = {}


def _admin(app):
    if not _ADMIN:
        client = app.test_client()
        try:
            _ADMIN.update(register(client, email="admin@example.com"))
        except AssertionError:
            _ADMIN.update(login(client, "admin@example.com"))
    return _ADMIN


# -- SQL-like and NUL strings --------------------------------------------------------------------


@pytest.mark.parametrize("name", SQL_STRINGS)
def test_sql_like_strings_are_stored_and_returned_verbatim(api, app, owner, name):
    created = api(
        "POST", "/api/connections", json={"name": name, "url": "mysql://u:p@db.example.com/x"}, headers=owner["headers"]
    )
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["name"] == name
    fetched = api("GET", f"/api/connections/{created.get_json()['id']}", headers=owner["headers"])
    assert fetched.get_json()["name"] == name
    listed = api("GET", "/api/connections", query_string={"limit": 100}, headers=owner["headers"]).get_json()
    assert name in [c["name"] for c in listed["data"]]
    # Also as a login e-mail and password: a plain 400/401, no injection.
    for email in (name, f"x{name}@example.com"):
        assert_error(api("POST", "/api/auth/login", json={"email": email, "password": name}), 400, 401)
    with app.app_context():
        tables = set(inspect(db.engine).get_table_names())
        assert {"jobs", "users", "notifications", "dead_letters"} <= tables
        db.session.remove()
    assert api("GET", "/api/jobs", headers=owner["headers"]).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"name": "nul\x00name", "url": "mysql://u:p@db.example.com/x"}),
        {"name": "nul name", "url": "mysql://u:p\x00w@db.example.com/x"},
        {"name": "nul name", "url": "mysql://u:p@db.example.com/x\x00y"},
        {"name": "nul name", "url": "sqlite:////tmp/a\x00b.db"},
    ],
)
def test_nul_bytes_in_connection_fields_are_400_or_stored_safely(api, owner, body):
    response = api("POST", "/api/connections", json=body, headers=owner["headers"])
    if response.status_code == 201:
        fetched = api("GET", f"/api/connections/{response.get_json()['id']}", headers=owner["headers"])
        assert fetched.status_code == 200
        assert fetched.get_json()["name"] == body["name"]
    else:
        assert_error(response, 400)


@pytest.mark.parametrize(
    "path,body",
    [
        ("/api/jobs", {"type": "test-probe\x00", "payload": {}}),
        ("/api/jobs", {"type": "test-probe", "payload": {"note\x00": "a\x00b"}, "options": {"startAfter": 3600}}),
        pytest.param(
            "/api/jobs",
            {"type": "test-probe", "payload": {}, "options": {"singletonKey": "k\x00", "startAfter": 3600}},
        ),
        ("/api/auth/register", {"email": "nul\x00@example.com", "password": "correct horse battery", "name": "n"}),
        pytest.param(
            "/api/auth/register",
            {"email": "nulname@example.com", "password": "correct horse battery", "name": "a\x00b"},
        ),
        ("/api/auth/login", {"email": "a@example.com", "password": "pass\x00word"}),
    ],
)
def test_nul_bytes_elsewhere_are_400_or_stored_safely(api, owner, path, body):
    headers = owner["headers"] if path == "/api/jobs" else {}
    response = api("POST", path, json=body, headers=headers)
    if response.status_code >= 400:
        assert_error(response, 400, 401, 409)


def test_nul_byte_in_an_idempotency_key_is_not_a_crash(api, owner):
    response = api(
        "POST",
        "/api/jobs",
        json={"type": "test-probe", "payload": {}, "options": {"startAfter": 3600}},
        headers={**owner["headers"], "Idempotency-Key": "key\x00nul"},
    )
    assert response.status_code in (200, 202, 400), response.get_data(as_text=True)[:300]


# -- connection URLs: own database and the operator's allow-list ---------------------------------


@pytest.fixture()
def connection_config(app):
    saved = {k: app.config[k] for k in ("CONNECTION_ALLOWED_HOSTS", "CONNECTION_ALLOW_SQLITE")}
    yield app.config
    app.config.update(saved)


def _own_database_urls(app) -> list[str]:
    own = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    port = own.port or 5432
    urls = []
    for scheme in ("postgresql", "postgres", "postgresql+psycopg2"):
        for host in ("localhost", "127.0.0.1", "LOCALHOST", "[::1]", own.host or "localhost"):
            for port_part in ("", f":{port}") if port == 5432 else (f":{port}",):
                urls.append(f"{scheme}://someone:secret@{host}{port_part}/{own.database}")
    urls.append(own.render_as_string(hide_password=False))
    urls.append(f"postgresql://someone:secret@localhost:{port}/{own.database}?sslmode=disable")
    return sorted(set(urls))


@pytest.mark.parametrize("allowed", [None, ["localhost", "127.0.0.1", "::1", "127.0.0.0/8", "0.0.0.0/0"]])
def test_the_services_own_database_is_always_refused(api, app, owner, connection_config, allowed):
    connection_config["CONNECTION_ALLOWED_HOSTS"] = allowed
    for url in _own_database_urls(app):
        response = api("POST", "/api/connections", json={"name": "own", "url": url}, headers=owner["headers"])
        error = assert_error(response, 400)
        assert "url" in error["details"], (url, error)
        assert "secret" not in response.get_data(as_text=True)


def test_hosts_outside_the_allow_list_are_refused(api, owner, connection_config):
    connection_config["CONNECTION_ALLOWED_HOSTS"] = ["db.example.com", "10.0.0.0/8"]
    for url in (
        "mysql://u:p@db.example.com/x",
        "postgresql://u:p@10.1.2.3:5432/x",
    ):
        response = api("POST", "/api/connections", json={"name": "ok", "url": url}, headers=owner["headers"])
        assert response.status_code == 201, (url, response.get_json())
    for url in (
        "mysql://u:p@evil.example.org/x",
        "mysql://u:p@db.example.com.evil.example.org/x",
        "postgresql://u:p@192.168.1.1/x",
        "postgresql://u:p@11.0.0.1/x",
        "postgresql://u:p@localhost/other",
        "postgresql://u:p@127.0.0.1/other",
        "mysql://u:p@[::1]/x",
    ):
        response = api("POST", "/api/connections", json={"name": "no", "url": url}, headers=owner["headers"])
        assert "url" in assert_error(response, 400)["details"], url


def test_sqlite_files_are_refused_when_the_operator_disallows_them(api, owner, connection_config, tmp_path):
    connection_config["CONNECTION_ALLOW_SQLITE"] = False
    for url in (f"sqlite:///{tmp_path}/x.db", "sqlite:////etc/passwd", "sqlite:///relative.db", "sqlite://"):
        response = api("POST", "/api/connections", json={"name": "lite", "url": url}, headers=owner["headers"])
        assert "url" in assert_error(response, 400)["details"], url
    connection_config["CONNECTION_ALLOW_SQLITE"] = True
    response = api(
        "POST", "/api/connections", json={"name": "lite", "url": f"sqlite:///{tmp_path}/x.db"}, headers=owner["headers"]
    )
    assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize(
    "url",
    [
        "oracle://u:p@db.example.com/x",
        "mssql+pyodbc://u:p@db.example.com/x",
        "postgresql://u:p@db.example.com:99999/x",
        "postgresql://u:p@db.example.com:abc/x",
        "postgresql://u:p@/x",
        "postgresql://u:p@db.example.com/",
        "not a url",
        "",
        "x" * 3000,
    ],
)
def test_malformed_connection_urls_are_400(api, owner, url):
    assert_error(api("POST", "/api/connections", json={"name": "bad", "url": url}, headers=owner["headers"]), 400)


def test_zz_no_5xx_across_the_module():
    assert SEEN["requests"] > 100, SEEN["requests"]
    assert SEEN["5xx"] == [], "\n".join(SEEN["5xx"])
    print(f"hostile input: {SEEN['requests']} requests, {len(SEEN['5xx'])} answered 5xx")
