"""Payments use cases, re-exported by ``mercato.payments``."""
