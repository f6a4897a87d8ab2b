"""The seams of a job's life: each listener hears every change once, however often registered."""

from __future__ import annotations

import pytest

from app.jobs import lifecycle
from app.jobs.lifecycle import Seam


@pytest.fixture()
def fresh(monkeypatch):
    monkeypatch.setattr(lifecycle, "_listeners", {seam: [] for seam in Seam})


def test_a_listener_registered_twice_hears_each_change_once(fresh):
    heard = []
    lifecycle.listen(Seam.COMPLETED, heard.append)
    lifecycle.listen(Seam.COMPLETED, heard.append)
    lifecycle.notify(Seam.COMPLETED, ["job"])
    assert heard == [["job"]]


def test_only_the_seam_listened_to_is_heard_and_nothing_for_no_jobs(fresh):
    heard = []
    lifecycle.listen(Seam.ENDED, heard.append)
    lifecycle.notify(Seam.RETRIED, ["job"])
    lifecycle.notify(Seam.ENDED, [])
    assert heard == []
