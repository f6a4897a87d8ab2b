"""Job dependencies and workflows: jobs that wait for other jobs, DAGs of jobs created at once.

Kept free of imports so that `app.models` can register the models without a cycle.
"""
