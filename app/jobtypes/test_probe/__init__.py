"""The test-probe job type: fault injection for the test suites."""
