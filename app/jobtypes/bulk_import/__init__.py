"""The bulk-import job type: load an uploaded CSV or JSON file into a table, all or nothing.

- `handler.py`: the job itself (two passes: check every row, then insert in one transaction).
- `readers.py`, `rows.py`, `column_types.py`: reading the file and converting its values per column.
- `target.py`, `loader.py`: the table written to and the batched inserts.
"""
