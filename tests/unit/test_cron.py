"""Schedules' fire times (app/schedules/cron.py): DST gaps and repeats, macros, seconds, the
shortest interval. Pure logic: no database, no Redis, no app."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from app.schedules.cron import CronError, parse, shortest_interval

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def local_runs(expression: str, zone: str, after: datetime, count: int) -> list[str]:
    cron = parse(expression, zone)
    return [run.astimezone(cron.zone).isoformat() for run in cron.next_runs(after, count)]


def test_berlin_spring_gap_fires_at_the_next_valid_time_once():
    # 2026-03-29: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist that day.
    runs = local_runs("30 2 * * *", "Europe/Berlin", datetime(2026, 3, 28, 12, tzinfo=UTC), 3)
    assert runs == ["2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00", "2026-03-31T02:30:00+02:00"]


def test_every_time_in_the_gap_collapses_into_one_run():
    runs = local_runs("*/20 * * * *", "Europe/Berlin", datetime(2026, 3, 29, 0, 30, tzinfo=UTC), 4)
    assert runs == [
        "2026-03-29T01:40:00+01:00",
        "2026-03-29T03:00:00+02:00",  # 02:00, 02:20, 02:40 and 03:00 itself: one run
        "2026-03-29T03:20:00+02:00",
        "2026-03-29T03:40:00+02:00",
    ]


def test_berlin_autumn_repeated_hour_fires_once():
    # 2026-10-25: 03:00 CEST goes back to 02:00 CET; 02:30 happens twice.
    runs = local_runs("30 2 * * *", "Europe/Berlin", datetime(2026, 10, 24, 12, tzinfo=UTC), 2)
    assert runs == ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"]


def test_the_second_pass_of_a_repeated_hour_does_not_fire_again():
    runs = local_runs("*/30 * * * *", "Europe/Berlin", datetime(2026, 10, 24, 23, 15, tzinfo=UTC), 5)
    assert runs == [
        "2026-10-25T01:30:00+02:00",
        "2026-10-25T02:00:00+02:00",
        "2026-10-25T02:30:00+02:00",
        "2026-10-25T03:00:00+01:00",  # 02:00 and 02:30 CET were already run in CEST
        "2026-10-25T03:30:00+01:00",
    ]


def test_starting_inside_the_second_pass_waits_for_the_next_new_wall_time():
    inside_second_pass = datetime(2026, 10, 25, 1, 10, tzinfo=UTC)  # 02:10 CET
    assert inside_second_pass.astimezone(BERLIN).isoformat() == "2026-10-25T02:10:00+01:00"
    assert local_runs("*/30 * * * *", "Europe/Berlin", inside_second_pass, 1) == ["2026-10-25T03:00:00+01:00"]


def test_new_york_spring_and_autumn():
    # 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT -> 01:00 EST.
    spring = local_runs("0 30 2 * * *", "America/New_York", datetime(2026, 3, 7, 12, tzinfo=UTC), 2)
    assert spring == ["2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"]
    autumn = local_runs("30 1 * * *", "America/New_York", datetime(2026, 10, 31, 12, tzinfo=UTC), 2)
    assert autumn == ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"]


def test_hourly_across_new_york_autumn_skips_the_repeated_hour():
    runs = local_runs("@hourly", "America/New_York", datetime(2026, 11, 1, 4, 30, tzinfo=UTC), 3)
    assert runs == ["2026-11-01T01:00:00-04:00", "2026-11-01T02:00:00-05:00", "2026-11-01T03:00:00-05:00"]


@pytest.mark.parametrize(
    ("macro", "expected"),
    [
        ("@hourly", ["2026-05-06T08:00:00+09:00", "2026-05-06T09:00:00+09:00"]),
        ("@daily", ["2026-05-07T00:00:00+09:00", "2026-05-08T00:00:00+09:00"]),
        ("@weekly", ["2026-05-10T00:00:00+09:00", "2026-05-17T00:00:00+09:00"]),  # Sundays
        ("@monthly", ["2026-06-01T00:00:00+09:00", "2026-07-01T00:00:00+09:00"]),
        ("@yearly", ["2027-01-01T00:00:00+09:00", "2028-01-01T00:00:00+09:00"]),
        ("@DAILY", ["2026-05-07T00:00:00+09:00", "2026-05-08T00:00:00+09:00"]),
    ],
)
def test_macros(macro, expected):
    after = datetime(2026, 5, 6, 7, 30, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert local_runs(macro, "Asia/Tokyo", after, 2) == expected


def test_six_fields_have_seconds_first():
    after = datetime(2026, 5, 6, 12, 0, 0, 500_000, tzinfo=UTC)
    assert local_runs("*/2 * * * * *", "UTC", after, 3) == [
        "2026-05-06T12:00:02+00:00",
        "2026-05-06T12:00:04+00:00",
        "2026-05-06T12:00:06+00:00",
    ]
    assert local_runs("15 0 9 * * 1", "UTC", after, 1) == ["2026-05-11T09:00:15+00:00"]


def test_the_next_run_is_strictly_after_the_given_time():
    exactly_on_a_tick = datetime(2026, 5, 6, 12, 0, tzinfo=UTC)
    assert local_runs("* * * * *", "UTC", exactly_on_a_tick, 1) == ["2026-05-06T12:01:00+00:00"]


def test_every_monday_at_nine_in_tokyo_is_midnight_utc():
    cron = parse("0 9 * * 1", "Asia/Tokyo")
    assert cron.next_after(datetime(2026, 5, 6, tzinfo=UTC)) == datetime(2026, 5, 11, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "stop_below", "expected"),
    [
        ("*/5 * * * * *", None, 5),
        ("* * * * *", None, 60),
        ("0,1 * * * *", None, 60),
        ("0 9,17 * * 1-5", None, 8 * 3600),
        ("0 2,3 * * *", None, 3600),
        ("* * * * * *", 60, 1),
    ],
)
def test_shortest_interval(expression, stop_below, expected):
    cron = parse(expression, "Europe/Berlin")
    assert shortest_interval(cron, datetime(2026, 1, 1, tzinfo=UTC), stop_below) == expected


def test_a_once_a_year_expression_has_a_year_long_interval():
    cron = parse("0 0 29 2 *", "UTC")  # leap days only: at most one in the window
    assert shortest_interval(cron, datetime(2026, 1, 1, tzinfo=UTC)) is None


@pytest.mark.parametrize(
    ("expression", "timezone", "field"),
    [
        ("61 * * * *", "UTC", "cron"),
        ("* * *", "UTC", "cron"),
        ("* * * * * * *", "UTC", "cron"),
        ("@reboot", "UTC", "cron"),
        ("every day", "UTC", "cron"),
        ("0 0 30 2 *", "UTC", "cron"),
        ("", "UTC", "cron"),
        ("* * * * *", "Mars/Olympus", "timezone"),
        ("* * * * *", "../../etc/passwd", "timezone"),
        ("* * * * *", "", "timezone"),
    ],
)
def test_invalid_expressions_and_zones_name_the_field(expression, timezone, field):
    with pytest.raises(CronError) as caught:
        parse(expression, timezone)
    assert caught.value.field == field
    assert caught.value.message
