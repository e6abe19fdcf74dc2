"""Console routers, one per domain; included by ``mercato.app``."""
