"""The data-export job type: the query guard (`query_guard.py` over `sql_lexer.py`), row sources
per dialect (`sources.py`), CSV / JSON writers (`writers.py`), the job itself (`handler.py`)."""
