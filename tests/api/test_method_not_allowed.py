"""An undeclared method on any documented path is 405 with the `Allow` header (RFC 9110),
listing the methods the OpenAPI document declares for it, in the contract's error shape."""

from __future__ import annotations

import re
import uuid

DOCUMENTED = {"get", "put", "post", "delete", "patch"}
# Flask answers these on every route by itself.
IMPLICIT = {"HEAD", "OPTIONS"}


def test_every_path_answers_an_undeclared_method_with_405_and_allow(client, user):
    spec = client.get("/api/openapi.json").get_json()
    checked = 0
    for template, operations in spec["paths"].items():
        path = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), template)
        declared = {method.upper() for method in operations if method in DOCUMENTED}
        for method in ("TRACE", *sorted({"PUT", "PATCH", "DELETE"} - declared)):
            response = client.open(path, method=method, headers=user["headers"])
            assert response.status_code == 405, (method, template, response.status_code)
            assert response.get_json()["error"]["code"] == "method_not_allowed"
            allowed = {item.strip() for item in response.headers.get("Allow", "").split(",") if item.strip()}
            assert declared <= allowed <= declared | IMPLICIT, (method, template, allowed)
            checked += 1
    assert checked > 60
