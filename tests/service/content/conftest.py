"""Each content test starts with the default storage (local disk under the worker's temp var dir)
and leaves no files behind."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from mercato.core.storage import set_storage
from tests.factories.media import media_root


@pytest.fixture(autouse=True)
def empty_media() -> Iterator[None]:
    set_storage(None)
    yield
    set_storage(None)
    shutil.rmtree(media_root(), ignore_errors=True)
