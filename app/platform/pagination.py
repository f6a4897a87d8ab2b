"""Pages of a query: `?page=` and `?limit=` as every list endpoint takes them."""

from __future__ import annotations

from sqlalchemy import Select, func, select

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


def fetch_page_by_keys(query: Select, key, page: int, limit: int, *order_by, total: int | None = None):
    """`fetch_page` for lists that grow long: the page's keys first (from the index alone when it
    holds the filter and the order, so a deep OFFSET steps over index entries, not whole rows),
    then only those rows."""
    if total is None:
        total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    keys = query.with_only_columns(key).order_by(*order_by).offset(offset(page, limit)).limit(limit).subquery()
    rows = db.session.scalars(query.join(keys, key == keys.c[key.key]).order_by(*order_by)).all()
    return list(rows), total
