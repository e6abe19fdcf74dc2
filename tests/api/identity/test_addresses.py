"""Addresses: at most 20, one default, and only ever the owner's."""

from __future__ import annotations

from httpx import AsyncClient
from sqlalchemy import func, select

from mercato.core.db import uow
from mercato.identity.models import Address
from tests.factories.identity import signed_in_customer

ADDRESS = {
    "recipient": "韩梅梅",
    "phone": "13912345678",
    "province": "广东省",
    "city": "深圳市",
    "district": "南山区",
    "detail": "科技园南区 1 栋 101",
    "postal_code": "518057",
}


async def _count() -> int:
    async with uow(write=False) as s:
        return (await s.execute(select(func.count()).select_from(Address))).scalar_one()


async def test_first_address_becomes_default_and_a_new_default_replaces_it(client: AsyncClient) -> None:
    _customer, headers = await signed_in_customer(client)

    first = await client.post("/api/v1/me/addresses", headers=headers, json=ADDRESS)
    second = await client.post(
        "/api/v1/me/addresses", headers=headers, json={**ADDRESS, "detail": "二号楼", "is_default": True}
    )
    listed = await client.get("/api/v1/me/addresses", headers=headers)

    assert first.status_code == second.status_code == 201
    assert first.json()["phone"] == "+8613912345678"
    assert [(a["detail"], a["is_default"]) for a in listed.json()] == [
        ("二号楼", True),
        ("科技园南区 1 栋 101", False),
    ]


async def test_deleting_the_default_promotes_the_newest(client: AsyncClient) -> None:
    _customer, headers = await signed_in_customer(client)
    ids = [
        (
            await client.post("/api/v1/me/addresses", headers=headers, json={**ADDRESS, "detail": f"{n} 号"})
        ).json()["id"]
        for n in range(3)
    ]

    response = await client.delete(f"/api/v1/me/addresses/{ids[0]}", headers=headers)
    listed = (await client.get("/api/v1/me/addresses", headers=headers)).json()

    assert response.status_code == 204
    assert [(a["id"], a["is_default"]) for a in listed] == [(ids[2], True), (ids[1], False)]


async def test_update_replaces_fields(client: AsyncClient) -> None:
    _customer, headers = await signed_in_customer(client)
    created = (await client.post("/api/v1/me/addresses", headers=headers, json=ADDRESS)).json()

    response = await client.put(
        f"/api/v1/me/addresses/{created['id']}",
        headers=headers,
        json={**ADDRESS, "recipient": "李华", "city": "广州市", "district": "天河区"},
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["recipient"], body["city"], body["district"], body["is_default"]) == (
        "李华",
        "广州市",
        "天河区",
        True,
    )


async def test_refuses_the_twenty_first_address(client: AsyncClient) -> None:
    _customer, headers = await signed_in_customer(client)
    for n in range(20):
        assert (
            await client.post("/api/v1/me/addresses", headers=headers, json={**ADDRESS, "detail": f"{n}"})
        ).status_code == 201

    response = await client.post("/api/v1/me/addresses", headers=headers, json=ADDRESS)

    assert response.status_code == 409
    assert response.json()["code"] == "identity.address_limit_reached"
    assert await _count() == 20


async def test_another_customers_address_is_not_found_and_untouched(client: AsyncClient) -> None:
    _owner, owner_headers = await signed_in_customer(client)
    _intruder, intruder_headers = await signed_in_customer(client)
    address_id = (await client.post("/api/v1/me/addresses", headers=owner_headers, json=ADDRESS)).json()["id"]

    read = await client.get(f"/api/v1/me/addresses/{address_id}", headers=intruder_headers)
    write = await client.put(
        f"/api/v1/me/addresses/{address_id}", headers=intruder_headers, json={**ADDRESS, "detail": "x"}
    )
    delete = await client.delete(f"/api/v1/me/addresses/{address_id}", headers=intruder_headers)

    assert [r.status_code for r in (read, write, delete)] == [404, 404, 404]
    assert {r.json()["code"] for r in (read, write, delete)} == {"identity.address_not_found"}
    owner_view = await client.get(f"/api/v1/me/addresses/{address_id}", headers=owner_headers)
    assert owner_view.json()["detail"] == ADDRESS["detail"]
    assert (await client.get("/api/v1/me/addresses", headers=intruder_headers)).json() == []


async def test_refuses_an_invalid_recipient_phone(client: AsyncClient) -> None:
    _customer, headers = await signed_in_customer(client)

    response = await client.post(
        "/api/v1/me/addresses", headers=headers, json={**ADDRESS, "phone": "010-1234"}
    )

    assert response.status_code == 422
    assert response.json()["code"] == "identity.phone_invalid"
    assert await _count() == 0


async def test_refuses_a_district_outside_the_city_and_a_city_outside_the_province(
    client: AsyncClient,
) -> None:
    _customer, headers = await signed_in_customer(client)

    district = await client.post(
        "/api/v1/me/addresses", headers=headers, json={**ADDRESS, "city": "广州市", "district": "南山区"}
    )
    city = await client.post("/api/v1/me/addresses", headers=headers, json={**ADDRESS, "city": "杭州市"})
    province = await client.post(
        "/api/v1/me/addresses", headers=headers, json={**ADDRESS, "province": "广东"}
    )

    assert [r.status_code for r in (district, city, province)] == [422, 422, 422]
    assert {r.json()["code"] for r in (district, city, province)} == {"identity.region_invalid"}
    assert [r.json()["errors"][0]["loc"] for r in (district, city, province)] == [
        ["body", "district"],
        ["body", "city"],
        ["body", "province"],
    ]
    assert await _count() == 0


async def test_an_update_to_a_wrong_region_changes_nothing(client: AsyncClient) -> None:
    _customer, headers = await signed_in_customer(client)
    created = (await client.post("/api/v1/me/addresses", headers=headers, json=ADDRESS)).json()

    response = await client.put(
        f"/api/v1/me/addresses/{created['id']}", headers=headers, json={**ADDRESS, "district": "西湖区"}
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "district"]
    kept = (await client.get(f"/api/v1/me/addresses/{created['id']}", headers=headers)).json()
    assert (kept["city"], kept["district"], kept["updated_at"]) == ("深圳市", "南山区", created["updated_at"])


async def test_municipalities_and_county_level_cities_are_addresses(client: AsyncClient) -> None:
    _customer, headers = await signed_in_customer(client)
    places = [("北京市", "北京市", "朝阳区"), ("重庆市", "县", "城口县"), ("湖北省", "省直辖县", "仙桃市")]

    responses = [
        await client.post(
            "/api/v1/me/addresses",
            headers=headers,
            json={**ADDRESS, "province": p, "city": c, "district": d},
        )
        for p, c, d in places
    ]

    assert [r.status_code for r in responses] == [201, 201, 201]
    listed = (await client.get("/api/v1/me/addresses", headers=headers)).json()
    assert sorted((a["province"], a["city"], a["district"]) for a in listed) == sorted(places)
