"""Pure logic of batches: what a finished batch says, what an Idempotency-Key remembers of a
batch, and the BATCH_MAX_JOBS setting."""

from __future__ import annotations

import pytest

from app.batches.service import batch_fingerprint
from app.batches.settle import describe
from app.config import ConfigError, load_config


def test_a_batch_that_all_completed_says_so():
    counts = {"completed": 3, "failed": 0, "cancelled": 0}
    assert describe(3, counts) == ("Batch of 3 jobs completed", "All 3 jobs of the batch completed")


def test_a_batch_with_failures_counts_each_outcome():
    title, message = describe(5, {"completed": 2, "failed": 2, "cancelled": 1})
    assert title == "Batch of 5 jobs finished"
    assert message == "2 completed, 2 failed, 1 cancelled"


def test_the_fingerprint_follows_the_items_and_their_order_not_key_order():
    a = {"type": "noop", "payload": {"x": 1, "y": 2}}
    b = {"type": "test-probe", "payload": {}}
    assert batch_fingerprint([a, b]) == batch_fingerprint([{"payload": {"y": 2, "x": 1}, "type": "noop"}, b])
    assert batch_fingerprint([a, b]) != batch_fingerprint([b, a])
    assert batch_fingerprint([a]) != batch_fingerprint([a, a])


def test_batch_max_jobs_defaults_to_a_thousand_and_must_be_positive(environment):
    environment.delenv("BATCH_MAX_JOBS", raising=False)
    assert load_config()["BATCH_MAX_JOBS"] == 1000
    environment.setenv("BATCH_MAX_JOBS", "50")
    assert load_config()["BATCH_MAX_JOBS"] == 50
    environment.setenv("BATCH_MAX_JOBS", "0")
    with pytest.raises(ConfigError, match="BATCH_MAX_JOBS"):
        load_config()
