"""The HTTP API (FastAPI): app factory, /api/v2 routes, parameters, response schemas."""
