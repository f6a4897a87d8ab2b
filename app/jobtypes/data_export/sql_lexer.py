"""A small SQL lexer that knows where strings, quoted names and comments begin and end.

It does not parse SQL; it finds the boundaries a database itself sees, so that the query guard
can look at the words and semicolons that are really code. Each dialect draws those boundaries
differently (backslash escapes, `#` comments, nested comments, dollar quotes, `[names]`), and a
guard that drew them differently from the database could be fooled into missing a second
statement hidden in what it took for a string. Where in doubt, the lexer reads more text as code,
never less: code is what the guard checks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

WORD, NUMBER, STRING, QUOTED_NAME, PUNCT = "word", "number", "string", "quoted_name", "punct"


class LexError(ValueError):
    """The text cannot be split into tokens (an unterminated string or comment)."""


@dataclass(frozen=True)
class Dialect:
    """How one database draws token boundaries (for its current session settings)."""

    name: str
    backslash_escapes: bool = False  # MySQL strings, unless NO_BACKSLASH_ESCAPES
    double_quoted_strings: bool = False  # MySQL without ANSI_QUOTES: "..." is a string
    hash_comments: bool = False  # MySQL: `# ...` runs to the end of the line
    dash_comment_needs_space: bool = False  # MySQL: `--` starts a comment only before a space
    nested_comments: bool = False  # PostgreSQL: /* /* */ */ is one comment
    dollar_quotes: bool = False  # PostgreSQL: $tag$ ... $tag$
    bracket_names: bool = False  # SQLite: [name]
    executable_comments: bool = False  # MySQL / MariaDB run the body of /*! ... */


POSTGRESQL = Dialect("postgresql", nested_comments=True, dollar_quotes=True)
MYSQL = Dialect(
    "mysql",
    backslash_escapes=True,
    double_quoted_strings=True,
    hash_comments=True,
    dash_comment_needs_space=True,
    executable_comments=True,
)
SQLITE = Dialect("sqlite", bracket_names=True)
DIALECTS = {"postgresql": POSTGRESQL, "mysql": MYSQL, "sqlite": SQLITE}


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int  # offset in the query


_WORD = re.compile(r"[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*")
_NUMBER = re.compile(r"[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][+-]?[0-9]+)?|\.[0-9][0-9_]*(?:[eE][+-]?[0-9]+)?")
_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$")


def tokenize(sql: str, dialect: Dialect) -> list[Token]:
    """The code tokens of `sql` (comments and whitespace dropped), or LexError."""
    tokens: list[Token] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch.isspace():
            i += 1
        elif _starts_line_comment(sql, i, dialect):
            i = _end_of_line(sql, i)
        elif sql.startswith("/*", i):
            i = _skip_block_comment(sql, i, dialect)
        elif ch == "'":
            end = _end_of_quoted(sql, i, "'", _backslash_escapes(sql, i, tokens, dialect))
            tokens.append(Token(STRING, sql[i:end], i))
            i = end
        elif ch == '"':
            kind = STRING if dialect.double_quoted_strings else QUOTED_NAME
            end = _end_of_quoted(sql, i, '"', kind == STRING and dialect.backslash_escapes)
            tokens.append(Token(kind, sql[i:end], i))
            i = end
        elif ch == "`" and dialect.name in ("mysql", "sqlite"):
            end = _end_of_quoted(sql, i, "`", False)
            tokens.append(Token(QUOTED_NAME, sql[i:end], i))
            i = end
        elif ch == "[" and dialect.bracket_names:
            end = sql.find("]", i + 1)
            if end < 0:
                raise LexError("unterminated [name]")
            tokens.append(Token(QUOTED_NAME, sql[i : end + 1], i))
            i = end + 1
        elif ch == "$" and dialect.dollar_quotes and (match := _DOLLAR_TAG.match(sql, i)):
            tag = match.group(0)
            end = sql.find(tag, match.end())
            if end < 0:
                raise LexError("unterminated dollar-quoted string")
            tokens.append(Token(STRING, sql[i : end + len(tag)], i))
            i = end + len(tag)
        elif match := _NUMBER.match(sql, i):
            tokens.append(Token(NUMBER, match.group(0), i))
            i = match.end()
        elif match := _WORD.match(sql, i):
            tokens.append(Token(WORD, match.group(0), i))
            i = match.end()
        else:
            tokens.append(Token(PUNCT, ch, i))
            i += 1
    return tokens


def _starts_line_comment(sql: str, i: int, dialect: Dialect) -> bool:
    if sql[i] == "#" and dialect.hash_comments:
        return True
    if not sql.startswith("--", i):
        return False
    if not dialect.dash_comment_needs_space:
        return True
    following = sql[i + 2 : i + 3]
    # MySQL: `--` followed by a space or control character, or at the very end.
    return following == "" or following.isspace() or ord(following) < 32


def _end_of_line(sql: str, i: int) -> int:
    # A comment ends at either line break: if the database ends it later, the text between is
    # checked as code, which only makes the guard stricter.
    ends = [pos for pos in (sql.find("\n", i), sql.find("\r", i)) if pos >= 0]
    return min(ends) + 1 if ends else len(sql)


def _skip_block_comment(sql: str, i: int, dialect: Dialect) -> int:
    if dialect.executable_comments and re.match(r"/\*(!|M!)", sql[i : i + 4]):
        # The server runs what is inside; the guard cannot vouch for it.
        raise LexError("executable comments (/*! ... */) are not allowed")
    depth, j = 1, i + 2
    while depth:
        close = sql.find("*/", j)
        if close < 0:
            raise LexError("unterminated comment")
        opening = sql.find("/*", j) if dialect.nested_comments else -1
        if 0 <= opening < close:
            depth, j = depth + 1, opening + 2
        else:
            depth, j = depth - 1, close + 2
    return j


def _backslash_escapes(sql: str, i: int, tokens: list[Token], dialect: Dialect) -> bool:
    """Whether a backslash escapes the next character in the string starting at `i`."""
    if dialect.backslash_escapes:
        return True
    if dialect.name != "postgresql":
        return False
    # PostgreSQL: only E'...' strings, where the E is a word of its own right before the quote.
    previous = tokens[-1] if tokens else None
    return bool(previous and previous.kind == WORD and previous.text in ("E", "e") and previous.start + 1 == i)


def _end_of_quoted(sql: str, i: int, quote: str, backslash_escapes: bool) -> int:
    """The offset just past the quoted token starting at `i` (a doubled quote stays inside)."""
    j, n = i + 1, len(sql)
    while j < n:
        ch = sql[j]
        if backslash_escapes and ch == "\\":
            j += 2
        elif ch == quote:
            if sql[j + 1 : j + 2] == quote:
                j += 2
            else:
                return j + 1
        else:
            j += 1
    raise LexError("unterminated quoted text")
