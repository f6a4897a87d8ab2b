"""The export query guard (app.jobtypes.data_export.query_guard): one read-only statement only."""

from __future__ import annotations

import pytest

from app.jobtypes.data_export.query_guard import QueryRefused, check_query
from app.jobtypes.data_export.sql_lexer import DIALECTS

POSTGRES = DIALECTS["postgresql"]


@pytest.mark.parametrize(
    "query",
    [
        "SELECT 1",
        "select id, name from customers where name = 'x; DROP TABLE t'",
        "WITH recent AS (SELECT * FROM orders) SELECT count(*) FROM recent",
        "VALUES (1), (2)",
        "TABLE customers",
        "SELECT 1;",
    ],
)
def test_read_only_queries_pass(query):
    check_query(query, POSTGRES)


@pytest.mark.parametrize(
    "query",
    [
        "DELETE FROM customers",
        "SELECT 1; DROP TABLE customers",
        "UPDATE t SET a = 1",
        "WITH gone AS (DELETE FROM t RETURNING *) SELECT * FROM gone",
        "",
    ],
)
def test_anything_else_is_refused(query):
    with pytest.raises(QueryRefused):
        check_query(query, POSTGRES)
