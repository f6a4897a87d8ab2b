"""Data exports: the query guard, row sources per dialect, CSV / JSON writers, the job itself."""
