"""The event types a webhook can subscribe to (the contract's list), and the test ping."""

JOB_EVENTS = ("job.queued", "job.started", "job.completed", "job.failed", "job.cancelled")
WORKFLOW_EVENTS = ("workflow.completed", "workflow.failed")
BATCH_EVENTS = ("batch.completed",)
EVENT_TYPES = JOB_EVENTS + WORKFLOW_EVENTS + BATCH_EVENTS
ANY_EVENT = "*"
TEST_EVENT = "webhook.test"
# What a delivery can carry: every subscribable event, and the ping of POST /api/webhooks/:id/test.
DELIVERY_EVENT_TYPES = EVENT_TYPES + (TEST_EVENT,)
