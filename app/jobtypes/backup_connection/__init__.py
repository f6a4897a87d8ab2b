"""The backup-connection job type: a connection's schema as DDL in its own dialect, optionally with
the rows of chosen tables as INSERT statements, written to one `.sql` artifact.

- `dialects.py`: identifier quoting and value literals per dialect (PostgreSQL, MySQL/MariaDB,
  SQLite), the script's opening and closing statements.
- `catalog_extras.py`: what the shared introspection does not report but a restore needs
  (identity/auto-increment and generated columns, exact PostgreSQL index definitions).
- `ddl.py`: CREATE SCHEMA / SEQUENCE / TABLE, then indexes and foreign keys.
- `data.py`: a table's rows streamed into multi-row INSERT statements in constant memory.
- `tables.py`: which tables' rows to include (`schema.table` or bare names).
- `payload.py`: the payload schema, the table check at creation, the result's wording.
- `handler.py`: the job itself (open the connection, introspect, write, report progress).
"""
