"""Schedules: cron expressions in a time zone that create jobs, one per tick.

`cron` computes fire times (pure, no services), `models` holds the row, `service` the API's
operations, `tick` turns due rows into jobs and `ticker` runs that inside the beat process.
"""
