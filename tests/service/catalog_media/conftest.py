"""Each media test starts with the default storage (local disk under the worker's temp var dir)
and leaves no files behind."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fresh_media(empty_media: None) -> None:
    """Every test here starts with no stored file (see ``empty_media`` in tests/conftest.py)."""
