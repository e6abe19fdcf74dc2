"""The banned-term dictionary page: list (catalog.read), add, reactivate and deactivate a term
(catalog.review), and the listing checks following it; refusals change nothing."""

from __future__ import annotations

from httpx import AsyncClient

from mercato import catalog
from mercato.catalog.models import BannedTerm
from mercato.core.db import uow
from mercato.identity.models import AuditEntry
from tests.factories.catalog import SYSTEM, count, make_product
from tests.web.pages import EN, alert_of, csrf_of, field_error_of, staff_sign_in

TERMS = "/admin/catalog/banned-terms"
XSS = "<script>alert(1)</script>"
REVIEWER = ["catalog.read", "catalog.review"]


async def _sign_in(
    client: AsyncClient, permissions: list[str] | None = None, email: str = "terms@example.com"
) -> str:
    """Sign in; a CSRF token for later posts."""
    await staff_sign_in(client, email, *(REVIEWER if permissions is None else permissions))
    return csrf_of(await client.get("/admin/"))


async def _terms() -> list[catalog.BannedTermRead]:
    async with uow(write=False) as session:
        return await catalog.list_banned_terms(session)


async def _findings(product_id: int) -> list[str | None]:
    async with uow(write=False) as session:
        return [f.term for f in await catalog.check_listing(session, product_id=product_id)]


async def _counts() -> tuple[int, int]:
    return await count(BannedTerm), await count(AuditEntry)


async def test_a_term_is_added_and_the_listing_checks_use_it_until_deactivated(client: AsyncClient) -> None:
    product = await make_product(title="全网最低价的T恤")
    token = await _sign_in(client)
    before = await _findings(product.id)

    added = await client.post(TERMS, data={"term": "最低价", "language": "zh", "csrf_token": token})
    listed = await client.get(TERMS, params={"notice": "added"}, headers=EN)
    found = await _findings(product.id)
    (term,) = await _terms()
    deactivated = await client.post(f"{TERMS}/{term.id}/deactivate", data={"csrf_token": token})
    after = await client.get(TERMS, headers=EN)

    assert "最低价" not in before
    assert added.status_code == 303
    assert added.headers["location"] == f"{TERMS}?notice=added"
    assert "The term was added." in listed.text
    assert '<td data-label="Term">最低价</td>' in listed.text
    assert f'action="{TERMS}/{term.id}/deactivate"' in listed.text
    assert "最低价" in found
    assert deactivated.status_code == 303
    assert deactivated.headers["location"] == f"{TERMS}?notice=deactivated"
    assert [(t.term, t.is_active) for t in await _terms()] == [("最低价", False)]
    assert "最低价" not in await _findings(product.id)
    assert '<span class="tag tag-muted">Inactive</span>' in after.text
    assert f'action="{TERMS}/{term.id}/deactivate"' not in after.text


async def test_adding_a_deactivated_term_again_reactivates_it(client: AsyncClient) -> None:
    async with uow() as session:
        term = await catalog.add_banned_term(
            session,
            data=catalog.BannedTermCreate(term="Best", language=catalog.TermLanguage.en),
            actor=SYSTEM,
        )
        await catalog.deactivate_banned_term(session, term_id=term.id, actor=SYSTEM)
    token = await _sign_in(client)

    response = await client.post(TERMS, data={"term": "BEST", "language": "en", "csrf_token": token})

    assert response.status_code == 303
    assert [(t.id, t.term, t.is_active) for t in await _terms()] == [(term.id, "best", True)]


async def test_a_refused_term_changes_nothing_and_is_escaped(client: AsyncClient) -> None:
    async with uow() as session:
        await catalog.add_banned_term(
            session, data=catalog.BannedTermCreate(term=XSS, language=catalog.TermLanguage.zh), actor=SYSTEM
        )
    token = await _sign_in(client)
    before = await _counts()

    blank = await client.post(TERMS, data={"term": " ", "language": "zh", "csrf_token": token}, headers=EN)
    bad_language = await client.post(TERMS, data={"term": "x", "language": "fr", "csrf_token": token})
    taken = await client.post(TERMS, data={"term": XSS, "language": "zh", "csrf_token": token}, headers=EN)
    missing = await client.post(f"{TERMS}/999999/deactivate", data={"csrf_token": token})

    assert blank.status_code == 422
    assert field_error_of(blank, "term-new-term") == "This field is required."
    assert bad_language.status_code == 422
    assert field_error_of(bad_language, "term-new-language") != ""
    assert taken.status_code == 409
    assert field_error_of(taken, "term-new-term") == alert_of(taken)
    assert XSS not in taken.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in taken.text
    assert missing.status_code == 404
    assert await _counts() == before


async def test_terms_need_catalog_review_to_change_and_the_csrf_token(client: AsyncClient) -> None:
    async with uow() as session:
        term = await catalog.add_banned_term(
            session, data=catalog.BannedTermCreate(term="最", language=catalog.TermLanguage.zh), actor=SYSTEM
        )
    token = await _sign_in(client, ["catalog.read", "catalog.write"])
    before = await _counts()

    page = await client.get(TERMS, headers=EN)
    add = await client.post(TERMS, data={"term": "第一", "language": "zh", "csrf_token": token})
    deactivate = await client.post(f"{TERMS}/{term.id}/deactivate", data={"csrf_token": token})
    defaults = await client.post(f"{TERMS}/defaults", data={"csrf_token": token})
    client.cookies.clear()
    await staff_sign_in(client, "nobody@example.com", "orders.read")
    no_read = await client.get(TERMS)
    after_sign_in = await _counts()
    client.cookies.clear()
    await _sign_in(client, email="reviewer@example.com")
    reviewer_before = await _counts()
    no_csrf = await client.post(TERMS, data={"term": "第一", "language": "zh", "csrf_token": "x"})

    assert page.status_code == 200
    assert 'method="post" action="/admin/catalog/banned-terms"' not in page.text
    assert 'action="/admin/catalog/banned-terms/bulk"' not in page.text
    assert [r.status_code for r in (add, deactivate, defaults, no_read, no_csrf)] == [403] * 5
    assert after_sign_in[0] == before[0]
    assert await _counts() == reviewer_before
    assert [(t.term, t.is_active) for t in await _terms()] == [("最", True)]


async def test_the_default_terms_are_loaded(client: AsyncClient) -> None:
    token = await _sign_in(client)

    response = await client.post(f"{TERMS}/defaults", data={"csrf_token": token})

    assert response.status_code == 303
    assert len(await _terms()) == len(catalog.compliance.DEFAULT_BANNED_TERMS)
