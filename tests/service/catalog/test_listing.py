"""The listing workflow: checks on submit, manual review, approval and rejection, sale status, history."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mercato import catalog
from mercato.catalog.models import BannedTerm, ListingStatusChange, Product
from mercato.core.db import uow
from mercato.core.errors import IllegalTransition
from mercato.identity.models import AuditEntry
from tests.factories.catalog import (
    REVIEWER,
    SYSTEM,
    audit_actions,
    count,
    get_product,
    load_banned_terms,
    make_category,
    make_listed_product,
    make_priced_product,
    make_product,
    outbox_names,
    set_specs,
    snapshot,
)


async def submit(product_id: int) -> catalog.ProductRead:
    async with uow() as session:
        return await catalog.submit_for_review(session, product_id=product_id, actor=SYSTEM)


async def approve(product_id: int) -> catalog.ProductRead:
    async with uow() as session:
        return await catalog.approve_listing(session, product_id=product_id, actor=REVIEWER)


async def reject(product_id: int, reason: str) -> catalog.ProductRead:
    async with uow() as session:
        return await catalog.reject_listing(
            session, product_id=product_id, data=catalog.RejectListing(reason=reason), actor=REVIEWER
        )


async def history(product_id: int) -> list[tuple[str, str, str, str]]:
    async with uow(write=False) as session:
        changes = await catalog.list_listing_history(session, product_id=product_id)
    return [(c.from_status.value, c.to_status.value, c.actor_label, c.reason) for c in changes]


async def test_banned_terms_in_chinese_and_english_refuse_the_submission_and_change_nothing() -> None:
    await load_banned_terms()
    product, _skus = await make_priced_product(
        title="全国第一的纯棉T恤",
        subtitle="Soft and comfortable",
        description_html="<p>The <b>BEST</b> tee, <i>bestseller</i> of 2026</p>",
    )
    before = await snapshot()

    with pytest.raises(catalog.ListingChecksFailed) as refused:
        await submit(product.id)

    assert refused.value.code == "catalog.listing_checks_failed"
    assert refused.value.params == {"count": 2}
    assert [(f.loc, f.code) for f in refused.value.fields] == [
        (("title", "全国第一"), "catalog.banned_term"),
        (("description_html", "best"), "catalog.banned_term"),
    ]
    assert (await get_product(product.id)).status == catalog.ListingStatus.draft
    assert await snapshot() == before


async def test_unpriced_skus_and_a_price_above_the_market_price_are_findings() -> None:
    product = await make_product()
    skus = await set_specs(product.id, {"colour": ["红色", "黑色"]})
    async with uow() as session:
        await catalog.update_sku(
            session,
            sku_id=skus[1].id,
            data=catalog.SkuUpdate(price_amount=12900, market_price_amount=9900),
            actor=SYSTEM,
        )

    with pytest.raises(catalog.ListingChecksFailed) as refused:
        await submit(product.id)

    assert [(f.loc, f.code) for f in refused.value.fields] == [
        (("skus", skus[0].id, "price_amount"), "catalog.price_not_positive"),
        (("skus", skus[1].id, "price_amount"), "catalog.price_above_market_price"),
    ]


async def test_a_product_without_active_skus_cannot_be_submitted() -> None:
    product = await make_product()

    with pytest.raises(catalog.ListingChecksFailed) as refused:
        await submit(product.id)

    assert [(f.loc, f.code) for f in refused.value.fields] == [(("skus",), "catalog.no_active_sku")]


async def test_a_clean_product_waits_for_review_with_the_reviewers_notes() -> None:
    await load_banned_terms()
    product, _skus = await make_priced_product()

    submitted = await submit(product.id)

    assert submitted.status == catalog.ListingStatus.pending_review
    async with uow(write=False) as session:
        (change,) = await catalog.list_listing_history(session, product_id=product.id)
    assert (change.from_status, change.to_status, change.actor_label) == ("draft", "pending_review", "tests")
    assert [(f.code, f.blocking) for f in change.findings] == [("catalog.no_image", False)]
    assert (await audit_actions())[-1] == "product.submit"
    assert await outbox_names() == []


async def test_a_high_risk_ancestor_sends_the_product_to_manual_review_even_with_auto_approval(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(catalog.compliance, "AUTO_APPROVE_LOW_RISK", True)
    food = await make_category("食品", is_high_risk=True)
    infant = await make_category("婴幼儿奶粉", parent_id=food.id)
    product, _skus = await make_priced_product(category_id=infant.id)

    submitted = await submit(product.id)

    assert submitted.status == catalog.ListingStatus.pending_review
    async with uow(write=False) as session:
        (change,) = await catalog.list_listing_history(session, product_id=product.id)
    assert [f.code for f in change.findings] == ["catalog.no_image", "catalog.high_risk_category"]


async def test_with_auto_approval_a_clean_low_risk_product_goes_on_sale_approved_by_compliance(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(catalog.compliance, "AUTO_APPROVE_LOW_RISK", True)
    product, _skus = await make_priced_product()

    submitted = await submit(product.id)

    assert submitted.status == catalog.ListingStatus.on_sale
    assert submitted.published_at is not None
    assert await history(product.id) == [
        ("draft", "pending_review", "tests", ""),
        ("pending_review", "on_sale", "compliance", "Passed the automatic checks in a low-risk category."),
    ]
    assert await outbox_names() == ["catalog.product_listed.v1"]


async def test_without_auto_approval_a_clean_low_risk_product_still_waits_for_review() -> None:
    assert catalog.compliance.AUTO_APPROVE_LOW_RISK is False
    product, _skus = await make_priced_product()

    assert (await submit(product.id)).status == catalog.ListingStatus.pending_review


async def test_approval_puts_the_product_on_sale_and_records_it_everywhere() -> None:
    product, _skus = await make_priced_product()
    await submit(product.id)

    approved = await approve(product.id)

    assert approved.status == catalog.ListingStatus.on_sale
    assert approved.published_at is not None
    assert await history(product.id) == [
        ("draft", "pending_review", "tests", ""),
        ("pending_review", "on_sale", "reviewer@example.com", ""),
    ]
    async with uow(write=False) as session:
        entry = (
            (await session.execute(select(AuditEntry).where(AuditEntry.action == "product.approve")))
            .scalars()
            .one()
        )
    assert (entry.actor_label, entry.object_id, entry.before, entry.after) == (
        "reviewer@example.com",
        str(product.id),
        {"status": "pending_review"},
        {"status": "on_sale"},
    )
    assert await outbox_names() == ["catalog.product_listed.v1"]


async def test_rejection_keeps_the_reason_and_the_product_can_be_resubmitted_or_edited() -> None:
    product, _skus = await make_priced_product()
    audit_before = await audit_actions()
    await submit(product.id)

    rejected = await reject(product.id, "主图与商品不符")
    resubmitted = await submit(product.id)
    await reject(product.id, "仍不符")
    async with uow() as session:
        edited = await catalog.update_product(
            session, product_id=product.id, data=catalog.ProductUpdate(subtitle="新款"), actor=SYSTEM
        )

    assert rejected.status == catalog.ListingStatus.rejected
    assert resubmitted.status == catalog.ListingStatus.pending_review
    assert edited.status == catalog.ListingStatus.draft
    assert await history(product.id) == [
        ("draft", "pending_review", "tests", ""),
        ("pending_review", "rejected", "reviewer@example.com", "主图与商品不符"),
        ("rejected", "pending_review", "tests", ""),
        ("pending_review", "rejected", "reviewer@example.com", "仍不符"),
        ("rejected", "draft", "tests", ""),
    ]
    assert (await audit_actions())[len(audit_before) :] == [
        "product.submit",
        "product.reject",
        "product.submit",
        "product.reject",
        "product.reopen",
        "product.update",
    ]


async def attempt(action: str, product_id: int) -> None:
    async with uow() as session:
        if action == "approve":
            await catalog.approve_listing(session, product_id=product_id, actor=REVIEWER)
        elif action == "reject":
            data = catalog.RejectListing(reason="x")
            await catalog.reject_listing(session, product_id=product_id, data=data, actor=REVIEWER)
        else:
            await catalog.take_off_sale(
                session, product_id=product_id, data=catalog.TakeOffSale(), actor=SYSTEM
            )


@pytest.mark.parametrize(
    ("_case", "action"),
    [
        ("approve a draft", "approve"),
        ("reject a draft", "reject"),
        ("take a draft off sale", "take_off_sale"),
    ],
)
async def test_moves_outside_the_table_are_refused_and_change_nothing(_case: str, action: str) -> None:
    product, _skus = await make_priced_product()
    before = await snapshot()

    with pytest.raises(IllegalTransition) as refused:
        await attempt(action, product.id)

    assert refused.value.code == "catalog.illegal_transition"
    assert refused.value.params["current"] == "draft"
    assert await snapshot() == before


async def test_off_sale_and_back_on_sale_emit_events_and_rerun_the_checks() -> None:
    product = await make_listed_product()

    async with uow() as session:
        off = await catalog.take_off_sale(
            session, product_id=product.id, data=catalog.TakeOffSale(reason="断货"), actor=SYSTEM
        )
    async with uow() as session:
        await catalog.add_banned_term(
            session, data=catalog.BannedTermCreate(term="T恤", language=catalog.TermLanguage.zh), actor=SYSTEM
        )
    before = await snapshot()
    with pytest.raises(catalog.ListingChecksFailed):
        async with uow() as session:
            await catalog.put_on_sale(session, product_id=product.id, actor=SYSTEM)
    assert await snapshot() == before
    async with uow() as session:
        term = (await catalog.list_banned_terms(session))[0]
        await catalog.deactivate_banned_term(session, term_id=term.id, actor=SYSTEM)
    async with uow() as session:
        back = await catalog.put_on_sale(session, product_id=product.id, actor=SYSTEM)

    assert (off.status, back.status) == (catalog.ListingStatus.off_sale, catalog.ListingStatus.on_sale)
    assert await outbox_names() == [
        "catalog.product_listed.v1",
        "catalog.product_delisted.v1",
        "catalog.product_listed.v1",
    ]
    assert (await history(product.id))[-2:] == [
        ("on_sale", "off_sale", "tests", "断货"),
        ("off_sale", "on_sale", "tests", ""),
    ]


async def test_a_product_on_sale_or_in_review_cannot_be_edited() -> None:
    listed = await make_listed_product()
    waiting, _skus = await make_priced_product()
    await submit(waiting.id)

    for product in (listed, waiting):
        with pytest.raises(catalog.ProductNotEditable):
            async with uow() as session:
                await catalog.update_product(
                    session, product_id=product.id, data=catalog.ProductUpdate(title="改名"), actor=SYSTEM
                )


async def test_the_review_queue_lists_the_longest_waiting_first_with_risk_and_findings() -> None:
    risky = await make_category("保健食品", is_high_risk=True)
    first, _ = await make_priced_product(title="第一个提交")
    second, _ = await make_priced_product(title="二号", category_id=risky.id)
    third, _ = await make_priced_product(title="三号")
    for product in (first, second, third):
        await submit(product.id)
    await approve(third.id)
    await reject(first.id, "图片模糊")
    await submit(first.id)  # resubmitted: now the newest in the queue

    async with uow(write=False) as session:
        page_one = await catalog.list_review_queue(session, limit=1)
        page_two = await catalog.list_review_queue(session, cursor=page_one.next_cursor, limit=1)

    assert [(i.product.id, i.is_high_risk, i.category_names) for i in page_one.items] == [
        (second.id, True, ["保健食品"])
    ]
    assert [f.code for f in page_one.items[0].findings] == ["catalog.no_image", "catalog.high_risk_category"]
    assert [(i.product.id, i.is_high_risk, i.submitted_by) for i in page_two.items] == [
        (first.id, False, "tests")
    ]
    assert page_two.next_cursor is None


async def test_the_default_dictionary_loads_once_and_deactivated_terms_are_not_checked() -> None:
    await load_banned_terms()
    await load_banned_terms()
    async with uow(write=False) as session:
        terms = {t.term: t for t in await catalog.list_banned_terms(session)}
    product, _skus = await make_priced_product(title="极品纯棉T恤")

    async with uow() as session:
        await catalog.deactivate_banned_term(session, term_id=terms["极品"].id, actor=SYSTEM)
    submitted = await submit(product.id)

    assert len(terms) == 40
    assert {"最", "国家级", "100%", "best", "no.1", "the only"} <= set(terms)
    assert submitted.status == catalog.ListingStatus.pending_review
    assert await count(BannedTerm, BannedTerm.is_active.is_(False)) == 1


async def test_adding_an_existing_term_is_refused_but_a_deactivated_one_comes_back() -> None:
    async with uow() as session:
        term = await catalog.add_banned_term(
            session,
            data=catalog.BannedTermCreate(term="Ｍｉｒａｃｌｅ", language=catalog.TermLanguage.en),
            actor=SYSTEM,
        )
    with pytest.raises(catalog.BannedTermExists):
        async with uow() as session:
            await catalog.add_banned_term(
                session,
                data=catalog.BannedTermCreate(term="miracle", language=catalog.TermLanguage.en),
                actor=SYSTEM,
            )
    async with uow() as session:
        await catalog.deactivate_banned_term(session, term_id=term.id, actor=SYSTEM)
    async with uow() as session:
        again = await catalog.add_banned_term(
            session,
            data=catalog.BannedTermCreate(term="MIRACLE", language=catalog.TermLanguage.en),
            actor=SYSTEM,
        )

    assert (term.term, again.id, again.is_active) == ("miracle", term.id, True)
    assert await count(BannedTerm) == 1


async def test_status_changes_only_happen_through_the_listing_actions() -> None:
    product, _ = await make_priced_product()
    await submit(product.id)
    await approve(product.id)

    async with uow(write=False) as session:
        changes = (await session.execute(select(ListingStatusChange.to_status))).scalars().all()
        status = (await session.execute(select(Product.status))).scalar_one()

    assert changes == ["pending_review", "on_sale"]
    assert status == "on_sale"


async def test_count_review_queue_counts_the_products_waiting_for_review() -> None:
    waiting, _skus = await make_priced_product()
    draft, _draft_skus = await make_priced_product()
    async with uow() as s:
        await catalog.submit_for_review(s, product_id=waiting.id, actor=SYSTEM)

    async with uow(write=False) as s:
        count = await catalog.count_review_queue(s)
        queue = await catalog.list_review_queue(s)

    assert count == 1
    assert [item.product.id for item in queue.items] == [waiting.id]
    assert draft.id != waiting.id
