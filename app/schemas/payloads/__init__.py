"""Payload schemas of the job types, one module per type, with the wording of their results.

The registry (`app/services/job_types.py`) pairs each with its retry defaults and worker."""
