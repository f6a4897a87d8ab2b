"""The writes several domains make for one event, sent as one statement.

A job's transition is announced by a notification (notifications), webhook deliveries (webhooks)
and, on creation, an audit entry: each is a data-modifying CTE of its own domain. Sent apart,
each costs a round trip and a statement's execution on every transition of every job; composed,
they are one `WITH a AS (INSERT ...), b AS (INSERT ...) SELECT <a's columns>, <b's columns>`.

Each domain describes its part as a `Fragment` (built once per process) and answers, per event,
with a `Part`: the fragment, its bind parameters and what to do with the statement's one row.

    run(notifications.part(...), outbox.part(...))   # one round trip; each part gets the row

A part's CTE and column names are its own (prefixed by its domain), so any set of distinct
fragments composes. Parameters of the same name must agree: `:user_id` is the event's user for
every part.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, TextClause, bindparam, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql import Executable
from sqlalchemy.types import TypeEngine

from app.extensions import db
from app.platform import prepared


@dataclass(frozen=True)
class Fragment:
    """A domain's CTEs (`name AS (...)`, comma-separated) and the columns they add to the
    statement's one row (`expression AS name`, comma-separated); `types` names the bind
    parameters that need a type of their own (JSONB, an interval)."""

    ctes: str
    columns: str
    types: tuple[tuple[str, TypeEngine], ...] = ()


# A bind parameter in Core's PostgreSQL SQL compiled with named parameters (`:name`), with the
# type cast psycopg2's dialect adds to some (`:name::JSONB`).
_CORE_BIND = re.compile(r"(?<![:\w]):(\w+)(?:::(\w+))?")


def core_fragment(prefix: str, ctes: Sequence[tuple[str, Executable]], columns: str) -> tuple[Fragment, dict]:
    """A fragment of Core statements, each the CTE of its name (a domain that builds a statement
    with Core composes it with the others this way): compiled for PostgreSQL once, each bind
    parameter renamed `prefix + name`, so that the fragment's names stay its own. Returns the
    fragment and the values Core bound itself (its literals), which every part of it passes."""
    dialect = postgresql.psycopg2.dialect(paramstyle="named")
    parts, types, literals = [], {}, {}

    def renamed(match: re.Match) -> str:
        name = prefix + match.group(1)
        return f"CAST(:{name} AS {match.group(2)})" if match.group(2) else f":{name}"

    for name, statement in ctes:
        compiled = statement.compile(dialect=dialect)
        parts.append(f"{name} AS ({_CORE_BIND.sub(renamed, compiled.string)})")
        for bind, bound_name in compiled.bind_names.items():
            types[prefix + bound_name] = bind.type
            if not bind.required:
                literals[prefix + bound_name] = bind.effective_value
    return Fragment(",\n".join(parts), columns, tuple(types.items())), literals


@dataclass
class Part:
    """One event's part: its fragment, its parameters, and `receive(row)`, called with the
    statement's row once it ran (its return value is `run`'s answer for this part)."""

    fragment: Fragment
    params: dict[str, Any]
    receive: Callable[[Row], Any]


def run(*parts: Part | None) -> list:
    """Execute the parts as one statement in the current transaction (not committed); returns
    what each part's `receive` answered, in order (None for a None part). No part, no statement."""
    present = [part for part in parts if part is not None]
    if not present:
        return [None] * len(parts)
    params: dict[str, Any] = {}
    for part in present:
        for name, value in part.params.items():
            if name in params and params[name] != value:
                raise ValueError(f"parts disagree on the parameter {name!r}")
            params[name] = value
    statement = _compose(tuple(part.fragment for part in present))
    # On the session's connection, in its transaction, straight on its cursor (app.platform.prepared):
    # no autoflush either, as these rows depend on none of the caller's pending objects (flushing
    # them here would move the caller's integrity errors away from its own commit).
    [row] = prepared.execute(db.session.connection(), statement, params)
    answers = iter([part.receive(row) for part in present])
    return [None if part is None else next(answers) for part in parts]


@functools.lru_cache(maxsize=256)
def _compose(fragments: tuple[Fragment, ...]) -> TextClause:
    if len(set(fragments)) != len(fragments):
        raise ValueError("a fragment can be part of a statement only once")
    ctes = ",\n".join(fragment.ctes for fragment in fragments)
    columns = ",\n".join(fragment.columns for fragment in fragments)
    types = {name: type_ for fragment in fragments for name, type_ in fragment.types}
    statement = text(f"WITH {ctes}\nSELECT {columns}").execution_options(prepared=True)  # app.platform.prepared
    return statement.bindparams(*(bindparam(name, type_=type_) for name, type_ in types.items()))
