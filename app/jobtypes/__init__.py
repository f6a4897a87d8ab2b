"""One folder per job type: `payload.py` (the payload schema, access checks beyond its shape, and
the wording of its result) and `handler.py` (`run(ctx)`, the work), plus the modules the handler
needs. `app/jobs/registry.py` registers each type with its retry defaults."""
