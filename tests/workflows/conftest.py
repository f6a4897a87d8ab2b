"""The fault tests' private Redis and app, for the workflow tests that start their own processes."""

from tests.faults.conftest import _own_socket_emitter, fault_app, private_redis  # noqa: F401
