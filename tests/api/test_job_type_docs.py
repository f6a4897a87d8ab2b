"""Every enabled job type's payload schema is documented in /api/openapi.json."""

from __future__ import annotations

from app import create_app
from app.api.job_type_docs import payload_component_name
from app.extensions import api
from app.jobs.registry import enabled_types


def _document(app) -> dict:
    response = app.test_client().get("/api/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_every_enabled_type_has_its_payload_schema_in_the_document(app):
    document = _document(app)
    schemas = document["components"]["schemas"]
    with app.app_context():
        types = enabled_types()
    assert {"schema-rebuild", "data-export", "bulk-import", "backup-connection", "analytics-report"} <= set(types)
    for name, job_type in types.items():
        component = schemas[payload_component_name(name)]
        fields = {
            field.data_key or key for key, field in job_type.payload_schema().fields.items() if not field.dump_only
        }
        assert set(component["properties"]) == fields, name
        required = {key for key, field in job_type.payload_schema().fields.items() if field.required}
        assert set(component.get("required", [])) == required, name

    assert schemas["BackupConnectionPayload"]["properties"]["tables"]["items"]["maxLength"] == 511
    assert schemas["AnalyticsReportPayload"]["properties"]["days"]["maximum"] == 366
    assert [entry["type"] for entry in document["x-job-types"]] == list(types)


def test_the_job_create_body_is_one_variant_per_type_with_that_types_payload(app):
    document = _document(app)
    schemas = document["components"]["schemas"]
    job_create = schemas["JobCreate"]
    by_type = job_create["x-payload"]["x-payload-schemas"]
    assert by_type["backup-connection"] == "#/components/schemas/BackupConnectionPayload"
    assert "`data-export`: DataExportPayload" in job_create["x-payload"]["description"]
    assert job_create["discriminator"]["propertyName"] == "type"
    mapping = job_create["discriminator"]["mapping"]
    with app.app_context():
        assert set(mapping) == set(enabled_types())
    assert [ref["$ref"] for ref in job_create["oneOf"]] == list(mapping.values())
    for type_name, target in mapping.items():
        variant = schemas[target.rsplit("/", 1)[1]]
        assert variant["properties"]["type"]["enum"] == [type_name]
        assert variant["properties"]["payload"] == {"$ref": by_type[type_name]}
        assert by_type[type_name].rsplit("/", 1)[1] in schemas  # every reference resolves
    assert schemas["DataExportJobRequest"]["required"] == ["type", "payload"]
    assert schemas["NoopJobRequest"]["required"] == ["type"]  # a noop's payload defaults to {}
    assert set(schemas["JobOptions"]["properties"]) >= {"priority", "retryLimit", "startAfter", "singletonKey"}


def test_test_only_types_are_documented_only_where_enabled(database):
    assert "TestProbePayload" in _document(create_app())["components"]["schemas"]
    # The spec object itself: apispec merges the shared API_SPEC_OPTIONS dict into every document
    # it renders, so a second app in one process would still serve the first one's components.
    create_app({"ENABLE_TEST_JOB_TYPES": False})
    assert "TestProbePayload" not in api.spec.components.schemas
    assert "NoopPayload" in api.spec.components.schemas
    assert "test-probe" not in {entry["type"] for entry in api.spec.options["x-job-types"]}
    create_app()  # leave the shared spec as the session's app documents it
