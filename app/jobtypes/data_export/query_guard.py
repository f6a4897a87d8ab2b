"""Which queries an export may run: one read-only SELECT (or WITH ... SELECT, VALUES, TABLE).

Checked when the job is created (a 400 before anything reaches the database) and again in the
worker, with the lexing rules of the target session, before the query is sent. The database then
runs it in a read-only transaction with a statement timeout: the guard is the first wall, not the
only one.
"""

from __future__ import annotations

from app.jobtypes.data_export.sql_lexer import PUNCT, WORD, Dialect, LexError, Token, tokenize

ALLOWED_FIRST_WORDS = ("SELECT", "WITH", "VALUES", "TABLE")
# Words that make a SELECT-shaped statement write or lock: data-modifying CTEs
# (WITH d AS (DELETE ...) SELECT ...), SELECT ... INTO (a new table, a file, a variable),
# and locking clauses (FOR UPDATE / FOR SHARE / LOCK IN SHARE MODE).
FORBIDDEN_WORDS = ("INSERT", "UPDATE", "DELETE", "MERGE", "UPSERT", "INTO", "LOCK")
LOCKING_AFTER_FOR = ("UPDATE", "SHARE", "NO", "KEY")


class QueryRefused(ValueError):
    """The query is not a single read-only statement; the message says why, for the user."""


def check_query(sql: str, dialect: Dialect) -> str:
    """The query to send (without a trailing semicolon), or QueryRefused."""
    try:
        tokens = tokenize(sql, dialect)
    except LexError as exc:
        raise QueryRefused(f"The query could not be read: {exc}") from None
    statements = _split_statements(tokens)
    if not statements:
        raise QueryRefused("The query is empty")
    if len(statements) > 1:
        raise QueryRefused("Only one statement can be exported; remove the extra statements after ';'")
    statement = statements[0]
    _check_first_word(statement)
    _check_words(statement)
    last = statement[-1]
    return sql[: last.start + len(last.text)]


def _split_statements(tokens: list[Token]) -> list[list[Token]]:
    statements: list[list[Token]] = [[]]
    for token in tokens:
        if token.kind == PUNCT and token.text == ";":
            statements.append([])
        else:
            statements[-1].append(token)
    return [statement for statement in statements if statement]


def _check_first_word(statement: list[Token]) -> None:
    first = next((token for token in statement if not (token.kind == PUNCT and token.text == "(")), None)
    if first is None or first.kind != WORD or first.text.upper() not in ALLOWED_FIRST_WORDS:
        shown = first.text if first is not None else statement[0].text
        raise QueryRefused(
            f"Only a read-only query can be exported (SELECT, WITH ... SELECT, VALUES or TABLE), not {shown[:40]!r}"
        )


def _check_words(statement: list[Token]) -> None:
    words = [token.text.upper() for token in statement if token.kind == WORD]
    for word, following in zip(words, words[1:] + [""], strict=True):
        if word == "FOR" and following in LOCKING_AFTER_FOR:
            raise QueryRefused("A locking clause (FOR UPDATE, FOR SHARE, ...) is not allowed in an export")
        if word in FORBIDDEN_WORDS:
            raise QueryRefused(
                f"{word} is not allowed in an export: the query must only read "
                "(if it is the name of a column or table, quote it)"
            )
