"""Users' database connections: URLs checked before they are stored (`urls.py`), secrets encrypted
(`crypto.py`), the service (`service.py`), and introspection per dialect (`introspection/`)."""
