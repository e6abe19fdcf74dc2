"""User-supplied text is text: a product titled ``<script>alert(1)</script>`` shows its title,
literally, on the product page, in search results and in the console's product list, and no
script runs (no dialog opens). The pages' policy now refuses inline scripts too (ADR 0023), and
``open_page`` would fail on the refusal, but the check stands on escaping alone."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.e2e.browser import record_dialogs, staff_sign_in
from tests.e2e.conftest import OpenPage
from tests.e2e.shop import stocked_shop
from tests.factories.identity import PASSWORD, make_staff

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("handlers")]

TITLE = "<script>alert(1)</script>"


async def test_a_script_title_renders_as_text_everywhere(open_page: OpenPage) -> None:
    shop = await stocked_shop(title=TITLE, title_en=TITLE)
    await make_staff(email="ops@example.com", is_superuser=True)
    page = await open_page("desktop")
    dialogs = record_dialogs(page)

    await page.goto(f"/p/{shop.product_slug}")
    await expect(page.get_by_role("heading", level=1, name=TITLE)).to_have_text(TITLE)
    assert TITLE in await page.title()

    await page.goto("/search?q=alert")
    await expect(page.get_by_role("link", name=TITLE).first).to_be_visible()

    await staff_sign_in(page, "ops@example.com", PASSWORD, next_path="/admin/catalog/")
    await expect(page.get_by_role("link", name=TITLE, exact=True)).to_be_visible()

    assert await page.evaluate("() => document.querySelectorAll('main script').length") == 0
    assert dialogs == []
