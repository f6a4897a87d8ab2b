"""How a statement marked `prepared` is rewritten (app.platform.prepared): positional parameters
in the order of their first use, each named once, and psycopg2's escaped percent signs."""

from __future__ import annotations

from app.platform.prepared import _translated


def test_named_parameters_become_positional_in_order_of_first_use():
    name, prepare, execute = _translated("SELECT %(b)s, %(a)s WHERE x = %(b)s")
    assert prepare == f"PREPARE {name} AS SELECT $1, $2 WHERE x = $1"
    assert execute == f"EXECUTE {name}(%(b)s, %(a)s)"


def test_an_escaped_percent_is_sent_as_one_in_the_prepared_text():
    name, prepare, execute = _translated("SELECT 1 WHERE e LIKE 'dependency ' || %(root)s || ' %%'")
    assert prepare == f"PREPARE {name} AS SELECT 1 WHERE e LIKE 'dependency ' || $1 || ' %'"
    assert execute == f"EXECUTE {name}(%(root)s)"


def test_a_statement_without_parameters_executes_without_arguments():
    name, _, execute = _translated("SELECT now()")
    assert execute == f"EXECUTE {name}"


def test_each_statement_has_a_name_of_its_own_and_keeps_it():
    first, second = _translated("SELECT 1")[0], _translated("SELECT 2")[0]
    assert first != second and first == _translated("SELECT 1")[0]
    assert first.startswith("hot_") and len(first) < 64  # PostgreSQL's identifier limit
