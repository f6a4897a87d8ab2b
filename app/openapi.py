"""Settings of the OpenAPI document that flask-smorest builds from the marshmallow schemas, and
what the document says about strings the server constrains beyond their marshmallow type."""

from flask import send_from_directory
from marshmallow import fields
from swagger_ui_bundle import swagger_ui_path

from app.connections.urls import documented_url_pattern
from app.jobs.registry import enabled_types
from app.schemas.common import AnyText
from app.schemas.connections import ConnectionUrl
from app.schemas.jobs import JobTypeName

# PostgreSQL cannot store a NUL character: every text field refuses one with a 400.
NO_NUL_PATTERN = "^[^\\u0000]*$"

OPENAPI_SETTINGS = {
    "API_TITLE": "Job management and notification service",
    "API_VERSION": "1.0.0",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "docs",
    # Swagger UI's files come from the swagger-ui-bundle package, served by this app: the docs
    # work on a machine without internet access.
    "OPENAPI_SWAGGER_UI_URL": "/api/docs/assets/",
    "API_SPEC_OPTIONS": {
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
        "security": [{"bearerAuth": []}],
    },
}


def register_docs_assets(app) -> None:
    """Serve Swagger UI's static files at /api/docs/assets/."""

    @app.route("/api/docs/assets/<path:filename>")
    def swagger_ui_assets(filename: str):
        return send_from_directory(swagger_ui_path, filename, max_age=86400)


def register_string_constraints(app, api) -> None:
    """Document, for this app's configuration: the job type names it accepts (an enum), the
    connection URLs it accepts (a pattern) and that no text may contain a NUL character.
    Call between `api.init_app(app)` and the registration of the blueprints."""
    with app.app_context():
        job_types = sorted(enabled_types())
    url_pattern = documented_url_pattern(app.config["CONNECTION_ALLOW_SQLITE"])

    def constrain(_converter, field, ret=None, **_):
        if isinstance(field, JobTypeName):
            return {"enum": job_types}
        if isinstance(field, ConnectionUrl):
            return {"pattern": url_pattern}
        if isinstance(field, AnyText):
            return {}
        if isinstance(field, fields.String) and not {"format", "enum", "pattern"} & set(ret or {}):
            return {"pattern": NO_NUL_PATTERN}
        return {}

    api.ma_plugin.converter.add_attribute_function(constrain)
