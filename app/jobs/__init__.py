"""Jobs: a job's whole life.

- `service.py`: create, read, list, cancel, retry (what the API calls).
- `options.py`: validation of a request's type, payload and options.
- `registry.py`: the job types (each one's folder is in `app/jobtypes/`).
- `state.py`: the guarded transitions of a job, in SQL (each one adds its history row).
- `lifecycle.py`: the seams other domains (workflows) follow of those transitions.
- `history.py`: a job's history (job_events), read back for the job page.
- `stats.py`: the operators' figures of the last hours (finished per minute, run time per type).
- `runner.py`: one attempt inside a worker (claim, run the handler, record the outcome).
- `announcements.py`: what each transition announces (notifications, `job:*` events).
- `broker.py`: the hand-off to Celery after the commit.
- `sweeps.py`: what beat runs for jobs (release due jobs, recover lost ones, purge old ones).
- `dead_letters.py`, `errors.py`: dead-lettered jobs; the errors a job can meet.
"""
