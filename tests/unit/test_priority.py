"""Job priorities (0..100, higher first) onto the Redis transport's steps (0..9, lower first)."""

from __future__ import annotations

from app.jobs.broker import celery_priority, job_task_name


def test_the_highest_priority_runs_first_on_the_broker():
    assert celery_priority(100) == 0
    assert celery_priority(0) == 9


def test_a_higher_priority_never_maps_to_a_later_step():
    steps = [celery_priority(priority) for priority in range(0, 101)]
    assert steps == sorted(steps, reverse=True)
    assert set(steps) == set(range(10))


def test_out_of_range_priorities_are_clamped():
    assert celery_priority(-5) == 9
    assert celery_priority(250) == 0


def test_one_task_name_per_job_type():
    assert job_task_name("schema-rebuild") == "jobs.schema-rebuild"
