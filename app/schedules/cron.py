"""Cron expressions in an IANA time zone: parsing, fire times, the shortest interval.

Parsing and matching are cronsim's (5 fields, or 6 with seconds first); this module adds the
`@daily`-style macros and one rule for local time that holds for every expression: the
expression is matched against the zone's wall clock, a wall time that does not exist (a DST
gap) fires at the first valid moment after the gap, and a wall time that occurs twice fires
at its first occurrence only. cronsim applies Debian cron's DST handling only to 5-field
expressions with a fixed minute and hour; 6-field and wildcard-hour expressions it iterates in
absolute time, which would skip gap times and repeat the repeated hour. So cronsim is handed
naive wall-clock times and zoneinfo maps each one to an instant.

Pure: no Flask, no database. Every instant returned is timezone-aware UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

MACROS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
}
MAX_EXPRESSION_LENGTH = 200
# The shortest interval is measured over the fire times of this window (or this many of them),
# long enough to include a year's DST changes.
GAP_WINDOW = timedelta(days=400)
GAP_MAX_FIRES = 2000


class CronError(ValueError):
    """An expression or time zone that cannot be used; `field` is `cron` or `timezone`."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Cron:
    """A parsed expression: `expression` as stored, `fields` as cronsim reads it."""

    expression: str
    fields: str
    zone: ZoneInfo

    def fire_times(self, after: datetime) -> Iterator[datetime]:
        """Fire instants strictly after `after`, ascending, each once."""
        return fire_times(self, after)

    def next_after(self, after: datetime) -> datetime | None:
        """The first fire instant strictly after `after`; None if it never fires again."""
        return next(self.fire_times(after), None)

    def next_runs(self, after: datetime, count: int) -> list[datetime]:
        runs = []
        for moment in self.fire_times(after):
            runs.append(moment)
            if len(runs) >= count:
                break
        return runs


def parse_timezone(name) -> ZoneInfo:
    """An IANA zone by name (`Europe/Berlin`, `UTC`), or CronError."""
    if not isinstance(name, str) or not name or len(name) > 64:
        raise CronError("timezone", "Must be an IANA time zone name such as Europe/Berlin.")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        # ValueError: names zoneinfo refuses outright (absolute paths, `..`).
        raise CronError("timezone", f"Unknown time zone {name!r}: use an IANA name such as Europe/Berlin.") from None


def parse(expression, timezone="UTC") -> Cron:
    """Validate an expression and a zone; CronError names the field at fault."""
    zone = parse_timezone(timezone)
    if not isinstance(expression, str) or not expression.strip():
        raise CronError("cron", "Must be a cron expression such as '0 9 * * 1'.")
    if len(expression) > MAX_EXPRESSION_LENGTH:
        raise CronError("cron", f"Must be at most {MAX_EXPRESSION_LENGTH} characters.")
    normalized = " ".join(expression.split())
    if normalized.startswith("@"):
        fields = MACROS.get(normalized.lower())
        if fields is None:
            raise CronError("cron", f"Unknown macro {normalized!r}; use one of {', '.join(MACROS)}.")
        normalized = normalized.lower()
    else:
        fields = normalized
    if len(fields.split()) not in (5, 6):
        raise CronError("cron", "Must have 5 fields (minute hour day month weekday) or 6 with seconds first.")
    try:
        CronSim(fields, datetime(2000, 1, 1))
    except CronSimError as exc:
        raise CronError("cron", f"Invalid cron expression: {exc}.") from None
    cron = Cron(normalized, fields, zone)
    if cron.next_after(datetime(2000, 1, 1, tzinfo=UTC)) is None:
        raise CronError("cron", "This expression never fires.")
    return cron


def fire_times(cron: Cron, after: datetime) -> Iterator[datetime]:
    after = after.astimezone(UTC)
    # Start at the wall time of `after`: cronsim yields wall times strictly later. In a repeated
    # hour's second pass these map to their first pass, before `after`, and are skipped below.
    wall = after.astimezone(cron.zone).replace(tzinfo=None)
    last = after
    try:
        for candidate in CronSim(cron.fields, wall):
            moment = to_instant(candidate, cron.zone)
            if moment > last:
                last = moment
                yield moment
    except CronSimError:  # cronsim stops after 50 years without a match
        return


def to_instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """A naive wall time in `zone` as a UTC instant: an ambiguous time is its first occurrence,
    a nonexistent one the end of its gap."""
    first = wall.replace(tzinfo=zone, fold=0)
    instant = first.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == wall:
        return instant
    return _gap_end(wall, zone)


def _gap_end(wall: datetime, zone: ZoneInfo) -> datetime:
    """The transition instant that skipped `wall`: the first second whose wall time is later."""
    # For a nonexistent time, fold=1 applies the offset after the change (an instant before the
    # transition) and fold=0 the offset before it (an instant after).
    low = int(wall.replace(tzinfo=zone, fold=1).timestamp())
    high = int(wall.replace(tzinfo=zone, fold=0).timestamp())
    while low + 1 < high:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).replace(tzinfo=None) > wall:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def shortest_interval(cron: Cron, start: datetime, stop_below: float | None = None) -> float | None:
    """The shortest gap in seconds between consecutive fire times within GAP_WINDOW of `start`
    (None if it fires at most once); stops early once a gap below `stop_below` is seen."""
    shortest = None
    previous = None
    end = start + GAP_WINDOW
    for count, moment in enumerate(cron.fire_times(start)):
        if moment > end or count >= GAP_MAX_FIRES:
            break
        if previous is not None:
            gap = (moment - previous).total_seconds()
            shortest = gap if shortest is None else min(shortest, gap)
            if stop_below is not None and shortest < stop_below:
                break
        previous = moment
    return shortest
