"""JSON REST API under /api/v1 (presentation only: validate, call one use case, return)."""
