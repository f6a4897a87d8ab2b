"""Files: the artifact store (`artifacts.py`), uploads (`uploads.py`, `intake.py`) and the sweep
that deletes expired ones (`purge.py`)."""
