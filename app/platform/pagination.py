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
