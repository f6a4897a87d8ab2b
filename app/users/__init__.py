"""Users: registration, login, lookups (`service.py`)."""
