"""Version 1 routers, one per area; each router's prefix starts with PREFIX so its route paths are
complete (metrics and logs label requests by route template)."""

PREFIX = "/api/v1"
