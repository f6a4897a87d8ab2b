"""The Blueprint every resource uses: argument errors are 400 (the contract), documented as such."""

from flask import Response, jsonify
from flask_smorest import Blueprint as SmorestBlueprint
from webargs.flaskparser import FlaskParser


class ContractParser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400


class Blueprint(SmorestBlueprint):
    ARGUMENTS_PARSER = ContractParser()


def as_documented(body) -> Response:
    """Send `body` as it is, for a view whose body is already in its documented shape: the view's
    response schema then documents it without dumping it again. For the job views, whose body
    comes from `serialize_job` (the one home of a job's JSON, shared with the socket events):
    dumping a page of jobs through marshmallow cost about a sixth of the request."""
    return jsonify(body)
