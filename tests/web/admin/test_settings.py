"""The console's shop settings: settings.manage for every page and change; a saved profile shows
on the shop at once (title, header, footer, theme, emails' previews); bad input is shown next to
its field and saves nothing; every change is audited with before and after."""

from __future__ import annotations

import re

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import func, select

from mercato.core.db import uow
from mercato.identity.models import AuditEntry
from mercato.shop.models import LegalPage, ShopSettings
from tests.factories.media import image_bytes, stored_files
from tests.web.pages import EN, csrf_of, field_error_of, staff_sign_in

SETTINGS = "/admin/settings"
PROFILE = {
    "name": "山海小铺",
    "name_en": "Shanhai Store",
    "brand_color": "#0958d9",
    "service_phone": "400-123-4567",
    "service_hours": "每天 9:00–21:00",
    "service_hours_en": "Daily 9:00–21:00",
    "icp_number": "沪ICP备12345678号-1",
    "sms_signature": "山海小铺",
}
RULES = {"order_pay_minutes": "20", "order_auto_complete_days": "10", "aftersales_window_days": "14"}


@pytest.fixture(autouse=True)
def _fresh_media(empty_media: None) -> None:
    """Every test here starts with no stored file."""


async def state() -> tuple[list[tuple[object, ...]], int, list[str]]:
    """The settings row, the legal page versions and the audit actions: what a refusal leaves."""
    async with uow(write=False) as session:
        row = (await session.execute(select(ShopSettings.name, ShopSettings.version))).all()
        pages = await session.scalar(select(func.count()).select_from(LegalPage))
        actions = list(
            (
                await session.scalars(
                    select(AuditEntry.action)
                    .where(AuditEntry.object_type.in_(("shop", "legal_page")))
                    .order_by(AuditEntry.id)
                )
            ).all()
        )
    return [tuple(r) for r in row], int(pages or 0), actions


async def post(
    client: AsyncClient, page: str, action: str, data: dict[str, object], **kw: object
) -> Response:
    token = csrf_of(await client.get(page))
    return await client.post(action, data={**data, "csrf_token": token}, headers=EN, **kw)  # type: ignore[arg-type]


async def test_signed_out_goes_to_sign_in_and_without_the_permission_is_refused(client: AsyncClient) -> None:
    signed_out = await client.get(SETTINGS)
    await staff_sign_in(client, "cs@example.com", "orders.read")
    pages = [
        await client.get(f"{SETTINGS}{path}", headers=EN)
        for path in ("", "/locale", "/order-rules", "/payments", "/legal", "/legal/privacy", "/notifications")
    ]
    token = csrf_of(await client.get("/admin/", headers=EN))
    posts = [
        await client.post(f"{SETTINGS}{path}", data={**data, "csrf_token": token})
        for path, data in (("/profile", PROFILE), ("/order-rules", RULES), ("/legal/terms", {"body": "x"}))
    ]

    assert (signed_out.status_code, signed_out.headers["location"]) == (
        303,
        "/admin/login?next=/admin/settings",
    )
    assert [p.status_code for p in pages] == [403] * 7
    assert [p.status_code for p in posts] == [403] * 3
    assert await state() == ([], 0, [])


async def test_an_owner_names_the_shop_and_every_page_shows_it(client: AsyncClient) -> None:
    staff_id = await staff_sign_in(client, "owner@example.com", "settings.manage")

    saved = await post(client, SETTINGS, f"{SETTINGS}/profile", PROFILE)
    home_zh = await client.get("/")
    home_en = await client.get("/", headers=EN)
    console = await client.get(SETTINGS, headers=EN)

    assert (saved.status_code, saved.headers["location"]) == (303, f"{SETTINGS}?notice=saved")
    assert "<title>首页 · 山海小铺</title>" in home_zh.text or "· 山海小铺</title>" in home_zh.text
    assert "· Shanhai Store</title>" in home_en.text
    assert (
        '<a href="https://beian.miit.gov.cn/" rel="noopener noreferrer">沪ICP备12345678号-1</a>'
        in home_zh.text
    )
    assert '<a href="tel:400-1234567">400-123-4567</a> (Daily 9:00–21:00)' not in home_en.text
    assert '<a href="tel:4001234567">400-123-4567</a> (Daily 9:00–21:00)' in home_en.text
    assert '<link rel="stylesheet" href="/shop-theme.css?v=1">' in home_zh.text
    assert "The settings were saved." in (await client.get(saved.headers["location"], headers=EN)).text
    assert "· Shanhai Store</title>" in console.text
    theme = await client.get("/shop-theme.css?v=1")
    assert theme.text == ":root { --brand: #0958D9; }\n"
    assert theme.headers["content-type"].startswith("text/css")
    async with uow(write=False) as session:
        entry = (await session.scalars(select(AuditEntry).where(AuditEntry.object_type == "shop"))).one()
    assert (entry.action, entry.actor_id, entry.object_type, entry.before["name"], entry.after["name"]) == (
        "shop.profile_update",
        staff_id,
        "shop",
        "Mercato",
        "山海小铺",
    )
    assert entry.after["brand_color"] == "#0958D9"


async def test_a_logo_and_favicon_are_stored_and_shown(client: AsyncClient) -> None:
    await staff_sign_in(client, "owner@example.com", "settings.manage")
    files = {
        "logo": ("logo.png", image_bytes("PNG", (400, 120)), "image/png"),
        "favicon": ("icon.png", image_bytes("PNG", (64, 64)), "image/png"),
    }

    saved = await post(client, SETTINGS, f"{SETTINGS}/profile", PROFILE, files=files)
    home = await client.get("/")

    assert saved.status_code == 303
    logo, favicon = re.findall(r"shop/(?:logo|favicon)-[0-9a-f]{32}\.png", " ".join(stored_files()))
    assert f'<img class="brand-mark" src="/media/{logo}" alt="">' in home.text or logo.startswith(
        "shop/favicon"
    )
    assert len(stored_files()) == 2
    assert f'<link rel="icon" href="/media/{favicon}">' in home.text or favicon.startswith("shop/logo")


@pytest.mark.parametrize(
    ("_case", "path", "data", "field", "message"),
    [
        (
            "a wrong colour",
            "/profile",
            {**PROFILE, "brand_color": "blue"},
            "profile-brand_color",
            "The format is not valid.",
        ),
        (
            "a colour too light to read",
            "/profile",
            {**PROFILE, "brand_color": "#1677FF"},
            "profile-brand_color",
            "Choose a darker colour: white text on it and it on white must stay readable.",
        ),
        ("no name", "/profile", {**PROFILE, "name": ""}, "profile-name", "This field is required."),
        (
            "a signature with brackets",
            "/profile",
            {**PROFILE, "sms_signature": "【店】"},
            "profile-sms_signature",
            "The format is not valid.",
        ),
        (
            "a pay window of 0",
            "/order-rules",
            {**RULES, "order_pay_minutes": "0"},
            "rules-order_pay_minutes",
            "Must be at least 1.",
        ),
        (
            "a pay window of 100000",
            "/order-rules",
            {**RULES, "order_pay_minutes": "100000"},
            "rules-order_pay_minutes",
            "Must be at most 1440.",
        ),
        (
            "a return window in words",
            "/order-rules",
            {**RULES, "aftersales_window_days": "seven"},
            "rules-aftersales_window_days",
            "Must be a whole number.",
        ),
        (
            "a bad time zone",
            "/locale",
            {"timezone": "Mars/Olympus", "default_locale": "zh_CN", "enabled_locales": "zh_CN"},
            "locale-timezone",
            "The value is not valid.",
        ),
        (
            "a default not offered",
            "/locale",
            {"timezone": "Asia/Shanghai", "default_locale": "en", "enabled_locales": "zh_CN"},
            "locale-default_locale",
            "The default language must be one of the languages offered.",
        ),
    ],
)
async def test_bad_input_is_shown_next_to_its_field_and_nothing_is_saved(
    client: AsyncClient, _case: str, path: str, data: dict[str, str], field: str, message: str
) -> None:
    await staff_sign_in(client, "owner@example.com", "settings.manage")
    page = SETTINGS if path == "/profile" else f"{SETTINGS}{path}"

    response = await post(client, page, f"{SETTINGS}{path}", data)

    assert response.status_code == 422
    assert field_error_of(response, field) == message
    assert await state() == ([], 0, [])


async def test_an_oversized_logo_is_refused_before_decoding_and_nothing_is_saved(client: AsyncClient) -> None:
    await staff_sign_in(client, "owner@example.com", "settings.manage")
    big = image_bytes("PNG", (1200, 1200)) + b"\0" * (2 * 1024 * 1024)

    response = await post(
        client, SETTINGS, f"{SETTINGS}/profile", PROFILE, files={"logo": ("big.png", big, "image/png")}
    )

    assert response.status_code == 422
    assert field_error_of(response, "profile-logo") == "The image is too large: at most 2048 KB."
    assert 'value="山海小铺"' in response.text  # what was typed is kept
    assert await state() == ([], 0, [])
    assert stored_files() == []


async def test_order_rules_and_languages_are_saved_and_audited(client: AsyncClient) -> None:
    await staff_sign_in(client, "owner@example.com", "settings.manage")

    rules = await post(client, f"{SETTINGS}/order-rules", f"{SETTINGS}/order-rules", RULES)
    locale = await post(
        client,
        f"{SETTINGS}/locale",
        f"{SETTINGS}/locale",
        {"timezone": "Asia/Urumqi", "default_locale": "en", "enabled_locales": ["en"]},
    )
    home = await client.get("/", headers={"Accept-Language": "zh-CN"})

    assert [rules.status_code, locale.status_code] == [303, 303]
    assert '<html lang="en">' in home.text  # Chinese is no longer offered: the shop's default
    assert 'hreflang="zh-CN"' not in home.text  # no language switch with one language
    page = await client.get(f"{SETTINGS}/order-rules", headers=EN)
    assert 'value="20"' in page.text
    assert 'value="14"' in page.text
    _row, _pages, actions = await state()
    assert actions == ["shop.order_rules_update", "shop.locale_update"]


async def test_legal_pages_are_published_as_versions_and_linked_where_consent_is_asked(
    client: AsyncClient, sms: object
) -> None:
    await staff_sign_in(client, "owner@example.com", "settings.manage")
    missing = await client.get("/legal/privacy", headers=EN)

    first = await post(
        client, f"{SETTINGS}/legal/privacy", f"{SETTINGS}/legal/privacy", {"body": "# 收集\n手机号<script>"}
    )
    again = await post(
        client, f"{SETTINGS}/legal/privacy", f"{SETTINGS}/legal/privacy", {"body": "# 收集\n手机号<script>"}
    )
    page = await client.get("/legal/privacy")
    register = await post(
        client, "/account/register", "/account/register/code/send", {"phone": "13800138001"}
    )
    listing = await client.get(f"{SETTINGS}/legal", headers=EN)

    assert "The shop has not published this page yet." in missing.text
    assert [first.headers["location"], again.headers["location"]] == [
        f"{SETTINGS}/legal?notice=published",
        f"{SETTINGS}/legal?notice=unchanged",
    ]
    assert "<h2>收集</h2>" in page.text
    assert "<p>手机号&lt;script&gt;</p>" in page.text
    version = re.search(r"\d{4}-\d{2}-\d{2}\.1", page.text)
    assert version is not None
    assert (
        'I have read and accept the <a href="/legal/privacy" target="_blank" rel="noopener">'
        f"privacy policy</a> (version {version.group(0)})." in register.text
    )
    assert "(published versions: 1)" in listing.text
    assert await state() == ([], 1, ["shop.legal_publish"])
    assert '<a href="/legal/privacy">隐私政策</a>' in page.text  # the footer links every page


async def test_payment_methods_show_what_is_missing_and_a_switched_off_one_is_not_offered(
    client: AsyncClient,
) -> None:
    await staff_sign_in(client, "owner@example.com", "settings.manage")

    before = await client.get(f"{SETTINGS}/payments", headers=EN)
    saved = await post(client, f"{SETTINGS}/payments", f"{SETTINGS}/payments", {"switched_on": "alipay"})
    after = await client.get(f"{SETTINGS}/payments", headers=EN)

    assert "<code>MERCATO_ALIPAY_APP_ID</code>" in before.text
    assert 'name="switched_on" value="sandbox" checked' in before.text
    assert saved.status_code == 303
    assert 'name="switched_on" value="sandbox">' in after.text
    async with uow(write=False) as session:
        row = (await session.scalars(select(ShopSettings))).one()
    assert row.payment_methods_off == ["sandbox", "wechatpay", "stripe"]


async def test_notification_templates_are_previewed_with_the_shop_name(client: AsyncClient) -> None:
    await staff_sign_in(client, "owner@example.com", "settings.manage")
    await post(client, SETTINGS, f"{SETTINGS}/profile", PROFILE)

    page = await client.get(f"{SETTINGS}/notifications", headers=EN)

    assert page.status_code == 200
    assert '<dd class="email-subject">【山海小铺】订单已支付</dd>' in page.text
    assert '<dd class="email-subject">[Shanhai Store] Order paid</dd>' in page.text
    assert page.text.count('class="panel template-preview"') == 26  # 13 messages, each in Chinese and English
