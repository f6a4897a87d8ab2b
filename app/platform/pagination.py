"""Pages of a query: `?page=` and `?limit=` as every list endpoint takes them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, bindparam, func, select

from app.extensions import db


def offset(page: int, limit: int) -> int:
    """Rows before the first of `page` (pages count from 1)."""
    return (page - 1) * limit


def fetch_page(query: Select, page: int, limit: int, *order_by, total: int | None = None) -> tuple[list, int]:
    """One page of `query` in `order_by` order, and how many rows the whole query has (counted,
    unless the caller knows it: `total`)."""
    if total is None:
        total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.order_by(*order_by).offset(offset(page, limit)).limit(limit)).all()
    return list(rows), total


# Below this many rows skipped, a page is read in one statement: the rows stepped over cost less
# than the second statement would.
SHALLOW_OFFSET = 200
OFFSET, LIMIT = "page_offset", "page_limit"  # the bound parameters of a keyed page statement
TOTAL = "page_total"  # the column that carries the total read with the page


@dataclass(frozen=True)
class KeyedPage:
    """The statements of a page: its rows with the total as a column, and the total alone (for an
    empty page)."""

    rows: Select
    total: Select


def keyed_page(query: Select, key, order_by: tuple, *, deep: bool, total: Select | None = None) -> KeyedPage:
    """The statements of one page of a Core `query` in `order_by` order, for lists that grow long
    and are read often: built once, run with `read_keyed_page`, offset and limit bound parameters.

    A `deep` page reads its keys first (from the index alone when it holds the filter and the
    order, so a deep OFFSET steps over index entries, not whole rows), then only those rows.
    `total`, a scalar statement that knows the count cheaper than counting (a ledger), is read as a
    column of the page; without it the query is counted, in the same statement too."""
    skipped, size = bindparam(OFFSET), bindparam(LIMIT)
    if deep:
        keys = query.with_only_columns(key).order_by(*order_by).offset(skipped).limit(size).subquery()
        statement = query.join(keys, key == keys.c[key.key]).order_by(*order_by)
    else:
        statement = query.order_by(*order_by).offset(skipped).limit(size)
    if total is None:
        total = select(func.count()).select_from(query.subquery())
    return KeyedPage(statement.add_columns(total.scalar_subquery().label(TOTAL)), total)


def is_deep(page: int, limit: int) -> bool:
    """Whether a page is deep enough for `keyed_page(deep=True)`."""
    return offset(page, limit) >= SHALLOW_OFFSET


def read_keyed_page(statements: KeyedPage, params: dict, page: int, limit: int) -> tuple[list, int]:
    """Run a `keyed_page` (the total alone too when the page is empty): rows of the query's
    columns, not ORM objects, through the session's connection (a Core statement run through the
    session still pays for the ORM's compile and loading steps)."""
    connection = db.session.connection()
    rows = connection.execute(statements.rows, {**params, OFFSET: offset(page, limit), LIMIT: limit}).all()
    if rows:
        return rows, int(getattr(rows[0], TOTAL))
    return rows, int(connection.scalar(statements.total, params))
