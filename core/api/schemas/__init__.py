"""Pydantic models of every request and response body, so /openapi.json says exactly what goes over the wire."""
