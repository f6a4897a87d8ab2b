"""Uploads: limits, types, ownership and expiry, as a client sees them."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from app.extensions import db
from app.files.purge import purge_artifacts
from app.models import Artifact
from tests.support.api import create_job, register
from tests.support.web import start_web

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
CSV_BODY = b"sku,qty\nA1,3\nB2,5\n"


def upload_raw(client, headers, body: bytes, content_type="text/csv", **kwargs):
    return client.post("/api/uploads", data=body, headers={**headers, "Content-Type": content_type}, **kwargs)


def upload_multipart(client, headers, body: bytes, filename: str, content_type: str | None = None):
    part = (io.BytesIO(body), filename, content_type) if content_type else (io.BytesIO(body), filename)
    return client.post("/api/uploads", data={"file": part}, headers=headers, content_type="multipart/form-data")


def stored_files(app) -> set[str]:
    root = Path(app.config["ARTIFACT_DIR"])
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:300])
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"] and isinstance(error["details"], dict)
    return error


def test_raw_csv_upload_is_stored_and_described(app, client, user):
    response = upload_raw(client, user["headers"], CSV_BODY, query_string={"filename": "../stock/items.csv"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["filename"] == "items.csv", "only the last path segment of a name is kept"
    assert body["contentType"] == "text/csv" and body["sizeBytes"] == len(CSV_BODY)
    created, expires = datetime.fromisoformat(body["createdAt"]), datetime.fromisoformat(body["expiresAt"])
    assert timedelta(hours=23, minutes=59) < expires - created <= timedelta(hours=24, minutes=1)
    assert response.headers["Location"].endswith(f"/api/uploads/{body['id']}")
    again = client.get(f"/api/uploads/{body['id']}", headers=user["headers"])
    assert again.status_code == 200 and again.get_json() == body
    stored = Path(app.config["ARTIFACT_DIR"]) / user["id"] / body["id"]
    assert stored.read_bytes() == CSV_BODY


def test_multipart_json_upload_keeps_the_file_name(client, user):
    data = b'[{"sku": "A1", "qty": 3}]'
    response = upload_multipart(client, user["headers"], data, "stock.json", "application/json")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["filename"], body["contentType"], body["sizeBytes"]) == ("stock.json", "application/json", len(data))


def test_multipart_type_comes_from_the_extension_when_the_part_says_nothing(client, user):
    response = upload_multipart(client, user["headers"], CSV_BODY, "export.csv", "application/vnd.ms-excel")
    assert response.status_code == 201 and response.get_json()["contentType"] == "text/csv"


def test_a_body_over_the_app_wide_json_limit_is_accepted_for_uploads(app, client, user):
    body = b"sku,qty\n" + b"".join(b"SKU-%07d,%d\n" % (i, i) for i in range(90_000))
    assert len(body) > app.config["MAX_CONTENT_LENGTH"]
    response = upload_raw(client, user["headers"], body)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["sizeBytes"] == len(body)


@pytest.fixture()
def small_limit(app, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_MAX_BYTES", 4096)
    return 4096


def test_too_large_with_content_length_is_413_and_leaves_nothing(app, client, user, small_limit):
    before = stored_files(app)
    error = assert_error(upload_raw(client, user["headers"], b"a,b\n" + b"1,2\n" * 1100), 413, "payload_too_large")
    assert error["details"] == {"maxBytes": small_limit}
    assert stored_files(app) == before


def test_too_large_chunked_body_is_cut_off_with_413(app, client, user, small_limit):
    before = stored_files(app)
    response = client.post(
        "/api/uploads",
        input_stream=io.BytesIO(b"a,b\n" + b"1,2\n" * 5000),
        headers={**user["headers"], "Content-Type": "text/csv", "Transfer-Encoding": "chunked"},
    )
    assert_error(response, 413, "payload_too_large")
    assert stored_files(app) == before, "the partial file is removed"


def test_chunked_body_within_the_limit_is_stored(client, user, small_limit):
    response = client.post(
        "/api/uploads",
        input_stream=io.BytesIO(CSV_BODY),
        headers={**user["headers"], "Content-Type": "text/csv", "Transfer-Encoding": "chunked"},
    )
    assert response.status_code == 201 and response.get_json()["sizeBytes"] == len(CSV_BODY)


def test_too_large_multipart_file_is_413(client, user, small_limit):
    response = upload_multipart(client, user["headers"], b"a,b\n" + b"1,2\n" * 1100, "big.csv", "text/csv")
    assert_error(response, 413, "payload_too_large")


@pytest.mark.parametrize(
    "send",
    [
        lambda c, h: upload_multipart(c, h, PNG, "photo.png", "image/png"),
        lambda c, h: upload_multipart(c, h, PNG, "photo.csv", "text/csv"),  # named CSV, is a PNG
        lambda c, h: upload_raw(c, h, PNG, "image/png"),
        lambda c, h: upload_raw(c, h, PNG, "text/csv"),
        lambda c, h: upload_raw(c, h, b"PK\x03\x04" + b"\x00" * 40, "application/json"),
        lambda c, h: upload_raw(c, h, b"a,b\n1,2\n", "text/plain"),
        lambda c, h: upload_multipart(c, h, CSV_BODY, "notes.txt", "text/plain"),
    ],
    ids=["png-part", "png-named-csv", "png-raw", "png-as-csv", "zip-as-json", "text-plain", "txt-file"],
)
def test_wrong_types_are_415(client, user, send):
    assert_error(send(client, user["headers"]), 415, "unsupported_media_type")


@pytest.mark.parametrize(
    "body,content_type",
    [
        (b"", "text/csv"),
        (b"  \n\n ", "text/csv"),
        (b"\xef\xbb\xbf", "text/csv"),
        (b"", "application/json"),
        (b"hello, this is not json", "application/json"),
        (b"sku,qty\n\xff\xfe broken,1\n", "text/csv"),
        (b"\xff\xfes\x00k\x00u\x00", "text/csv"),
    ],
    ids=["empty", "blank", "bom-only", "empty-json", "not-json", "not-utf8", "utf16"],
)
def test_empty_or_malformed_files_are_400(app, client, user, body, content_type):
    before = stored_files(app)
    assert_error(upload_raw(client, user["headers"], body, content_type), 400, "validation_error")
    assert stored_files(app) == before


def test_multipart_without_a_file_field_is_400(client, user):
    response = client.post(
        "/api/uploads", data={"other": "x"}, headers=user["headers"], content_type="multipart/form-data"
    )
    assert_error(response, 400, "validation_error")


def test_uploads_need_a_token(client):
    assert_error(client.post("/api/uploads", data=CSV_BODY, content_type="text/csv"), 401, "unauthorized")


def test_another_users_upload_is_404_to_read_delete_and_import(client, user, other_user, tmp_path):
    upload_id = upload_raw(client, user["headers"], CSV_BODY).get_json()["id"]
    assert_error(client.get(f"/api/uploads/{upload_id}", headers=other_user["headers"]), 404, "not_found")
    assert_error(client.delete(f"/api/uploads/{upload_id}", headers=other_user["headers"]), 404, "not_found")
    assert_error(client.get(f"/api/uploads/{uuid.uuid4()}", headers=user["headers"]), 404, "not_found")
    # The stranger's own connection, with the owner's upload: refused at creation.
    connection = client.post(
        "/api/connections", json={"name": "s", "url": f"sqlite:///{tmp_path / 's.db'}"}, headers=other_user["headers"]
    ).get_json()
    payload = {"uploadId": upload_id, "connectionId": connection["id"], "table": "items"}
    error = assert_error(create_job(client, other_user["headers"], "bulk-import", payload), 404, "not_found")
    assert error["details"] == {"payload": {"uploadId": ["Upload not found."]}}
    jobs = client.get("/api/jobs?type=bulk-import", headers=other_user["headers"]).get_json()
    assert jobs["pagination"]["total"] == 0
    assert client.get(f"/api/uploads/{upload_id}", headers=user["headers"]).status_code == 200


def test_delete_removes_row_and_file(app, client, user):
    upload_id = upload_raw(client, user["headers"], CSV_BODY).get_json()["id"]
    assert f"{user['id']}/{upload_id}" in stored_files(app)
    response = client.delete(f"/api/uploads/{upload_id}", headers=user["headers"])
    assert response.status_code == 204 and response.get_data() == b""
    assert f"{user['id']}/{upload_id}" not in stored_files(app)
    assert_error(client.get(f"/api/uploads/{upload_id}", headers=user["headers"]), 404, "not_found")


def test_expired_uploads_are_gone_and_purged(app, client, user):
    expired_id = upload_raw(client, user["headers"], CSV_BODY).get_json()["id"]
    kept_id = upload_raw(client, user["headers"], CSV_BODY).get_json()["id"]
    with app.app_context():
        db.session.get(Artifact, uuid.UUID(expired_id)).expires_at = datetime.now(UTC) - timedelta(minutes=1)
        db.session.commit()
        assert_error(client.get(f"/api/uploads/{expired_id}", headers=user["headers"]), 404, "not_found")
        assert purge_artifacts() >= 1
        assert db.session.get(Artifact, uuid.UUID(expired_id)) is None
        db.session.remove()
    files = stored_files(app)
    assert f"{user['id']}/{expired_id}" not in files and f"{user['id']}/{kept_id}" in files
    assert client.get(f"/api/uploads/{kept_id}", headers=user["headers"]).status_code == 200


def test_openapi_documents_the_upload_body_and_answers(client):
    spec = client.get("/api/openapi.json").get_json()
    post = spec["paths"]["/api/uploads"]["post"]
    assert set(post["requestBody"]["content"]) == {"multipart/form-data", "text/csv", "application/json"}
    assert {"201", "400", "413", "415"} <= set(post["responses"])
    assert set(spec["paths"]["/api/uploads/{upload_id}"]) >= {"get", "delete"}


def test_real_server_takes_chunked_uploads_and_cuts_off_large_ones():
    """eventlet decodes chunked bodies without telling Werkzeug; the cap still applies."""
    server = start_web({"UPLOAD_MAX_BYTES": "65536"}, name="web-uploads")
    try:
        token = register(requests_client(server))["token"]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/csv"}

        def chunks(count: int):
            yield b"a,b\n"
            for _ in range(count):
                yield b"1,2\n" * 1024

        small = requests.post(f"{server.url}/api/uploads", data=chunks(2), headers=headers, timeout=30)
        assert small.status_code == 201, small.text
        assert small.json()["sizeBytes"] == 4 + 2 * 4096
        large = requests.post(f"{server.url}/api/uploads", data=chunks(64), headers=headers, timeout=30)
        assert large.status_code == 413, large.text
        assert large.json()["error"]["code"] == "payload_too_large"
    finally:
        server.stop()


def requests_client(server):
    """Just enough of a test client over HTTP for `register`."""

    class Client:
        def post(self, path, json=None):
            response = requests.post(f"{server.url}{path}", json=json, timeout=30)
            response.get_json = response.json
            response.status_code = response.status_code
            return response

    return Client()
