"""The province → city → district pickers (national division data), the account's name and
mobile number on a new address, and 识别 (a pasted address line read into the fields)."""

from __future__ import annotations

import re

from httpx import AsyncClient, Response
from sqlalchemy import select, update

from mercato.core.db import uow
from mercato.identity.models import Address
from tests.web.pages import EN, csrf_of, field_error_of
from tests.web.storefront.test_addresses import FORM, add, ids, rows, signed_in

PICKER = "/account/addresses/regions"


def options(page_text: str, select_id: str) -> list[str]:
    """The option values of the select ``select_id``, blank prompt excluded."""
    match = re.search(rf'<select id="{select_id}"[^>]*>(.*?)</select>', page_text, re.DOTALL)
    assert match is not None, f"no select {select_id}"
    return [v for v in re.findall(r'<option value="([^"]*)"', match.group(1)) if v]


def selected(page_text: str, select_id: str) -> str:
    match = re.search(rf'<select id="{select_id}"[^>]*>(.*?)</select>', page_text, re.DOTALL)
    assert match is not None
    chosen = re.findall(r'<option value="([^"]*)"[^>]* selected>', match.group(1))
    return chosen[0] if chosen else ""


async def test_the_pickers_cascade_from_province_to_district(client: AsyncClient) -> None:
    await signed_in(client)

    page = await client.get("/account/addresses", headers=EN)
    cities = await client.get(PICKER, params={"province": "广东省", "region_form": "address"})
    districts = await client.get(PICKER, params={"province": "广东省", "city": "深圳市"})
    moved = await client.get(PICKER, params={"province": "浙江省", "city": "深圳市", "district": "南山区"})

    assert len(options(page.text, "address-province")) == 34
    assert options(page.text, "address-city") == []
    assert "广东省" in options(page.text, "address-province")
    assert cities.status_code == 200
    assert "<html" not in cities.text
    assert (selected(cities.text, "address-province"), len(options(cities.text, "address-city"))) == (
        "广东省",
        21,
    )
    assert options(cities.text, "address-district") == []
    assert options(districts.text, "address-district")[:3] == ["罗湖区", "福田区", "南山区"]
    # Another province drops the city and district that are not in it.
    assert (selected(moved.text, "address-city"), selected(moved.text, "address-district")) == ("", "")
    assert "杭州市" in options(moved.text, "address-city")


async def test_a_municipality_has_its_city_chosen(client: AsyncClient) -> None:
    await signed_in(client)

    beijing = await client.get(PICKER, params={"province": "北京市"})
    hubei = await client.get(PICKER, params={"province": "湖北省", "city": "省直辖县"})

    assert selected(beijing.text, "address-city") == "北京市"
    assert "朝阳区" in options(beijing.text, "address-district")
    assert options(hubei.text, "address-district") == ["仙桃市", "潜江市", "天门市", "神农架林区"]


async def test_a_district_outside_the_city_shows_next_to_it_and_adds_nothing(client: AsyncClient) -> None:
    await signed_in(client)
    page = await client.get("/account/addresses", headers=EN)

    wrong = await client.post(
        "/account/addresses",
        data={**FORM, "city": "杭州市", "district": "南山区", "csrf_token": csrf_of(page)},
        headers=EN,
    )

    assert wrong.status_code == 422
    assert (
        field_error_of(wrong, "address-district") == "Choose the province, city and district from the lists."
    )
    # The page keeps what was valid: the province and city stay chosen, the district is asked again.
    assert (selected(wrong.text, "address-province"), selected(wrong.text, "address-city")) == (
        "浙江省",
        "杭州市",
    )
    assert selected(wrong.text, "address-district") == ""
    assert await rows() == []


async def test_without_script_the_form_comes_back_with_the_next_picker_filled(client: AsyncClient) -> None:
    await signed_in(client)
    page = await client.get("/account/addresses", headers=EN)

    step = await client.post(
        "/account/addresses",
        data={"recipient": "韩梅梅", "province": "湖北省", "action": "regions", "csrf_token": csrf_of(page)},
        headers=EN,
    )

    assert step.status_code == 200
    assert 'name="action" value="regions"' in step.text
    assert "武汉市" in options(step.text, "address-city")
    assert 'value="韩梅梅"' in step.text
    assert await rows() == []


async def test_a_new_address_starts_with_the_accounts_name_and_mobile(client: AsyncClient) -> None:
    await signed_in(client)  # make_customer names the account 测试
    page = await client.get("/account/addresses", headers=EN)

    assert re.search(r'id="address-recipient"[^>]* value="测试"', page.text)


async def recognised(client: AsyncClient, action: str, line: str) -> tuple[Response, list[str]]:
    """Post ``line`` to 识别 on the form at ``action``: the page and its three chosen regions."""
    await signed_in(client)
    page = await client.get("/account/addresses", headers=EN)
    parsed = await client.post(
        action, data={"action": "parse", "paste": line, "csrf_token": csrf_of(page)}, headers=EN
    )
    assert parsed.status_code == 200
    return parsed, [selected(parsed.text, f"address-{n}") for n in ("province", "city", "district")]


async def test_recognise_fills_the_fields_from_a_pasted_line(client: AsyncClient) -> None:
    parsed, regions = await recognised(
        client, "/account/addresses", "张三 13800138000 广东省深圳市南山区科技园路1号"
    )

    assert re.search(r'id="address-recipient"[^>]* value="张三"', parsed.text)
    assert re.search(r'id="address-phone"[^>]* value="13800138000"', parsed.text)
    assert regions == ["广东省", "深圳市", "南山区"]
    assert re.search(r'id="address-detail"[^>]* value="科技园路1号"', parsed.text)
    assert "check the fields below" in parsed.text
    assert await rows() == []


async def test_checkout_offers_the_pickers_and_recognise(client: AsyncClient) -> None:
    parsed, regions = await recognised(
        client, "/checkout/address", "北京市朝阳区建国路88号，李四，13900139000"
    )

    assert regions == ["北京市", "北京市", "朝阳区"]
    assert re.search(r'id="address-recipient"[^>]* value="李四"', parsed.text)
    assert "Save and continue" in parsed.text  # checkout's own address form
    assert await rows() == []


async def test_an_address_saved_before_the_pickers_is_made_default_and_asks_for_its_region_on_edit(
    client: AsyncClient,
) -> None:
    await signed_in(client)
    await add(client)
    await add(client, recipient="旧地址")
    _first, old = await ids()
    async with uow() as s:  # saved before the region list was checked
        await s.execute(update(Address).where(Address.id == old).values(city="浦东新区", district="陆家嘴"))
    book = await client.get("/account/addresses", headers=EN)

    made_default = await client.post(f"/account/addresses/{old}/default", data={"csrf_token": csrf_of(book)})
    edit = await client.get(f"/account/addresses/{old}/edit", headers=EN)
    edit_zh = await client.get(f"/account/addresses/{old}/edit", headers={"Accept-Language": "zh-CN"})
    saved_again = await client.post(
        f"/account/addresses/{old}",
        data={**FORM, "city": "浦东新区", "district": "陆家嘴", "csrf_token": csrf_of(edit)},
        headers=EN,
    )

    assert (made_default.status_code, made_default.headers["location"]) == (
        303,
        "/account/addresses?notice=default",
    )
    assert [(r[1], r[3]) for r in await rows()] == [(FORM["recipient"], False), ("旧地址", True)]
    async with uow(write=False) as s:
        kept = (await s.execute(select(Address.city, Address.district).where(Address.id == old))).one()
    assert tuple(kept) == ("浦东新区", "陆家嘴")
    assert edit.status_code == 200
    assert (
        f"The province, city or district saved with this address ({FORM['province']} 浦东新区 陆家嘴) "
        "is not in the current list: choose them again before saving."
    ) in edit.text
    assert selected(edit.text, "address-city") == ""
    assert (
        f"收货地址中的省市区（{FORM['province']} 浦东新区 陆家嘴）已不在当前列表中，请重新选择后保存。"
        in (edit_zh.text)
    )
    assert saved_again.status_code == 422
    assert (
        field_error_of(saved_again, "address-city")
        == "Choose the province, city and district from the lists."
    )


async def test_an_address_with_a_listed_region_shows_no_warning_on_edit(client: AsyncClient) -> None:
    await signed_in(client)
    await add(client)
    (only,) = await ids()

    edit = await client.get(f"/account/addresses/{only}/edit", headers=EN)

    assert edit.status_code == 200
    assert 'id="region-outdated"' not in edit.text
