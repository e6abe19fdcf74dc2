"""Shop settings: the environment's defaults until the first save, every save a whole row with a
new version and a change to audit, and the rules other domains read take effect on what comes
next (the next order's pay window, the next after-sales request's window, the next consent)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from mercato import aftersales, payments, shop
from mercato.core import clock
from mercato.core.db import uow
from mercato.core.errors import DomainError
from mercato.identity.models import Consent
from mercato.payments.models import Payment
from mercato.shop.models import LegalPage, ShopSettings
from tests.factories.checkout import open_shop
from tests.factories.identity import make_customer
from tests.factories.orders import place
from tests.service.aftersales.support import days, delivered_order, request_for

RULES = shop.OrderRulesWrite(order_pay_minutes=30, order_auto_complete_days=7, aftersales_window_days=7)


async def set_rules(**rules: int) -> shop.ShopChange:
    async with uow() as session:
        return await shop.update_order_rules(session, data=RULES.model_copy(update=rules))


async def current() -> shop.ShopSettingsRead:
    async with uow(write=False) as session:
        return await shop.get_settings(session)


async def test_before_the_first_save_the_environment_gives_every_value() -> None:
    settings = await current()

    assert (settings.name, settings.version, settings.updated_at) == ("Mercato", 0, None)
    assert (
        settings.order_pay_minutes,
        settings.order_auto_complete_days,
        settings.aftersales_window_days,
    ) == (
        30,
        7,
        7,
    )
    assert (settings.timezone, settings.currency, settings.enabled_locales) == (
        "Asia/Shanghai",
        "CNY",
        ["zh_CN", "en"],
    )
    assert settings.privacy_policy_version == "2026-11-01"


async def test_a_save_stores_the_row_moves_the_version_on_and_reports_before_and_after() -> None:
    first = await set_rules(order_pay_minutes=15)
    second = await set_rules(order_pay_minutes=45, aftersales_window_days=15)
    settings = await current()

    assert first.audit() == {
        "action": "shop.order_rules_update",
        "object_type": "shop",
        "object_id": "settings",
        "before": {"order_pay_minutes": 30, "order_auto_complete_days": 7, "aftersales_window_days": 7},
        "after": {"order_pay_minutes": 15, "order_auto_complete_days": 7, "aftersales_window_days": 7},
    }
    assert (second.before, second.after) == (
        {"order_pay_minutes": 15, "order_auto_complete_days": 7, "aftersales_window_days": 7},
        {"order_pay_minutes": 45, "order_auto_complete_days": 7, "aftersales_window_days": 15},
    )
    assert (settings.order_pay_minutes, settings.aftersales_window_days, settings.version) == (45, 15, 2)
    assert settings.name == "Mercato"  # the other sections keep the environment's values


async def test_a_changed_pay_window_applies_to_the_next_order() -> None:
    customer = await make_customer()
    red, _black = await open_shop(stock=5)
    before = await place(customer.id, (red, 1))

    await set_rules(order_pay_minutes=5)
    after = await place(customer.id, (red, 1))

    assert before.pay_by - before.placed_at == dt.timedelta(minutes=30)
    assert after.pay_by - after.placed_at == dt.timedelta(minutes=5)


@pytest.mark.usefixtures("handlers")
async def test_a_changed_return_window_applies_to_the_next_request() -> None:
    bought = await delivered_order(units=2)
    clock.advance(days(7) + days(1 / 24 / 60))  # 7 days and a minute after delivery
    async with uow() as session:
        with pytest.raises(aftersales.WindowClosed):
            await aftersales.create_request(session, customer_id=bought.customer_id, data=request_for(bought))

    await set_rules(aftersales_window_days=10)
    async with uow() as session:
        opened = await aftersales.create_request(
            session, customer_id=bought.customer_id, data=request_for(bought)
        )

    assert opened.status is aftersales.AftersalesStatus.requested


async def test_a_bad_locale_choice_is_refused_and_nothing_is_stored() -> None:
    data = shop.LocaleWrite(timezone="Europe/Paris", default_locale="en", enabled_locales=["zh_CN"])

    async with uow() as session:
        with pytest.raises(shop.DefaultLocaleNotEnabled) as refused:
            await shop.update_locale(session, data=data)

    assert [(f.loc, f.code) for f in refused.value.fields] == [
        (("body", "default_locale"), "shop.default_locale_not_enabled")
    ]
    async with uow(write=False) as session:
        assert await session.scalar(select(func.count()).select_from(ShopSettings)) == 0


@pytest.mark.parametrize(
    ("_case", "fields"),
    [
        ("unknown zone", {"timezone": "Mars/Olympus"}),
        ("no language", {"enabled_locales": []}),
        ("unknown language", {"default_locale": "fr"}),
    ],
)
def test_locale_input_is_checked(_case: str, fields: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="validation error"):
        shop.LocaleWrite.model_validate(
            {"timezone": "Asia/Shanghai", "default_locale": "zh_CN", "enabled_locales": ["zh_CN"], **fields}
        )


async def test_each_publication_of_a_legal_page_is_a_new_version_and_consent_names_the_newest() -> None:
    async with uow() as session:
        first, change = await shop.publish_legal_page(
            session, kind=shop.LegalKind.privacy, data=shop.LegalPageWrite(body="第一版"), author="owner"
        )
        same, unchanged = await shop.publish_legal_page(
            session, kind=shop.LegalKind.privacy, data=shop.LegalPageWrite(body="第一版"), author="owner"
        )
        second, _ = await shop.publish_legal_page(
            session,
            kind=shop.LegalKind.privacy,
            data=shop.LegalPageWrite(body="第二版", body_en="Second"),
            author="owner",
        )
    customer = await make_customer()
    today = clock.now().astimezone(dt.timezone(dt.timedelta(hours=8))).date().isoformat()

    async with uow(write=False) as session:
        consents = list(
            (
                await session.scalars(
                    select(Consent.policy_version).where(Consent.customer_id == customer.id)
                )
            ).all()
        )
        versions = await session.scalar(select(func.count()).select_from(LegalPage))
    assert (first.version, same.version, second.version, versions) == (1, 1, 2, 2)
    assert (change.action, change.after, unchanged.action) == (
        "shop.legal_publish",
        {"version": 1, "body": "第一版", "body_en": ""},
        "",
    )
    assert consents == [f"{today}.2"]
    assert (await current()).privacy_policy_version == f"{today}.2"


def test_a_legal_text_becomes_headings_paragraphs_and_lists() -> None:
    blocks = shop.legal_blocks("# 标题\n第一行\n第二行\n\n- 一\n- 二\n正文 <b>")

    assert [(b.kind, b.text, b.items) for b in blocks] == [
        ("heading", "标题", []),
        ("paragraph", "第一行\n第二行", []),
        ("list", "", ["一", "二"]),
        ("paragraph", "正文 <b>", []),
    ]


async def test_a_switched_off_payment_method_is_refused_and_creates_nothing() -> None:
    async with uow() as session:
        await shop.update_payment_methods(session, data=shop.PaymentMethodsWrite(switched_on=["alipay"]))

    async with uow() as session:
        with pytest.raises(DomainError) as refused:
            await payments.create_payment(
                session,
                reference="order:1",
                customer_id=None,
                amount=100,
                currency="CNY",
                provider="sandbox",
                expires_in=dt.timedelta(minutes=30),
            )

    assert (type(refused.value), refused.value.code) == (
        payments.UnknownProvider,
        "payments.unknown_provider",
    )
    async with uow(write=False) as session:
        assert await session.scalar(select(func.count()).select_from(Payment)) == 0
        listed = shop.list_payment_methods(await shop.get_settings(session))
    assert [(m.name, m.configured, m.switched_on, m.missing[:1]) for m in listed] == [
        ("sandbox", True, False, []),
        ("alipay", False, True, ["MERCATO_PAYMENT_PROVIDERS"]),
        ("wechatpay", False, False, ["MERCATO_PAYMENT_PROVIDERS"]),
        ("stripe", False, False, ["MERCATO_PAYMENT_PROVIDERS"]),
    ]


async def test_the_cached_copy_is_forgotten_when_a_change_commits() -> None:
    before = await shop.cached_settings()
    await set_rules(order_pay_minutes=12)
    after = await shop.cached_settings()

    assert (before.order_pay_minutes, after.order_pay_minutes) == (30, 12)
