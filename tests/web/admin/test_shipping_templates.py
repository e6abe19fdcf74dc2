"""Shipping templates in the console (/admin/shipping/, settings.manage): list, create and edit
with fees typed in yuan and converted exactly, rules by province, pieces or weight, free-shipping
threshold and the default flag; bad input comes back next to its field and saves nothing."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient, Response
from sqlalchemy import func, select

from mercato import pricing
from mercato.core.db import uow
from mercato.identity.models import AuditEntry
from mercato.pricing.models import ShippingTemplateRow
from tests.factories.identity import SYSTEM
from tests.web.pages import EN, alert_of, csrf_of, field_error_of, staff_sign_in

GOOD = {
    "name": "标准运费",
    "express_surcharge": "12",
    "is_default": "1",
    "rule-0-regions": "新疆维吾尔自治区、西藏自治区",
    "rule-0-basis": "weight",
    "rule-0-first_units": "1000",
    "rule-0-first_fee": "20.00",
    "rule-0-additional_units": "500",
    "rule-0-additional_fee": "5.5",
    "rule-0-free_over": "",
    "rule-1-regions": "*",
    "rule-1-basis": "pieces",
    "rule-1-first_units": "",
    "rule-1-first_fee": "8",
    "rule-1-additional_units": "",
    "rule-1-additional_fee": "2.00",
    "rule-1-free_over": "99.00",
    "rule-2-regions": "",
    "rule-2-basis": "pieces",
}


async def state() -> tuple[list[pricing.ShippingTemplateRead], int]:
    async with uow(write=False) as s:
        templates = await pricing.list_shipping_templates(s)
        audits = (
            await s.execute(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.object_type == "shipping_template")
            )
        ).scalar_one()
    return templates, audits


async def post(client: AsyncClient, action: str, data: dict[str, Any]) -> Response:
    page = await client.get("/admin/shipping/new")
    return await client.post(action, data={**data, "csrf_token": csrf_of(page)}, headers=EN)


async def test_creating_a_template_with_fees_in_yuan(client: AsyncClient) -> None:
    await staff_sign_in(client, "owner@example.com", "settings.manage")

    created = await post(client, "/admin/shipping/", GOOD)
    listed = await client.get("/admin/shipping/?notice=created", headers=EN)

    assert created.status_code == 303
    assert created.headers["location"] == "/admin/shipping/?notice=created"
    [template], audits = await state()
    assert template.name == "标准运费"
    assert template.is_default is True
    assert template.express_surcharge_amount == 1200
    assert template.rules == (
        pricing.ShippingRule(
            regions=("新疆维吾尔自治区", "西藏自治区"),
            basis=pricing.ShippingBasis.weight,
            first_units=1000,
            first_fee_amount=2000,
            additional_units=500,
            additional_fee_amount=550,
            free_over_amount=None,
        ),
        pricing.ShippingRule(
            regions=("*",), first_fee_amount=800, additional_fee_amount=200, free_over_amount=9900
        ),
    )
    assert audits == 1
    assert "The template was created." in listed.text
    assert "free over CN¥99.00" in listed.text
    assert "Everywhere else" in listed.text


async def test_editing_shows_the_amounts_in_yuan_and_saves_changes(client: AsyncClient) -> None:
    await staff_sign_in(client, "owner@example.com", "settings.manage")
    await post(client, "/admin/shipping/", GOOD)
    [template], _ = await state()

    form = await client.get(f"/admin/shipping/{template.id}/edit", headers=EN)
    saved = await client.post(
        f"/admin/shipping/{template.id}",
        data={**GOOD, "name": "新运费", "rule-1-free_over": "", "is_default": "", "csrf_token": csrf_of(form)}
        | {"is_default": "1"},
        headers=EN,
    )

    assert form.status_code == 200
    assert 'value="新疆维吾尔自治区、西藏自治区"' in form.text
    assert 'name="rule-1-free_over" type="text" value="99.00"' in form.text
    assert 'name="rule-0-additional_fee" type="text" value="5.50"' in form.text
    assert 'id="shipping-rule-3-regions"' in form.text  # two blank rows to add rules
    assert saved.status_code == 303
    [changed], audits = await state()
    assert changed.name == "新运费"
    assert changed.rules[1].free_over_amount is None
    assert audits == 2


async def test_bad_input_is_shown_next_to_the_fields_and_nothing_changes(client: AsyncClient) -> None:
    await staff_sign_in(client, "owner@example.com", "settings.manage")
    await post(client, "/admin/shipping/", GOOD)
    before = await state()
    [template], _ = before
    bad = {
        **GOOD,
        "name": "",
        "express_surcharge": "-1",
        "rule-0-first_fee": "12.345",
        "rule-0-first_units": "0",
        "rule-1-additional_fee": "abc",
        "rule-1-basis": "boxes",
    }

    created = await post(client, "/admin/shipping/", bad)
    edited = await post(client, f"/admin/shipping/{template.id}", bad)

    for page in (created, edited):
        assert page.status_code == 422
        assert alert_of(page) == "Some fields are not valid."
        assert field_error_of(page, "shipping-name") == "This field is required."
        assert field_error_of(page, "shipping-express_surcharge") == "The amount cannot be negative."
        assert (
            field_error_of(page, "shipping-rule-0-first_fee")
            == "Use at most 2 digits after the decimal point."
        )
        assert field_error_of(page, "shipping-rule-0-first_units") == "Must be at least 1."
        assert field_error_of(page, "shipping-rule-1-additional_fee") == "Enter an amount such as 12.34."
        assert 'value="12.345"' in page.text  # what was typed is shown again
    assert field_error_of(created, "shipping-rule-1-basis")
    assert await state() == before


async def test_rules_must_cover_everywhere_else_once(client: AsyncClient) -> None:
    await staff_sign_in(client, "owner@example.com", "settings.manage")

    no_star = await post(client, "/admin/shipping/", {**GOOD, "rule-1-regions": "上海市"})
    twice = await post(
        client, "/admin/shipping/", {**GOOD, "rule-0-regions": "上海市", "rule-1-regions": "上海市 *"}
    )

    for page in (no_star, twice):
        assert page.status_code == 422
        assert (
            alert_of(page) == "A template needs exactly one rule for everywhere else (*) and no region twice."
        )
        assert "shipping-rules-error" in page.text
    assert await state() == ([], 0)


async def test_a_taken_name_is_shown_next_to_the_name(client: AsyncClient) -> None:
    async with uow() as s:
        await pricing.create_shipping_template(
            s,
            data=pricing.ShippingTemplateWrite(name="标准运费", rules=[pricing.ShippingRule()]),
            actor=SYSTEM,
        )
    await staff_sign_in(client, "owner@example.com", "settings.manage")
    before = await state()

    taken = await post(client, "/admin/shipping/", GOOD)

    assert taken.status_code == 409
    assert field_error_of(taken, "shipping-name") == "A shipping template with this name already exists."
    assert await state() == before


async def test_without_settings_manage_nothing_is_shown_or_saved(client: AsyncClient) -> None:
    async with uow() as s:
        template = await pricing.create_shipping_template(
            s,
            data=pricing.ShippingTemplateWrite(name="标准运费", rules=[pricing.ShippingRule()]),
            actor=SYSTEM,
        )
    await staff_sign_in(client, "clerk@example.com", "orders.read")
    before = await state()
    token_page = await client.get("/admin/orders/", headers=EN)

    listed = await client.get("/admin/shipping/", headers=EN)
    edit = await client.get(f"/admin/shipping/{template.id}/edit", headers=EN)
    saved = await client.post(
        f"/admin/shipping/{template.id}", data={**GOOD, "csrf_token": csrf_of(token_page)}, headers=EN
    )

    assert (listed.status_code, edit.status_code, saved.status_code) == (403, 403, 403)
    assert await state() == before


async def test_an_unknown_template_is_not_found(client: AsyncClient) -> None:
    await staff_sign_in(client, "owner@example.com", "settings.manage")

    assert (await client.get("/admin/shipping/999/edit", headers=EN)).status_code == 404
    assert (await post(client, "/admin/shipping/999", GOOD)).status_code == 404
    assert await state() == ([], 0)
    assert ShippingTemplateRow.__tablename__ == "pricing_shipping_template"
