"""The console's banner pages: catalog.read to view, content.write to change; uploads proved,
links kept inside the shop, errors next to the fields, refusals change nothing."""

from __future__ import annotations

import re

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import select

from mercato import content
from mercato.content.models import Banner
from mercato.core.db import uow
from mercato.identity.models import AuditEntry
from tests.factories.identity import SYSTEM
from tests.factories.media import decoded, image_bytes, stored_files
from tests.web.pages import EN, csrf_of, staff_sign_in

BANNERS = "/admin/content/banners"
FORM = {"title": "双十二", "link": "/c/phones", "position": "1", "is_enabled": "1"}


@pytest.fixture(autouse=True)
def _fresh_media(empty_media: None) -> None:
    """Every test here starts with no stored file (see ``empty_media`` in tests/conftest.py)."""


async def banner(title: str = "已有横幅", **fields: object) -> content.BannerRead:
    async with uow() as session:
        return await content.create_banner(
            session,
            data=content.BannerWrite.model_validate({"title": title, "link": "/", **fields}),
            image=decoded(image_bytes("PNG", (900, 300)), thumbnail=False),
            actor=SYSTEM,
        )


async def state() -> tuple[list[tuple[str, str, bool]], list[str]]:
    """Every banner (title, link, switched on) and every audit action: what a refusal must leave."""
    async with uow(write=False) as session:
        rows = (
            await session.execute(select(Banner.title, Banner.link, Banner.is_enabled).order_by(Banner.id))
        ).all()
        actions = list(
            (
                await session.execute(
                    select(AuditEntry.action)
                    .where(AuditEntry.object_type == "banner")
                    .order_by(AuditEntry.id)
                )
            ).scalars()
        )
    return [tuple(row) for row in rows], actions  # type: ignore[misc]


def form_token(page: Response) -> str:
    """The CSRF token inside the banner form itself (not the sign-out form's)."""
    match = re.search(
        r'enctype="multipart/form-data".*?name="csrf_token" value="([^"]+)"', page.text, re.DOTALL
    )
    assert match is not None, "the banner form has no CSRF token"
    return match.group(1)


async def upload(client: AsyncClient, action: str, data: dict[str, str], image: bytes | None) -> Response:
    page = await client.get(f"{BANNERS}/new")
    files = {"image": ("banner.png", image, "image/png")} if image is not None else None
    return await client.post(action, data={**data, "csrf_token": form_token(page)}, files=files, headers=EN)


def field_error(page: Response, name: str) -> str:
    match = re.search(rf'<p class="field-error" id="banner-{name}-error">([^<]*)</p>', page.text)
    assert match is not None, f"no error next to {name}"
    return match.group(1)


async def test_the_list_needs_a_signed_in_staff_member(client: AsyncClient) -> None:
    response = await client.get(BANNERS)

    assert response.status_code == 303
    assert response.headers["location"].startswith("/admin/login?next=")


async def test_catalog_read_sees_the_banners_but_no_write_controls(client: AsyncClient) -> None:
    await banner("<script>alert(1)</script>")
    await staff_sign_in(client, "editor@example.com", "catalog.read")

    page = await client.get(BANNERS, headers=EN)

    assert page.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<script>alert(1)</script>" not in page.text
    assert '<span class="tag banner-status-live">' in page.text
    assert "New banner" not in page.text
    assert "/delete" not in page.text
    assert '<a href="/admin/content/banners" aria-current="page">Banners</a>' in page.text


async def test_without_catalog_read_the_list_is_refused(client: AsyncClient) -> None:
    await staff_sign_in(client, "editor@example.com", "orders.read")

    page = await client.get(BANNERS, headers=EN)

    assert page.status_code == 403
    assert "Access denied" in page.text


async def test_an_editor_creates_a_banner_with_an_image(client: AsyncClient) -> None:
    await staff_sign_in(client, "editor@example.com", "catalog.read", "content.write")

    response = await upload(client, BANNERS, {**FORM, "active_from": "2026-12-12T00:00"}, image_bytes("PNG"))

    assert response.status_code == 303
    assert response.headers["location"] == f"{BANNERS}?notice=created"
    listed = await client.get(response.headers["location"], headers=EN)
    assert "The banner was created." in listed.text
    assert '<span class="tag banner-status-scheduled">' in listed.text
    assert await state() == ([("双十二", "/c/phones", True)], ["banner.create"])
    assert len(stored_files()) == 1


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({**FORM, "link": "https://evil.example/"}, "link", "The value is not valid."),
        ({**FORM, "title": ""}, "title", "This field is required."),
        ({**FORM, "position": "-1"}, "position", "Must be at least 0."),
        (
            {**FORM, "active_from": "2026-12-12T10:00", "active_until": "2026-12-12T09:00"},
            "active_until",
            "The value is not valid.",
        ),
    ],
)
async def test_bad_input_shows_the_error_next_to_the_field_and_creates_nothing(
    client: AsyncClient, data: dict[str, str], field: str, message: str
) -> None:
    await staff_sign_in(client, "editor@example.com", "catalog.read", "content.write")

    page = await upload(client, BANNERS, data, image_bytes("PNG"))

    assert page.status_code == 422
    assert field_error(page, field) == message
    assert await state() == ([], [])
    assert stored_files() == []


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (None, "Choose an image for the banner."),
        (b"not an image", "The file is not a valid JPEG, PNG or WebP image."),
    ],
)
async def test_a_missing_or_bad_image_shows_next_to_the_image_field(
    client: AsyncClient, image: bytes | None, message: str
) -> None:
    await staff_sign_in(client, "editor@example.com", "catalog.read", "content.write")

    page = await upload(client, BANNERS, FORM, image)

    assert page.status_code == 422
    assert field_error(page, "image") == message
    assert 'value="双十二"' in page.text  # what was typed is kept
    assert await state() == ([], [])
    assert stored_files() == []


async def test_without_content_write_every_change_is_refused(client: AsyncClient) -> None:
    existing = await banner()
    before = await state()
    await staff_sign_in(client, "editor@example.com", "catalog.read")
    token = csrf_of(await client.get(BANNERS))

    responses = [
        await client.get(f"{BANNERS}/new"),
        await client.get(f"{BANNERS}/{existing.id}/edit"),
        await client.post(BANNERS, data={**FORM, "csrf_token": token}),
        await client.post(f"{BANNERS}/{existing.id}", data={**FORM, "csrf_token": token}),
        await client.post(f"{BANNERS}/{existing.id}/disable", data={"csrf_token": token}),
        await client.post(f"{BANNERS}/{existing.id}/delete", data={"csrf_token": token}),
    ]

    assert [r.status_code for r in responses] == [403] * 6
    assert await state() == before


async def test_a_post_without_the_csrf_token_is_refused(client: AsyncClient) -> None:
    existing = await banner()
    before = await state()
    await staff_sign_in(client, "editor@example.com", "catalog.read", "content.write")

    response = await client.post(f"{BANNERS}/{existing.id}/delete", data={})

    assert response.status_code == 403
    assert await state() == before


async def test_an_editor_edits_switches_off_and_on_and_deletes(client: AsyncClient) -> None:
    existing = await banner()
    await staff_sign_in(client, "editor@example.com", "catalog.read", "content.write")

    edit = await client.get(f"{BANNERS}/{existing.id}/edit", headers=EN)
    saved = await client.post(
        f"{BANNERS}/{existing.id}",
        data={**FORM, "title": "新标题", "link": "/c/shoes", "csrf_token": form_token(edit)},
    )
    token = csrf_of(edit)
    off = await client.post(f"{BANNERS}/{existing.id}/disable", data={"csrf_token": token})
    after_off = await state()
    on = await client.post(f"{BANNERS}/{existing.id}/enable", data={"csrf_token": token})
    deleted = await client.post(
        f"{BANNERS}/{existing.id}/delete", data={"csrf_token": token, "confirmed": "1"}
    )

    assert edit.status_code == 200
    assert 'value="已有横幅"' in edit.text
    assert [r.headers["location"] for r in (saved, off, on, deleted)] == [
        f"{BANNERS}?notice=updated",
        f"{BANNERS}?notice=disabled",
        f"{BANNERS}?notice=enabled",
        f"{BANNERS}?notice=deleted",
    ]
    assert after_off[0] == [("新标题", "/c/shoes", False)]
    assert await state() == (
        [],
        ["banner.create", "banner.update", "banner.disable", "banner.enable", "banner.delete"],
    )
    assert stored_files() == []


async def test_a_delete_asks_in_a_dialog_and_without_script_on_the_confirm_page_first(
    client: AsyncClient,
) -> None:
    existing = await banner()
    await staff_sign_in(client, "editor@example.com", "catalog.read", "content.write")
    page = await client.get(BANNERS, headers=EN)
    token = csrf_of(page)
    before = await state()

    asked = await client.post(f"{BANNERS}/{existing.id}/delete", data={"csrf_token": token}, headers=EN)
    after_asking = await state()
    confirmed = await client.post(
        f"{BANNERS}/{existing.id}/delete", data={"csrf_token": csrf_of(asked), "confirmed": "1"}
    )

    question = "Delete this banner? It leaves the home page and its image is removed."
    assert 'x-data="confirmDialog"' in page.text
    assert f'<dialog class="confirm" id="banner-delete-{existing.id}"' in page.text
    assert f'<p id="banner-delete-{existing.id}-question">{question}</p>' in page.text
    assert "confirmSubmit" not in page.text
    assert asked.status_code == 200
    assert f'<p id="confirm-question">{question}</p>' in asked.text
    assert f'<form method="post" action="{BANNERS}/{existing.id}/delete" class="actions">' in asked.text
    assert '<input type="hidden" name="confirmed" value="1">' in asked.text
    assert after_asking == before
    assert confirmed.headers["location"] == f"{BANNERS}?notice=deleted"
    assert await state() == ([], ["banner.create", "banner.delete"])


async def test_the_banners_are_filtered_by_status_and_sorted_by_position_or_newest(
    client: AsyncClient,
) -> None:
    await banner("第一", position=1)
    await banner("第二", position=2, is_enabled=False)
    await staff_sign_in(client, "editor@example.com", "catalog.read")

    by_position = await client.get(BANNERS, headers=EN)
    newest = await client.get(BANNERS, params={"sort": "newest"}, headers=EN)
    switched_off = await client.get(BANNERS, params={"status": "disabled"}, headers=EN)
    unknown = await client.get(BANNERS, params={"status": "nope", "sort": "nope"}, headers=EN)

    def titles(page: Response) -> list[str]:
        return re.findall(r'<td data-label="Title">([^<]+)</td>', page.text)

    assert titles(by_position) == ["第一", "第二"]
    assert titles(newest) == ["第二", "第一"]
    assert titles(switched_off) == ["第二"]
    assert titles(unknown) == ["第一", "第二"]
    assert '<span class="tag banner-status-disabled">Switched off</span>' in switched_off.text


async def test_an_unknown_banner_is_not_found(client: AsyncClient) -> None:
    await staff_sign_in(client, "editor@example.com", "catalog.read", "content.write")
    token = csrf_of(await client.get(BANNERS))

    assert (await client.get(f"{BANNERS}/999/edit")).status_code == 404
    assert (await client.post(f"{BANNERS}/999/delete", data={"csrf_token": token})).status_code == 404
    assert (await client.get(f"{BANNERS}/{2**64}/edit")).status_code == 422  # past BIGINT: the 422 page
    assert await state() == ([], [])
