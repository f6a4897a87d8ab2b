"""Which tables' rows a backup includes: names as `schema.table` or a bare `table`."""

from __future__ import annotations

DEFAULT_SCHEMAS = ("public", "main")


def resolve_tables(tables: list[dict], requested: list[str], default_schema: str | None = None) -> tuple[list, list]:
    """Match `requested` names against introspected `tables`.

    A name matches `schema.table` exactly first (so a table whose own name contains a dot is
    still reachable as `schema.name.with.dots`), then a bare table name; a bare name found in
    several schemas prefers the default one (`public`, SQLite's `main`, MySQL's database).
    Returns (matched tables in the order asked, without repeats; names that match nothing or
    are ambiguous)."""
    by_qualified = {f"{t['schema']}.{t['name']}": t for t in tables if t["schema"]}
    by_name: dict[str, list[dict]] = {}
    for table in tables:
        by_name.setdefault(table["name"], []).append(table)
    preferred = (default_schema, *DEFAULT_SCHEMAS)

    matched, unknown, seen = [], [], set()
    for name in requested:
        table = by_qualified.get(name)
        if table is None:
            candidates = by_name.get(name, [])
            if len(candidates) > 1:
                candidates = [t for t in candidates if t["schema"] in preferred][:1]
            table = candidates[0] if len(candidates) == 1 else None
        if table is None:
            unknown.append(name)
        elif id(table) not in seen:
            seen.add(id(table))
            matched.append(table)
    return matched, unknown


def describe_unknown(unknown: list[str]) -> str:
    shown = ", ".join(repr(name) for name in unknown[:20])
    more = f" and {len(unknown) - 20} more" if len(unknown) > 20 else ""
    return f"{shown}{more}"
