"""Each user sees only what is theirs: the one rule for reaching a row by its id on a user's behalf.

Another user's row answers exactly as a row that does not exist (404), so an id never reveals
what someone else has."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from app.errors import NotFound
from app.extensions import db

Row = TypeVar("Row")


def is_owned(row: Any | None, user_id: uuid.UUID) -> bool:
    """Whether `row` exists and belongs to `user_id`."""
    return row is not None and row.user_id == user_id


def get_owned(
    model: type[Row], row_id: uuid.UUID, user_id: uuid.UUID, what: str, *, details: dict | None = None, **get_options
) -> Row:
    """The user's row of `model` with this id, or NotFound("<what> not found"). `details` goes
    with the error (a field that named it); `get_options` go to `Session.get` (a row lock)."""
    row = db.session.get(model, row_id, **get_options)
    if not is_owned(row, user_id):
        raise NotFound(f"{what} not found", details)
    return row
