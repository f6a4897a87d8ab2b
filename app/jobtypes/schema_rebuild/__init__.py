"""The schema-rebuild job type: introspect a connection's database and cache its schema."""
