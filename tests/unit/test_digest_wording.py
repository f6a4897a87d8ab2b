"""What a digest email says about the updates it collected (app.notifications.digest)."""

from __future__ import annotations

from app.notifications.digest import digest_subject, digest_summary


def test_the_subject_counts_the_updates():
    assert digest_subject(1) == "1 job update"
    assert digest_subject(12) == "12 job updates"


def test_the_summary_counts_each_outcome():
    items = [{"outcome": "completed"}] * 11 + [{"outcome": "failed"}]
    assert digest_summary(items) == "11 completed, 1 failed"
    assert digest_summary([{"outcome": "failed"}]) == "1 failed"
