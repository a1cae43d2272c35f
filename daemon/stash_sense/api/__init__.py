"""The HTTP API under /api/v1: routes, authentication, CORS and JSON errors."""
