"""What every domain runs on: the Redis client, the Celery app, metrics, the socket emitter, rate
limits, health, the audit log, who owns a row, logging, batched purges and per-process background
threads."""
