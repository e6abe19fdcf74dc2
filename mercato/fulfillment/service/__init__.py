"""Fulfilment use cases: shipments, tracking, store pickup (see the package docstring)."""
