"""The request body limit per path: uploads and imports from the pages get the same room as the API."""

from __future__ import annotations

import pytest

from mercato.core import tabular
from mercato.core.settings import get_settings
from mercato.web.middleware import UPLOAD_ENVELOPE_BYTES, RequestContextMiddleware

DEFAULT = 2 * 1024 * 1024


async def _app(scope: object, receive: object, send: object) -> None:  # pragma: no cover - never called
    raise AssertionError


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/admin/catalog/products/7/images",
        "/admin/catalog/products/7/images",
        "/admin/catalog/brands/3/logo",
        "/admin/content/banners",
        "/admin/content/banners/12",
    ],
)
def test_image_uploads_may_send_one_image(path: str) -> None:
    limit = RequestContextMiddleware(_app).body_limit(path)

    assert limit == max(DEFAULT, get_settings().max_image_bytes + UPLOAD_ENVELOPE_BYTES)


def test_the_after_sales_form_may_send_every_photo() -> None:
    settings = get_settings()

    limit = RequestContextMiddleware(_app).body_limit("/account/aftersales/new")

    assert limit == settings.aftersales_max_photos * settings.max_image_bytes + UPLOAD_ENVELOPE_BYTES


@pytest.mark.parametrize("path", ["/admin/catalog/import", "/admin/inventory/import"])
def test_spreadsheet_imports_may_send_one_file(path: str) -> None:
    assert RequestContextMiddleware(_app).body_limit(path) == tabular.MAX_UPLOAD_BYTES + UPLOAD_ENVELOPE_BYTES


@pytest.mark.parametrize(
    "path", ["/", "/admin/content/banners/12/delete", "/admin/catalog/products/7", "/account/aftersales"]
)
def test_other_pages_keep_the_default(path: str) -> None:
    assert RequestContextMiddleware(_app).body_limit(path) == DEFAULT
