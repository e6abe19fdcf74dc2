"""Home-page banners: staff writes (audited), images proved and stored, links kept inside the
shop, and the live list the home page shows."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from PIL import Image
from pydantic import ValidationError
from sqlalchemy import func, select

from mercato import content, identity
from mercato.content.models import Banner
from mercato.core import clock, images
from mercato.core.db import uow
from mercato.identity.models import AuditEntry
from tests.factories.media import camera_exif, decoded, image_bytes, png_claiming, stored, stored_files

ACTOR = identity.Actor(staff_id=None, label="editor@example.com")


def write(**fields: object) -> content.BannerWrite:
    return content.BannerWrite.model_validate({"title": "双十二大促", "link": "/c/phones", **fields})


async def create(**fields: object) -> content.BannerRead:
    image = fields.pop("image", None)
    if not isinstance(image, bytes):
        image = image_bytes("JPEG", (1200, 400), exif=camera_exif())
    async with uow() as session:
        upload = await content.check_banner_image(session, data=image, actor=ACTOR)
        return await content.create_banner(
            session,
            data=write(**fields),
            image=await images.decode(upload),
            filename="sale.jpg",
            declared_type="image/jpeg",
            actor=ACTOR,
        )


async def banner_count() -> int:
    async with uow(write=False) as session:
        return int(await session.scalar(select(func.count()).select_from(Banner)) or 0)


async def audit() -> list[tuple[str, str]]:
    async with uow(write=False) as session:
        rows = await session.execute(select(AuditEntry.action, AuditEntry.object_id).order_by(AuditEntry.id))
        return [(row.action, row.object_id) for row in rows]


async def test_create_stores_a_re_encoded_image_and_records_an_audit_entry() -> None:
    banner = await create(subtitle="全场满 199 减 20", position=2)

    assert banner.title == "双十二大促"
    assert banner.subtitle == "全场满 199 减 20"
    assert banner.link == "/c/phones"
    assert banner.position == 2
    assert banner.status == content.BannerStatus.live
    assert (banner.image_width, banner.image_height) == (1200, 400)
    assert banner.image_url.startswith("/media/banners/")
    assert banner.image_url.endswith(".jpg")
    with Image.open(io.BytesIO(stored(banner.image_url).read_bytes())) as saved:
        assert saved.format == "JPEG"
        assert saved.getexif() == {}  # the camera's metadata is gone
    assert stored_files() == [banner.image_url.removeprefix("/media/")]
    assert await audit() == [("banner.create", str(banner.id))]


@pytest.mark.parametrize(
    "link",
    [
        "https://evil.example/",
        "//evil.example/x",
        "javascript:alert(1)",
        "/\\evil.example",
        "c/phones",
        "/a b",
        "",
    ],
)
def test_a_link_must_be_a_path_of_the_shop(link: str) -> None:
    with pytest.raises(ValidationError) as caught:
        write(link=link)

    assert [error["loc"] for error in caught.value.errors()] == [("link",)]


def test_the_window_must_end_after_it_starts_and_local_times_are_the_shops() -> None:
    with pytest.raises(ValidationError) as caught:
        write(active_from="2026-12-12T00:00", active_until="2026-12-11T00:00")

    assert [error["loc"] for error in caught.value.errors()] == [("active_until",)]
    data = write(active_from="2026-12-12T00:00")
    assert data.active_from == dt.datetime(2026, 12, 11, 16, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("image", "error"),
    [
        (b"", content.BannerImageRequired),
        (b"GIF89a not really", content.BannerImageInvalid),
        (image_bytes("GIF"), content.BannerImageInvalid),
        (png_claiming(50_000, 50_000), content.BannerImageInvalid),
    ],
)
async def test_a_refused_image_writes_nothing(image: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        await create(image=image)

    assert await banner_count() == 0
    assert stored_files() == []
    assert await audit() == []


async def test_an_image_over_the_size_limit_is_refused_before_decoding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MERCATO_MAX_IMAGE_BYTES", str(64 * 1024))
    from mercato.core.settings import get_settings  # noqa: PLC0415

    get_settings.cache_clear()
    with pytest.raises(content.BannerImageTooLarge) as caught:
        await create(image=b"x" * (64 * 1024 + 1))

    assert caught.value.code == "content.image_too_large"
    assert await banner_count() == 0
    assert stored_files() == []


async def test_a_rolled_back_create_leaves_no_file() -> None:
    async def create_then_fail() -> None:
        async with uow() as session:
            await content.create_banner(session, data=write(), image=decoded(thumbnail=False), actor=ACTOR)
            raise RuntimeError("later step failed")

    with pytest.raises(RuntimeError):
        await create_then_fail()

    assert await banner_count() == 0
    assert stored_files() == []


async def test_update_replaces_the_fields_and_the_image_and_deletes_the_old_file_after_commit() -> None:
    banner = await create()
    old_key = banner.image_url.removeprefix("/media/")

    async with uow() as session:
        updated = await content.update_banner(
            session,
            banner_id=banner.id,
            data=write(title="年货节", link="/search?q=%E5%B9%B4%E8%B4%A7", position=5, is_enabled=False),
            image=decoded(image_bytes("PNG", (800, 300)), thumbnail=False),
            filename="new.png",
            actor=ACTOR,
        )
        assert stored(banner.image_url).exists()  # not before the commit

    assert updated.title == "年货节"
    assert updated.link == "/search?q=%E5%B9%B4%E8%B4%A7"
    assert updated.status == content.BannerStatus.disabled
    assert (updated.image_width, updated.image_height) == (800, 300)
    assert stored_files() == [updated.image_url.removeprefix("/media/")]
    assert old_key not in stored_files()
    assert await audit() == [("banner.create", str(banner.id)), ("banner.update", str(banner.id))]


async def test_update_without_an_image_keeps_it() -> None:
    banner = await create()

    async with uow() as session:
        updated = await content.update_banner(
            session, banner_id=banner.id, data=write(title="新标题"), actor=ACTOR
        )

    assert updated.image_url == banner.image_url
    assert stored_files() == [banner.image_url.removeprefix("/media/")]


async def test_enable_disable_and_delete() -> None:
    banner = await create()

    async with uow() as session:
        off = await content.set_banner_enabled(session, banner_id=banner.id, enabled=False, actor=ACTOR)
        again = await content.set_banner_enabled(session, banner_id=banner.id, enabled=False, actor=ACTOR)
    async with uow() as session:
        await content.delete_banner(session, banner_id=banner.id, actor=ACTOR)

    assert off.status == again.status == content.BannerStatus.disabled
    assert await banner_count() == 0
    assert stored_files() == []
    assert await audit() == [
        ("banner.create", str(banner.id)),
        ("banner.disable", str(banner.id)),
        ("banner.delete", str(banner.id)),
    ]


async def test_an_unknown_banner_is_not_found_and_nothing_is_audited() -> None:
    async with uow() as session:
        with pytest.raises(content.BannerNotFound):
            await content.delete_banner(session, banner_id=999, actor=ACTOR)
        with pytest.raises(content.BannerNotFound):
            await content.update_banner(session, banner_id=999, data=write(), actor=ACTOR)
        with pytest.raises(content.BannerNotFound):
            await content.set_banner_enabled(session, banner_id=999, enabled=True, actor=ACTOR)

    assert await audit() == []
    assert stored_files() == []


async def test_the_home_page_shows_enabled_banners_inside_their_window_in_position_order() -> None:
    now = clock.now()
    second = await create(title="second", position=2)
    first = await create(title="first", position=1)
    await create(title="off", is_enabled=False)
    await create(title="later", active_from=now + dt.timedelta(hours=1))
    await create(
        title="over", active_from=now - dt.timedelta(days=2), active_until=now - dt.timedelta(hours=1)
    )
    now_window = await create(
        title="window",
        position=3,
        active_from=now - dt.timedelta(hours=1),
        active_until=now + dt.timedelta(days=1),
    )

    async with uow(write=False) as session:
        live = await content.list_live_banners(session)
        every = await content.list_banners(session)

    assert [b.id for b in live] == [first.id, second.id, now_window.id]
    assert {b.title: b.status for b in every} == {
        "first": content.BannerStatus.live,
        "second": content.BannerStatus.live,
        "window": content.BannerStatus.live,
        "off": content.BannerStatus.disabled,
        "later": content.BannerStatus.scheduled,
        "over": content.BannerStatus.ended,
    }
