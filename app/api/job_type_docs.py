"""The job types' payload schemas in the OpenAPI document.

`POST /api/jobs` takes one body shape whose `payload` depends on `type`, which the request
schema alone cannot say. Each enabled type's payload schema becomes a component
(`DataExportPayload`, `SchemaRebuildPayload`, ...) and each type a request variant
(`DataExportJobRequest`: `type` fixed to `data-export`, its payload, the options); `JobCreate` is
one of those variants, told apart by `type` (an OpenAPI discriminator), so a document-valid
request is one the server accepts. The `payload` field also keeps `x-payload-schemas`, and the
document's top-level `x-job-types` lists every type with its label, payload schema and retry
defaults.
"""

from __future__ import annotations

from apispec import APISpec

from app.jobs.options import JobOptionsSchema
from app.jobs.registry import JOB_TYPES, JobType

JOB_CREATE_COMPONENT = "JobCreate"
JOB_OPTIONS_COMPONENT = "JobOptions"
# `startAfter` is a field of its own kind: seconds from now, or a moment.
START_AFTER = {
    "oneOf": [
        {"type": "number", "minimum": 0, "maximum": 365 * 86400, "description": "Seconds from now"},
        {"type": "string", "format": "date-time", "description": "An ISO 8601 time"},
    ]
}


def payload_component_name(type_name: str) -> str:
    """`data-export` -> `DataExportPayload`."""
    return "".join(part.capitalize() for part in type_name.split("-")) + "Payload"


def register_payload_schemas(spec: APISpec, *, include_test_types: bool = False) -> None:
    """Add the payload schemas of the enabled job types to `spec` (call after the blueprints
    are registered, so that the job-create schema is already a component)."""
    job_types = [jt for jt in JOB_TYPES.values() if include_test_types or not jt.test_only]
    refs: dict[str, dict] = {}
    for job_type in job_types:
        name = payload_component_name(job_type.name)
        if name not in spec.components.schemas:
            spec.components.schema(name, schema=job_type.payload_schema)
        refs[job_type.name] = {"$ref": f"#/components/schemas/{name}"}

    spec.options["x-job-types"] = [_describe(job_type, refs[job_type.name]) for job_type in job_types]
    job_create = spec.components.schemas.get(JOB_CREATE_COMPONENT)
    if job_create is not None:
        _document_variants(spec, job_create, refs)


def _document_variants(spec: APISpec, job_create: dict, refs: dict[str, dict]) -> None:
    """Turn `JobCreate` into one request variant per type, discriminated by `type`."""
    if JOB_OPTIONS_COMPONENT not in spec.components.schemas:
        spec.components.schema(JOB_OPTIONS_COMPONENT, schema=JobOptionsSchema)
        options = spec.components.schemas[JOB_OPTIONS_COMPONENT]
        options["properties"]["startAfter"] = START_AFTER
    payload = dict(job_create["properties"]["payload"])
    names = ", ".join(f"`{name}`: {ref['$ref'].rsplit('/', 1)[1]}" for name, ref in refs.items())
    payload["description"] = f"The job type's payload, validated by its schema. {names}."
    payload["x-payload-schemas"] = {name: ref["$ref"] for name, ref in refs.items()}
    variants = {}
    for name, ref in refs.items():
        component = payload_component_name(name).removesuffix("Payload") + "JobRequest"
        payload_component = spec.components.schemas[ref["$ref"].rsplit("/", 1)[1]]
        # The payload may be left out (it defaults to {}) unless the type requires a field of it.
        required = ["type", "payload"] if payload_component.get("required") else ["type"]
        if component not in spec.components.schemas:
            spec.components.schema(
                component,
                {
                    "type": "object",
                    "properties": {
                        "type": {"type": "string", "enum": [name]},
                        "payload": ref,
                        "options": {
                            "nullable": True,
                            "allOf": [{"$ref": f"#/components/schemas/{JOB_OPTIONS_COMPONENT}"}],
                        },
                    },
                    "required": required,
                    "additionalProperties": False,
                },
            )
        variants[name] = f"#/components/schemas/{component}"
    job_create.clear()
    job_create.update(
        {
            "description": "A job of one registered type: its `type`, its payload and options.",
            "oneOf": [{"$ref": target} for target in variants.values()],
            "discriminator": {"propertyName": "type", "mapping": variants},
            "x-payload": payload,
        }
    )


def _describe(job_type: JobType, ref: dict) -> dict:
    return {
        "type": job_type.name,
        "label": job_type.label,
        "payloadSchema": ref,
        "retryLimit": job_type.retry_limit,
        "retryDelaySeconds": job_type.retry_delay,
        "retryBackoff": job_type.retry_backoff,
        "expireInSeconds": job_type.expire_in_seconds,
    }
