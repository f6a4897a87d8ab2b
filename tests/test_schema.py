"""The models say what the migrations build: the same tables, columns and indexes (index
predicates included), so that code written against a model meets the database it describes."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Index, text
from sqlalchemy.schema import CreateIndex

from app.extensions import db

# Kept by triggers and read through SQL only (app/jobs/counts.py, migration 0009): no model.
UNMODELLED_TABLES = {"job_counts", "alembic_version"}


def _modelled(obj, name, type_, reflected, compare_to) -> bool:
    table = obj if type_ == "table" else getattr(obj, "table", None)
    return table is None or table.name not in UNMODELLED_TABLES


def test_models_and_migrations_agree(ctx):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": _modelled})
        assert compare_metadata(context, db.metadata) == []


def _definitions(connection, names) -> dict[str, str]:
    rows = connection.execute(
        text("SELECT indexname, indexdef FROM pg_indexes WHERE indexname = ANY(:names)"), {"names": list(names)}
    )
    return dict(rows.all())


def test_indexes_are_built_as_the_models_define_them(ctx):
    """Alembic compares an index's name, columns and uniqueness, not its WHERE clause, method or
    order: each modelled index is built again from the model under another name (in a transaction
    that is rolled back), and PostgreSQL's own spelling of both must match."""
    indexes = [index for table in db.metadata.tables.values() for index in table.indexes]
    with db.engine.connect() as connection, connection.begin() as transaction:
        migrated = _definitions(connection, (index.name for index in indexes))
        for number, index in enumerate(indexes):
            copy = Index(f"schema_check_{number}", *index.expressions, unique=index.unique, **index.kwargs)
            copy._set_parent(index.table)
            try:
                connection.execute(CreateIndex(copy))
            finally:
                index.table.indexes.discard(copy)
        rebuilt = _definitions(connection, (f"schema_check_{number}" for number in range(len(indexes))))
        transaction.rollback()
    from_model = {
        index.name: rebuilt[f"schema_check_{n}"].replace(f"schema_check_{n}", index.name, 1)
        for n, index in enumerate(indexes)
    }
    assert migrated == from_model
