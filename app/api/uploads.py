"""Uploads: CSV or JSON files for `bulk-import` jobs, streamed to the artifact store."""

from __future__ import annotations

import uuid

from flask import request, url_for

from app.api.blueprint import Blueprint
from app.api.links import from_body, link, links
from app.api.security import caller_id, login_required
from app.files import uploads
from app.schemas.common import ErrorSchema
from app.schemas.uploads import UPLOAD_REQUEST_BODY, UploadArgsSchema, UploadSchema

blp = Blueprint("uploads", __name__, url_prefix="/api/uploads", description="Files to import")


def accepts_file_bodies(view):
    """Marks a view that reads its own non-JSON body; the JSON-only request hook lets it through."""
    view.accepts_file_bodies = True
    return view


@blp.route("", methods=["POST"])
@accepts_file_bodies
@login_required
@blp.arguments(UploadArgsSchema, location="query")
@blp.doc(requestBody=UPLOAD_REQUEST_BODY)
@blp.response(201, UploadSchema)
@blp.alt_response(400, schema=ErrorSchema, description="Empty file, malformed JSON or not UTF-8")
@blp.alt_response(413, schema=ErrorSchema, description="Larger than UPLOAD_MAX_BYTES")
@blp.alt_response(415, schema=ErrorSchema, description="Not a CSV or JSON file")
@blp.doc(
    operationId="createUpload",
    **links(
        201,
        GetUpload=link("getUpload", upload_id=from_body("/id")),
        DeleteUpload=link("deleteUpload", upload_id=from_body("/id")),
    ),
)
def create(args):
    """Upload a CSV or JSON file; it is kept UPLOAD_RETENTION_HOURS for `bulk-import` jobs."""
    upload = uploads.receive_upload(caller_id(), request, args.get("filename"))
    return uploads.serialize_upload(upload), 201, {"Location": url_for("uploads.get", upload_id=upload.id)}


@blp.route("/<uuid:upload_id>", methods=["GET"])
@login_required
@blp.response(200, UploadSchema)
@blp.alt_response(404, schema=ErrorSchema, description="Unknown, expired or another user's upload")
@blp.doc(operationId="getUpload")
def get(upload_id: uuid.UUID):
    return uploads.serialize_upload(uploads.get_upload(caller_id(), upload_id))


@blp.route("/<uuid:upload_id>", methods=["DELETE"])
@login_required
@blp.response(204)
@blp.alt_response(404, schema=ErrorSchema)
@blp.doc(operationId="deleteUpload")
def delete(upload_id: uuid.UUID):
    """Delete an upload and its file now rather than at its expiry."""
    uploads.delete_upload(caller_id(), upload_id)
    return None
