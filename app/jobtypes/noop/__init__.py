"""The noop job type: the canary of health checks and benchmarks."""
