"""OpenAPI links: how the id a response returns feeds the next operation (create -> get ->
cancel / retry / delete). Generated clients and stateful API testers follow them."""

from __future__ import annotations


def link(operation_id: str, **parameters: str) -> dict:
    """A link to `operation_id`, each path parameter taken from the response (a runtime expression)."""
    return {"operationId": operation_id, "parameters": parameters}


def links(status: int, **named: dict) -> dict:
    """`blp.doc(**links(201, GetJob=link(...)))`: the links of one documented response.
    The status is an int, as flask-smorest keys responses, so the two merge into one."""
    return {"responses": {status: {"links": named}}}


def from_body(pointer: str) -> str:
    """The runtime expression of a field of the response body, e.g. `/id` or `/data/0/id`."""
    return f"$response.body#{pointer}"
