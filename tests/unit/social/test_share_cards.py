"""What a share poster says, in each language, and what its cache key covers."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from mercato import identity, social
from mercato.social.sharing import poster_content, poster_hash


def card(kind: social.ShareKind, **fields: object) -> social.ShareCard:
    values: dict[str, object] = {
        "kind": kind,
        "target_id": 7,
        "product_id": 3,
        "title": "小米手环9",
        "title_en": "Xiaomi Band 9",
        "currency": "CNY",
        "price_amount": 8900,
        "price_is_from": False,
        "group_size": None,
        "image_url": "/media/products/3/a.webp",
        "path": "/p/band?ref=K7M3Q9XA",
        "url": "https://shop.example.cn/p/band?ref=K7M3Q9XA",
        "code": "K7M3Q9XA",
        **fields,
    }
    return social.ShareCard(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("_case", "shared", "locale", "texts"),
    [
        ("product", card(social.ShareKind.product), "zh_CN", ("小米手环9", "¥89.00", "", "长按识别二维码")),
        (
            "product from a price",
            card(social.ShareKind.product, price_is_from=True),
            "zh_CN",
            ("小米手环9", "¥89.00起", "", "长按识别二维码"),
        ),
        (
            "flash",
            card(social.ShareKind.flash, price_amount=990),
            "zh_CN",
            ("小米手环9", "¥9.90", "秒杀价", "长按识别二维码"),
        ),
        (
            "group",
            card(social.ShareKind.group, group_size=3),
            "zh_CN",
            ("小米手环9", "¥89.00", "3人团", "长按识别二维码"),
        ),
        (
            "bargain",
            card(social.ShareKind.bargain),
            "zh_CN",
            ("小米手环9", "¥89.00", "砍价", "长按识别二维码"),
        ),
        (
            "group in English",
            card(social.ShareKind.group, group_size=3),
            "en",
            ("Xiaomi Band 9", "CN¥89.00", "3-person group", "Long-press the QR code to open"),
        ),
        (
            "invitation",
            social.invite_card(code="K7M3Q9XA", shop_name="好物店"),
            "zh_CN",
            ("我在好物店等你：用我的邀请注册，我们都能领优惠券", "", "邀请有礼", "长按识别二维码"),
        ),
    ],
)
def test_the_poster_texts(_case: str, shared: social.ShareCard, locale: str, texts: tuple[str, ...]) -> None:
    content = poster_content(shared, sharer_name="张**", locale=locale)

    assert (content.title, content.price_text, content.badge, content.caption) == texts
    assert (content.sharer_name, content.url, content.image) == ("张**", shared.url, None)


def test_an_invitation_links_to_registration_with_the_code() -> None:
    invitation = social.invite_card(code="K7M3Q9XA", shop_name="好物店")

    assert invitation.path == "/account/register?ref=K7M3Q9XA"
    assert invitation.url.endswith("/account/register?ref=K7M3Q9XA")


def test_the_cache_key_covers_everything_shown_but_not_the_picture_bytes() -> None:
    content = poster_content(card(social.ShareKind.product), sharer_name="张**", locale="zh_CN")
    key = poster_hash(content, "/media/a.webp")

    assert poster_hash(dataclasses.replace(content, image=b"bytes"), "/media/a.webp") == key
    assert poster_hash(content, "/media/b.webp") != key
    assert poster_hash(dataclasses.replace(content, sharer_name="李**"), "/media/a.webp") != key
    assert poster_hash(dataclasses.replace(content, url=content.url + "X"), "/media/a.webp") != key


def test_a_sharer_is_named_masked_or_as_a_friend() -> None:
    named = social.sharer_label(_customer("张三丰"), locale="zh_CN")
    nameless = social.sharer_label(_customer(""), locale="zh_CN")

    assert (named, nameless, social.sharer_label(None, locale="zh_CN")) == ("张**", "好友", None)


def _customer(name: str) -> identity.CustomerRead:
    return identity.CustomerRead(
        id=1,
        phone="+8613800138000",
        email=None,
        name=name,
        status=identity.CustomerStatus.active,
        has_password=True,
        created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        last_login_at=None,
    )
