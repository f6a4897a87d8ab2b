"""The job types' payload schemas in the OpenAPI document.

`POST /api/jobs` takes one body shape whose `payload` depends on `type`, which the request
schema alone cannot say. Each enabled type's payload schema becomes a component
(`DataExportPayload`, `SchemaRebuildPayload`, ...); the job-create `payload` field lists them
(`anyOf`: several shapes may accept the same object, so `oneOf` would be wrong) with the type
that each belongs to in `x-payload-schemas`, and the document's top-level `x-job-types` lists
every type with its label, payload schema and retry defaults.
"""

from __future__ import annotations

from apispec import APISpec

from app.jobs.registry import JOB_TYPES, JobType

JOB_CREATE_COMPONENT = "JobCreate"


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
    payload = (job_create or {}).get("properties", {}).get("payload")
    if payload is not None:
        names = ", ".join(f"`{name}`: {ref['$ref'].rsplit('/', 1)[1]}" for name, ref in refs.items())
        payload["description"] = f"The job type's payload, validated by its schema. {names}."
        payload["anyOf"] = list(refs.values())
        payload["x-payload-schemas"] = {name: ref["$ref"] for name, ref in refs.items()}


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
