"""Settings of the OpenAPI document that flask-smorest builds from the marshmallow schemas."""

from flask import send_from_directory
from swagger_ui_bundle import swagger_ui_path

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
