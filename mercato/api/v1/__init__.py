"""Version 1 routers, one per domain."""
