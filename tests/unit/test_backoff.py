"""Retry back-off (app.jobs.state.backoff_seconds): exponential when asked, capped, jittered."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from app.jobs.state import MAX_BACKOFF_SECONDS, backoff_seconds


def job(retry_delay: int, attempts: int, retry_backoff: bool = True) -> SimpleNamespace:
    return SimpleNamespace(retry_delay=retry_delay, attempts=attempts, retry_backoff=retry_backoff)


@pytest.mark.parametrize(("attempts", "base"), [(1, 10), (2, 20), (3, 40), (4, 80)])
def test_exponential_back_off_doubles_per_attempt_within_ten_percent(attempts, base):
    for _ in range(50):
        assert base * 0.9 <= backoff_seconds(job(10, attempts)) <= base * 1.1


def test_without_back_off_the_delay_stays_the_same():
    for attempts in (1, 2, 5):
        assert 27 <= backoff_seconds(job(30, attempts, retry_backoff=False)) <= 33


def test_the_delay_is_capped():
    assert backoff_seconds(job(60, 30)) <= MAX_BACKOFF_SECONDS * 1.1


def test_no_delay_means_retry_at_once():
    assert backoff_seconds(job(0, 3)) == 0.0


def test_jitter_spreads_retries():
    assert len({backoff_seconds(job(10, 1)) for _ in range(20)}) > 1
