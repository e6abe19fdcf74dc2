"""The listing review queue (``catalog.review``): products waiting for review, longest waiting
first, with the compliance findings highlighted in their texts, and approve / reject with a reason.

The findings shown are the automatic checks run again when the page is read (``check_listing``):
the banned-term dictionary may have grown since the product was submitted.

The banned terms are marked by splitting the text into parts (escaped by the template) and
wrapping the terms' parts in ``<mark>``; user text never goes through ``|safe``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from starlette.responses import RedirectResponse, Response

from mercato import catalog, inventory
from mercato.admin.routes._shared import next_page, notice_of, problem_of, signed_in, staff_for, to_login
from mercato.admin.routes.catalog_common import LISTING_FIELDS
from mercato.core.db import uow
from mercato.web.forms import FORM_ERRORS, read_form, validate
from mercato.web.session import StaffSession
from mercato.web.templates import render

router = APIRouter(prefix="/admin/catalog", include_in_schema=False)

QUEUE = "/admin/catalog/review"
QUEUE_PAGE = "admin/catalog/review.html"
PAGE_SIZE = 20
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
NOTICES = frozenset({"approved", "rejected"})
#: The texts a reviewer reads, with the finding field that points at each.
TEXT_FIELDS = ("title", "title_en", "subtitle", "description_html")


def _pattern(term: str) -> re.Pattern[str]:
    """Where ``term`` occurs in a text: case-insensitively; English words as whole words."""
    escaped = r"\s+".join(re.escape(word) for word in term.split()) or re.escape(term)
    if term.isascii():
        return re.compile(r"(?<![A-Za-z0-9])" + escaped + r"(?![A-Za-z0-9])", re.IGNORECASE)
    return re.compile(escaped, re.IGNORECASE)


def mark_terms(text: str, terms: list[str]) -> list[tuple[str, bool]]:
    """``text`` split into ``(part, is_term)`` pairs, longest terms first where matches overlap."""
    spans: list[tuple[int, int]] = []
    for term in sorted(set(terms), key=len, reverse=True):
        if not term.strip():
            continue
        for match in _pattern(term).finditer(text):
            start, end = match.span()
            if end > start and all(end <= s or start >= e for s, e in spans):
                spans.append((start, end))
    parts: list[tuple[str, bool]] = []
    position = 0
    for start, end in sorted(spans):
        if start > position:
            parts.append((text[position:start], False))
        parts.append((text[start:end], True))
        position = end
    if position < len(text):
        parts.append((text[position:], False))
    return parts


def _marked_texts(
    item: catalog.ReviewQueueItem, findings: list[catalog.ListingFinding]
) -> dict[str, list[tuple[str, bool]]]:
    product = item.product
    texts = {
        "title": product.title,
        "title_en": product.title_en,
        "subtitle": product.subtitle,
        "description_html": catalog.compliance.description_text(product.description_html),
    }
    marked: dict[str, list[tuple[str, bool]]] = {}
    for name in TEXT_FIELDS:
        terms = [f.term for f in findings if f.field == name and f.term]
        marked[name] = mark_terms(texts[name], terms)
    return marked


async def _queue(request: Request, auth: StaffSession, status_code: int = 200, **context: Any) -> Response:
    cursor = request.query_params.get("cursor") or None
    async with uow(write=False) as session:
        page = await catalog.list_review_queue(session, cursor=cursor, limit=PAGE_SIZE)
        # The checks run again: the dictionary may have grown since the submission.
        checked = {
            item.product.id: await catalog.check_listing(session, product_id=item.product.id)
            for item in page.items
        }
        # A listing whose active SKUs have no units to sell passes review unnoticed otherwise.
        in_stock = {
            item.product.id: await inventory.has_sellable_stock(
                session,
                sku_ids=[
                    sku.id
                    for sku in await catalog.list_skus(session, product_id=item.product.id)
                    if sku.status == catalog.SkuStatus.active
                ],
            )
            for item in page.items
        }
    return render(
        request,
        QUEUE_PAGE,
        status_code,
        staff=auth.staff,
        items=[
            (
                item,
                checked[item.product.id],
                _marked_texts(item, checked[item.product.id]),
                in_stock[item.product.id],
            )
            for item in page.items
        ],
        next_url=next_page(QUEUE, {}, page.next_cursor),
        notice=notice_of(request, NOTICES),
        field_names=LISTING_FIELDS,
        **context,
    )


@router.get("/review")
async def review_queue(request: Request) -> Response:
    auth = await signed_in(request, "catalog.review")
    if auth is None:
        return to_login(request)
    return await _queue(request, auth)


@router.post("/review/{product_id}/approve")
async def approve(request: Request, product_id: Id) -> Response:
    await read_form(request)
    try:
        async with uow() as session:
            auth = await staff_for(request, session, "catalog.review")
            if auth is None:
                return to_login(request)
            await catalog.approve_listing(session, product_id=product_id, actor=auth.actor)
    except FORM_ERRORS as exc:
        return await _refused(request, product_id, exc, {})
    return RedirectResponse(f"{QUEUE}?notice=approved", status_code=303)


@router.post("/review/{product_id}/reject")
async def reject(request: Request, product_id: Id) -> Response:
    values = await read_form(request)
    try:
        async with uow() as session:
            auth = await staff_for(request, session, "catalog.review")
            if auth is None:
                return to_login(request)
            data = validate(catalog.RejectListing, values, "reason")
            await catalog.reject_listing(session, product_id=product_id, data=data, actor=auth.actor)
    except FORM_ERRORS as exc:
        return await _refused(request, product_id, exc, values)
    return RedirectResponse(f"{QUEUE}?notice=rejected", status_code=303)


async def _refused(request: Request, product_id: int, exc: Exception, values: dict[str, str]) -> Response:
    if isinstance(exc, catalog.ProductNotFound):
        raise exc
    problem = problem_of(request, exc)
    auth = await signed_in(request, "catalog.review")
    if auth is None:
        return to_login(request)
    return await _queue(
        request, auth, problem.status, problem=problem, problem_product_id=product_id, values=values
    )
