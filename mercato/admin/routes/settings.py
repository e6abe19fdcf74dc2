"""The console's shop settings (/admin/settings): the shop's profile (name, logo, favicon,
brand colour, customer service, ICP number, SMS signature), languages and time zone, order
rules, payment methods, legal pages, and a read-only preview of the notification templates.

Every page and every change needs ``settings.manage``. Every POST checks the CSRF token first,
runs in one writing unit of work, records the change in the audit log (before and after) in that
same transaction, and answers with a 303 redirect (post-redirect-get) or the form again with its
errors next to the fields (nothing saved).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

from mercato import identity, notify, shop
from mercato.admin.routes._shared import form_page, notice_of, problem_of, signed_in, staff_for, to_login
from mercato.core import images
from mercato.core.db import uow
from mercato.core.i18n import SUPPORTED
from mercato.core.schemas import TEXT_VALUES
from mercato.core.settings import get_settings
from mercato.web.forms import FORM_ERRORS, FormProblem, Upload, read_form, read_list, validate
from mercato.web.session import StaffSession
from mercato.web.templates import render

router = APIRouter(prefix="/admin/settings", include_in_schema=False)

MANAGE = "settings.manage"
HOME = "/admin/settings"
PROFILE_PAGE = "admin/settings/profile.html"
LOCALE_PAGE = "admin/settings/locale.html"
RULES_PAGE = "admin/settings/order_rules.html"
PAYMENTS_PAGE = "admin/settings/payments.html"
LEGAL_PAGE = "admin/settings/legal.html"
LEGAL_FORM = "admin/settings/legal_form.html"
PROFILE_FIELDS = (
    "name",
    "name_en",
    "brand_color",
    "service_phone",
    "service_hours",
    "service_hours_en",
    "icp_number",
    "sms_signature",
)
RULE_FIELDS = ("order_pay_minutes", "order_auto_complete_days", "aftersales_window_days")
IMAGE_FIELDS = ("logo", "favicon")
#: Notices a redirect may ask a page to show (by key, never free text from the URL).
NOTICES = frozenset({"saved", "published", "unchanged"})


def _saved(path: str, notice: str = "saved") -> RedirectResponse:
    return RedirectResponse(f"{path}?notice={notice}", status_code=303)


async def _record(session: AsyncSession, auth: StaffSession, change: shop.ShopChange) -> None:
    """Audit a settings change (before and after) in the request's transaction."""
    if change.action:
        await identity.record_audit(session, actor=auth.actor, **change.audit())


async def _current() -> shop.ShopSettingsRead:
    async with uow(write=False) as session:
        return await shop.get_settings(session)


def _page(
    request: Request, template: str, auth: StaffSession, problem: FormProblem | None, **context: Any
) -> Response:
    return form_page(
        request,
        template,
        problem,
        staff=auth.staff,
        notice=notice_of(request, NOTICES),
        **context,
    )


# -- profile --------------------------------------------------------------------------------------


def _profile_values(current: shop.ShopSettingsRead) -> dict[str, Any]:
    return {name: getattr(current, name) for name in PROFILE_FIELDS}


@router.get("")
async def profile(request: Request) -> Response:
    auth = await signed_in(request, MANAGE)
    if auth is None:
        return to_login(request)
    current = await _current()
    return _page(request, PROFILE_PAGE, auth, None, current=current, values=_profile_values(current))


async def _images(request: Request) -> dict[str, Upload]:
    """The logo and favicon chosen in the form (fields left empty are absent), read at once: the
    form's temporary files are closed afterwards. Call after ``read_form``."""
    form = await request.form()
    try:
        return {
            field: Upload(await item.read(), item.filename, item.content_type)
            for field in IMAGE_FIELDS
            for item in form.getlist(field)[:1]
            if isinstance(item, UploadFile) and item.filename
        }
    finally:
        await form.close()


@router.post("/profile")
async def save_profile(request: Request) -> Response:
    values = await read_form(request)
    auth = await signed_in(request, MANAGE)
    if auth is None:
        return to_login(request)
    uploads = await _images(request)
    try:
        data = validate(
            shop.ProfileWrite, values, *PROFILE_FIELDS, checkboxes=("remove_logo", "remove_favicon")
        )
        checked = {
            field: shop.check_shop_image(field=field, data=upload.data, uploader=f"staff:{auth.staff.id}")
            for field, upload in uploads.items()
        }
        # checked first (size, type), decoded with no transaction open, then one write
        decoded = {field: await images.decode(upload) for field, upload in checked.items()}
        async with uow() as session:
            change = await shop.update_profile(
                session, data=data, logo=decoded.get("logo"), favicon=decoded.get("favicon")
            )
            await _record(session, auth, change)
    except FORM_ERRORS as exc:
        current = await _current()
        return _page(request, PROFILE_PAGE, auth, problem_of(request, exc), current=current, values=values)
    return _saved(HOME)


# -- languages and time zone ----------------------------------------------------------------------


def _locale_values(current: shop.ShopSettingsRead) -> dict[str, Any]:
    return {
        "timezone": current.timezone,
        "default_locale": current.default_locale,
        "enabled_locales": current.enabled_locales,
    }


@router.get("/locale")
async def locale_page(request: Request) -> Response:
    auth = await signed_in(request, MANAGE)
    if auth is None:
        return to_login(request)
    current = await _current()
    return _page(
        request, LOCALE_PAGE, auth, None, current=current, values=_locale_values(current), locales=SUPPORTED
    )


@router.post("/locale")
async def save_locale(request: Request) -> Response:
    values = await read_form(request)
    auth = await signed_in(request, MANAGE)
    if auth is None:
        return to_login(request)
    enabled = await read_list(request, "enabled_locales")
    try:
        data = shop.LocaleWrite.model_validate(
            {
                "timezone": values.get("timezone", "").strip() or None,
                "default_locale": values.get("default_locale", ""),
                "enabled_locales": enabled,
            },
            context=TEXT_VALUES,
        )
        async with uow() as session:
            await _record(session, auth, await shop.update_locale(session, data=data))
    except FORM_ERRORS as exc:
        current = await _current()
        shown = {**values, "enabled_locales": enabled}
        return _page(
            request,
            LOCALE_PAGE,
            auth,
            problem_of(request, exc),
            current=current,
            values=shown,
            locales=SUPPORTED,
        )
    return _saved(f"{HOME}/locale")


# -- order rules ----------------------------------------------------------------------------------


@router.get("/order-rules")
async def rules_page(request: Request) -> Response:
    auth = await signed_in(request, MANAGE)
    if auth is None:
        return to_login(request)
    current = await _current()
    values = {name: str(getattr(current, name)) for name in RULE_FIELDS}
    return _page(request, RULES_PAGE, auth, None, current=current, values=values)


@router.post("/order-rules")
async def save_rules(request: Request) -> Response:
    values = await read_form(request)
    auth = await signed_in(request, MANAGE)
    if auth is None:
        return to_login(request)
    try:
        data = validate(shop.OrderRulesWrite, values, *RULE_FIELDS)
        async with uow() as session:
            await _record(session, auth, await shop.update_order_rules(session, data=data))
    except FORM_ERRORS as exc:
        current = await _current()
        return _page(request, RULES_PAGE, auth, problem_of(request, exc), current=current, values=values)
    return _saved(f"{HOME}/order-rules")


# -- payment methods ------------------------------------------------------------------------------


@router.get("/payments")
async def payments_page(request: Request) -> Response:
    auth = await signed_in(request, MANAGE)
    if auth is None:
        return to_login(request)
    current = await _current()
    return _page(request, PAYMENTS_PAGE, auth, None, methods=shop.list_payment_methods(current))


@router.post("/payments")
async def save_payments(request: Request) -> Response:
    await read_form(request)
    auth = await signed_in(request, MANAGE)
    if auth is None:
        return to_login(request)
    switched_on = await read_list(request, "switched_on")
    try:
        data = shop.PaymentMethodsWrite.model_validate({"switched_on": switched_on}, context=TEXT_VALUES)
        async with uow() as session:
            await _record(session, auth, await shop.update_payment_methods(session, data=data))
    except FORM_ERRORS as exc:
        current = await _current()
        return _page(
            request, PAYMENTS_PAGE, auth, problem_of(request, exc), methods=shop.list_payment_methods(current)
        )
    return _saved(f"{HOME}/payments")


# -- legal pages ----------------------------------------------------------------------------------


def _kind(value: str) -> shop.LegalKind:
    try:
        return shop.LegalKind(value)
    except ValueError:
        raise HTTPException(status_code=404) from None


@router.get("/legal")
async def legal_list(request: Request) -> Response:
    async with uow(write=False) as session:
        auth = await staff_for(request, session, MANAGE)
        if auth is None:
            return to_login(request)
        pages = [
            (
                kind,
                await shop.find_legal_page(session, kind=kind),
                await shop.count_legal_versions(session, kind=kind),
            )
            for kind in shop.LegalKind
        ]
    return _page(request, LEGAL_PAGE, auth, None, pages=pages)


@router.get("/legal/{kind}")
async def legal_form(request: Request, kind: str) -> Response:
    legal_kind = _kind(kind)
    async with uow(write=False) as session:
        auth = await staff_for(request, session, MANAGE)
        if auth is None:
            return to_login(request)
        page = await shop.find_legal_page(session, kind=legal_kind)
    values = {"body": page.body, "body_en": page.body_en} if page else {}
    return _page(request, LEGAL_FORM, auth, None, kind=legal_kind, page=page, values=values)


@router.post("/legal/{kind}")
async def publish_legal(request: Request, kind: str) -> Response:
    legal_kind = _kind(kind)
    values = await read_form(request)
    auth = await signed_in(request, MANAGE)
    if auth is None:
        return to_login(request)
    try:
        data = validate(shop.LegalPageWrite, values, "body", "body_en")
        async with uow() as session:
            _page_read, change = await shop.publish_legal_page(
                session, kind=legal_kind, data=data, author=auth.actor.label
            )
            await _record(session, auth, change)
    except FORM_ERRORS as exc:
        async with uow(write=False) as session:
            page = await shop.find_legal_page(session, kind=legal_kind)
        return _page(
            request, LEGAL_FORM, auth, problem_of(request, exc), kind=legal_kind, page=page, values=values
        )
    return _saved(f"{HOME}/legal", "published" if change.action else "unchanged")


# -- notification templates -----------------------------------------------------------------------


@router.get("/notifications")
async def notification_previews(request: Request) -> Response:
    auth = await signed_in(request, MANAGE)
    if auth is None:
        return to_login(request)
    current = await _current()
    previews = notify.preview_messages(
        shop_names={locale: current.display_name(locale) for locale in SUPPORTED},
        url=f"{get_settings().public_base_url}/account",
    )
    return render(request, "admin/settings/notifications.html", staff=auth.staff, previews=previews)
