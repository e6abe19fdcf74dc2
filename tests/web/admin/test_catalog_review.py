"""The listing review queue: findings highlighted in the texts (escaped, terms in <mark>),
approve, reject with a reason; catalog.review and CSRF required."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient

from mercato import catalog
from mercato.admin.routes.catalog_review import mark_terms
from mercato.catalog.models import ListingStatusChange
from mercato.core.db import uow
from tests.factories.catalog import (
    SYSTEM,
    count,
    get_product,
    load_banned_terms,
    make_priced_product,
    snapshot,
)
from tests.factories.inventory import make_warehouse, receive
from tests.web.pages import EN, csrf_of, staff_sign_in

XSS = "<script>alert(1)</script>"
REVIEWER = ["catalog.read", "catalog.review"]


async def _sign_in(client: AsyncClient, permissions: list[str] | None = None) -> str:
    await staff_sign_in(client, "rev@example.com", *(REVIEWER if permissions is None else permissions))
    return csrf_of(await client.get("/admin/"))


async def _pending(**fields: Any) -> catalog.ProductRead:
    product, _skus = await make_priced_product(**fields)
    async with uow() as session:
        return await catalog.submit_for_review(session, product_id=product.id, actor=SYSTEM)


def test_mark_terms_splits_the_text_around_the_terms() -> None:
    assert mark_terms("史上最好的T恤, the BEST tee", ["最好", "best"]) == [
        ("史上", False),
        ("最好", True),
        ("的T恤, the ", False),
        ("BEST", True),
        (" tee", False),
    ]
    assert mark_terms("bestseller", ["best"]) == [("bestseller", False)]
    assert mark_terms("最佳最", ["最", "最佳"]) == [("最佳", True), ("最", True)]
    assert mark_terms("", ["最"]) == []


async def test_the_queue_marks_the_banned_terms_and_escapes_the_rest(client: AsyncClient) -> None:
    await load_banned_terms()
    product = await _pending(title=f"{XSS}纯棉T恤", description_html="<p>柔软 & 舒适</p>")
    await _sign_in(client)

    page = await client.get("/admin/catalog/review", headers=EN)

    assert page.status_code == 200
    assert (
        f'<h2 id="review-{product.id}-title">&lt;script&gt;alert(1)&lt;/script&gt;纯棉T恤</h2>' in page.text
    )
    assert XSS not in page.text
    assert "柔软 &amp; 舒适" in page.text


async def test_findings_are_highlighted_with_mark(client: AsyncClient) -> None:
    product = await _pending(title="<b>最好</b>的T恤")
    async with uow() as session:  # the term is added after the submission: the reviewer's checks find it
        await catalog.add_banned_term(
            session,
            data=catalog.BannedTermCreate(term="最好", language=catalog.TermLanguage.zh),
            actor=SYSTEM,
        )
    await _sign_in(client)

    page = await client.get("/admin/catalog/review", headers=EN)

    assert f'<h2 id="review-{product.id}-title">&lt;b&gt;<mark>最好</mark>&lt;/b&gt;的T恤</h2>' in page.text
    assert "Title · <mark>最好</mark>: Uses a banned absolute term (Advertising Law art. 9)." in page.text


async def test_the_queue_warns_when_the_product_has_no_sellable_stock(client: AsyncClient) -> None:
    empty = await _pending(title="无货T恤")
    stocked = await _pending(title="有货T恤")
    async with uow(write=False) as session:
        skus = await catalog.list_skus(session, product_id=stocked.id)
    await receive(skus[0].id, (await make_warehouse()).id, 3)
    await _sign_in(client)

    page = await client.get("/admin/catalog/review", headers=EN)
    zh = await client.get("/admin/catalog/review")

    def article(text: str, product_id: int) -> str:
        start = text.index(f'<h2 id="review-{product_id}-title">')
        return text[start : text.index("</article>", start)]

    assert "has no sellable stock" in article(page.text, empty.id)
    assert "has no sellable stock" not in article(page.text, stocked.id)
    assert "没有可售库存" in article(zh.text, empty.id)


async def test_approving_puts_the_product_on_sale(client: AsyncClient) -> None:
    product = await _pending()
    token = await _sign_in(client)

    response = await client.post(f"/admin/catalog/review/{product.id}/approve", data={"csrf_token": token})

    assert response.status_code == 303
    assert response.headers["location"] == "/admin/catalog/review?notice=approved"
    assert (await get_product(product.id)).status.value == "on_sale"
    queue = await client.get(response.headers["location"], headers=EN)
    assert "The product was approved and is on sale." in queue.text
    assert "Nothing is waiting for review." in queue.text


async def test_rejecting_needs_a_reason(client: AsyncClient) -> None:
    product = await _pending()
    token = await _sign_in(client)
    before = await snapshot()

    blank = await client.post(
        f"/admin/catalog/review/{product.id}/reject", data={"reason": "  ", "csrf_token": token}, headers=EN
    )
    assert blank.status_code == 422
    assert (
        f'<p class="field-error" id="reject-{product.id}-reason-error">This field is required.</p>'
        in blank.text
    )
    assert await snapshot() == before

    rejected = await client.post(
        f"/admin/catalog/review/{product.id}/reject", data={"reason": "图片不清晰", "csrf_token": token}
    )

    assert rejected.status_code == 303
    assert (await get_product(product.id)).status.value == "rejected"
    async with uow(write=False) as session:
        history = await catalog.list_listing_history(session, product_id=product.id)
    assert (history[-1].to_status.value, history[-1].reason, history[-1].actor_label) == (
        "rejected",
        "图片不清晰",
        "rev@example.com",
    )


async def test_approving_a_product_not_in_review_is_refused(client: AsyncClient) -> None:
    product, _skus = await make_priced_product()
    token = await _sign_in(client)
    changes = await count(ListingStatusChange)

    response = await client.post(
        f"/admin/catalog/review/{product.id}/approve", data={"csrf_token": token}, headers=EN
    )

    assert response.status_code == 409
    assert (await get_product(product.id)).status.value == "draft"
    assert await count(ListingStatusChange) == changes


async def test_the_queue_needs_catalog_review_and_csrf(client: AsyncClient) -> None:
    product = await _pending()
    token = await _sign_in(client, permissions=["catalog.read", "catalog.write"])
    before = await snapshot()

    page = await client.get("/admin/catalog/review", headers=EN)
    approve = await client.post(
        f"/admin/catalog/review/{product.id}/approve", data={"csrf_token": token}, headers=EN
    )
    forged = await client.post(
        f"/admin/catalog/review/{product.id}/reject", data={"reason": "x", "csrf_token": "forged"}
    )

    assert page.status_code == 403
    assert "You need the catalog.review permission." in page.text
    assert approve.status_code == 403
    assert forged.status_code == 403
    assert await snapshot() == before
    assert (await get_product(product.id)).status.value == "pending_review"
