"""Batches: many jobs created by one request, and the answer that lists them."""

from marshmallow import Schema, fields, utils, validate

from app.schemas.jobs import JobCreatedSchema


class ItemList(fields.List):
    """A list whose items are taken as they are (documented as a list of anything): List(Raw)
    without deserialising each item through Raw, a third of the parsing of a batch of 1,000."""

    def __init__(self, **kwargs):
        super().__init__(fields.Raw(), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> list:
        if not utils.is_collection(value):
            raise self.make_error("invalid")
        return list(value)


class JobBatchCreateSchema(Schema):
    # Each item is checked by the service as POST /api/jobs checks a job, so that one bad item
    # is reported under its index; the document states it as a JobCreate (app/api/batches.py),
    # with BATCH_MAX_JOBS as its maxItems.
    jobs = ItemList(
        required=True,
        validate=validate.Length(min=1),
        metadata={"description": "The jobs, each as POST /api/jobs takes one: {type, payload, options?}"},
    )


class JobBatchCreatedSchema(Schema):
    batchId = fields.UUID()
    count = fields.Integer(metadata={"description": "How many jobs the batch created"})
    data = fields.List(fields.Nested(JobCreatedSchema), metadata={"description": "The jobs, in the request's order"})
