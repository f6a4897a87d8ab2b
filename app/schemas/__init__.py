"""marshmallow schemas: they validate requests, shape responses and feed the OpenAPI document."""
