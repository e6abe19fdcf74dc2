"""Shared presentation plumbing: problem+json, middleware, CSRF, templates. No business rules."""
