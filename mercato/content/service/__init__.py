"""Content use cases (re-exported by ``mercato.content``)."""
