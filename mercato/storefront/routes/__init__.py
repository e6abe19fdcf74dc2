"""Storefront routers, one per area; included by ``mercato.app``."""
