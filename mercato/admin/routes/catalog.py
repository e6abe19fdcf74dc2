"""The console's product pages (the product list is ``catalog_list``): the new-product form and
the product editor (basic fields and parameters, the SKU matrix, the SKU table with prices,
images, and the listing actions with their history).

Reading needs ``catalog.read``; every change needs ``catalog.write`` and a CSRF token, and the
catalog services audit it. Prices are typed in major units ("12.34") and converted exactly to
minor units with Decimal; a malformed or negative price is a field error and nothing is saved.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Request
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from mercato import catalog
from mercato.admin.routes import (
    catalog_import,
    catalog_list,
    catalog_review,
    catalog_taxonomy,
    catalog_terms,
    catalog_types,
)
from mercato.admin.routes._shared import (
    AmountInvalid,
    form_page,
    invalid,
    major_units,
    notice_of,
    parse_amount,
    problem_of,
    signed_in,
    staff_for,
    to_login,
)
from mercato.admin.routes.catalog_common import (
    LISTING_FIELDS,
    close_form,
    form_choices,
    posted_lists,
)
from mercato.core.db import uow
from mercato.core.errors import DomainError
from mercato.core.i18n import gettext
from mercato.core.schemas import TEXT_VALUES
from mercato.web.forms import (
    FORM_ERRORS,
    FormProblem,
    form_problem,
    locale_of,
    read_form,
    read_upload,
    validate,
)
from mercato.web.session import StaffSession
from mercato.web.templates import render
from mercato.web.uploads import decode_upload

#: Everything under /admin/catalog (this module's product pages and the other catalog_* modules).
router = APIRouter(include_in_schema=False)
products = APIRouter(prefix="/admin/catalog", include_in_schema=False)

NEW_PAGE = "admin/catalog/product_new.html"
EDIT_PAGE = "admin/catalog/product_edit.html"
PAGE_SIZE = 20
STATUS_VALUES = frozenset(status.value for status in catalog.ListingStatus)
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
#: Notices a redirect may ask the editor to show (by key, never free text from the URL).
NOTICES = frozenset(
    {
        "created",
        "saved",
        "specs",
        "skus",
        "image_added",
        "image_removed",
        "images_ordered",
        "spec_images",
        "listing",
    }
)
#: The basic form's fields; any other field error belongs to a parameter (``param-<code>``).
BASIC_FIELDS = frozenset(
    {"title", "title_en", "subtitle", "description_html", "category_id", "brand_id", "slug", "params", ""}
)
#: The SKU table's columns: form field prefix -> SkuUpdate field.
SKU_FIELDS = {"code": "code", "price": "price_amount", "cost": "cost_price_amount", "enabled": "status"}


def _editor_url(product_id: Id, notice: str) -> str:
    return f"/admin/catalog/products/{product_id}?notice={notice}"


# --- New product ----------------------------------------------------------------------------


async def _new_product_page(
    request: Request, values: dict[str, str], problem: FormProblem | None = None
) -> Response:
    async with uow(write=False) as session:
        auth = await staff_for(request, session, "catalog.write")
        if auth is None:
            return to_login(request)
        choices = await form_choices(session)
    return form_page(request, NEW_PAGE, problem, staff=auth.staff, values=values, **choices)


@products.get("/products/new")
async def new_product_page(request: Request) -> Response:
    return await _new_product_page(request, {})


@products.post("/products")
async def create_product(request: Request) -> Response:
    values = await read_form(request)
    try:
        async with uow() as session:
            auth = await staff_for(request, session, "catalog.write")
            if auth is None:
                return to_login(request)
            data = validate(
                catalog.ProductCreate, values, "product_type_id", "category_id", "brand_id", "title", "slug"
            )
            product = await catalog.create_product(session, data=data, actor=auth.actor)
    except FORM_ERRORS as exc:
        return await _new_product_page(request, values, problem_of(request, exc))
    return RedirectResponse(_editor_url(product.id, "created"), status_code=303)


# --- Product editor -------------------------------------------------------------------------


def _chosen_specs(skus: list[catalog.SkuRead]) -> dict[str, set[str]]:
    """The spec values the product's active SKUs use, by attribute code."""
    chosen: dict[str, set[str]] = {}
    for sku in skus:
        if sku.status == catalog.SkuStatus.active:
            for code, value in sku.spec.items():
                chosen.setdefault(code, set()).add(value)
    return chosen


def _spec_pictures(
    product_type: catalog.ProductTypeRead,
    chosen: dict[str, set[str]],
    ties: list[catalog.SpecImageRead],
    wanted: str,
) -> dict[str, Any]:
    """The spec-pictures form: the specs the SKUs use (to choose the one pictures follow), that
    spec (the one tied already, else ``wanted``, else the first) with its values in the type's
    order, and each value's image id."""
    specs = [a for a in product_type.attributes if a.kind == catalog.AttributeKind.spec and a.code in chosen]
    codes = [a.code for a in specs]
    code = ties[0].attribute_code if ties else (wanted if wanted in codes else (codes[0] if codes else ""))
    attribute = next((a for a in specs if a.code == code), None)
    values = [v.value for v in attribute.values if v.value in chosen[code]] if attribute else []
    values += sorted(chosen.get(code, set()) - set(values))
    return {
        "specs": [(a.code, a.name) for a in specs],
        "attribute": code,
        "value_list": values,
        "images": {tie.value: tie.image_id for tie in ties},
    }


async def _editor(
    request: Request,
    auth: StaffSession,
    product_id: Id,
    status_code: int = 200,
    **context: Any,
) -> Response:
    """The product editor, with whatever problem (and posted values) a refused form left."""
    async with uow(write=False) as session:
        product = await catalog.get_product(session, product_id=product_id)
        product_type = await catalog.get_product_type(session, product_type_id=product.product_type_id)
        skus = await catalog.list_skus(session, product_id=product_id)
        images = await catalog.list_product_images(session, product_id=product_id)
        history = await catalog.list_listing_history(session, product_id=product_id)
        spec_images = await catalog.list_spec_images(session, product_id=product_id)
        choices = await form_choices(session)
    sku_values = {
        sku.id: {
            "code": sku.code,
            "price": major_units(sku.price_amount, sku.currency) if sku.price_amount else "",
            "cost": major_units(sku.cost_price_amount, sku.currency),
            "enabled": sku.status == catalog.SkuStatus.active,
        }
        for sku in skus
    }
    context.setdefault("sku_values", sku_values)
    context.setdefault("values", {})
    return render(
        request,
        EDIT_PAGE,
        status_code,
        staff=auth.staff,
        product=product,
        product_type=product_type,
        specs=[a for a in product_type.attributes if a.kind == catalog.AttributeKind.spec],
        param_attributes=[a for a in product_type.attributes if a.kind == catalog.AttributeKind.param],
        chosen=_chosen_specs(skus),
        skus=skus,
        images=images,
        pictures=_spec_pictures(
            product_type, _chosen_specs(skus), spec_images, request.query_params.get("pictures", "")
        ),
        history=history,
        notice=notice_of(request, NOTICES),
        can_write=auth.staff.has("catalog.write"),
        **choices,
        **context,
    )


@products.get("/products/{product_id}")
async def product_editor(request: Request, product_id: Id) -> Response:
    auth = await signed_in(request, "catalog.read")
    if auth is None:
        return to_login(request)
    return await _editor(request, auth, product_id)


async def _editor_again(
    request: Request, product_id: Id, key: str, problem: FormProblem, **context: Any
) -> Response:
    """The editor again, with ``problem`` shown by the form whose problem is named ``key``."""
    auth = await signed_in(request, "catalog.write")
    if auth is None:
        return to_login(request)
    return await _editor(request, auth, product_id, problem.status, **{key: problem}, **context)


async def _product_type(session: AsyncSession, product_id: int) -> catalog.ProductTypeRead:
    """The type of the product (its spec and parameter attributes)."""
    product = await catalog.get_product(session, product_id=product_id)
    return await catalog.get_product_type(session, product_type_id=product.product_type_id)


def _product_update(values: dict[str, str], param_codes: list[str]) -> catalog.ProductUpdate:
    """The basic fields as posted: texts kept as typed (blank clears), a blank brand clears it,
    a blank slug keeps the current one, a blank parameter is left out.

    Raises:
        pydantic.ValidationError.
    """
    data: dict[str, Any] = {
        name: values.get(name, "") for name in ("title", "title_en", "subtitle", "description_html")
    }
    if values.get("category_id", "").strip():
        data["category_id"] = values["category_id"]
    data["brand_id"] = values.get("brand_id", "").strip() or None
    if values.get("slug", "").strip():
        data["slug"] = values["slug"].strip()
    data["params"] = {
        code: values[f"param-{code}"].strip()
        for code in param_codes
        if values.get(f"param-{code}", "").strip()
    }
    return catalog.ProductUpdate.model_validate(data, context=TEXT_VALUES)


@products.post("/products/{product_id}")
async def update_product(request: Request, product_id: Id) -> Response:
    values = await read_form(request)
    try:
        async with uow() as session:
            auth = await staff_for(request, session, "catalog.write")
            if auth is None:
                return to_login(request)
            product_type = await _product_type(session, product_id)
            codes = [a.code for a in product_type.attributes if a.kind == catalog.AttributeKind.param]
            data = _product_update(values, codes)
            await catalog.update_product(session, product_id=product_id, data=data, actor=auth.actor)
    except FORM_ERRORS as exc:
        if isinstance(exc, catalog.ProductNotFound):
            raise
        problem = problem_of(request, exc)
        fields = {
            (name if name in BASIC_FIELDS else f"param-{name}"): message
            for name, message in problem.fields.items()
        }
        basic = FormProblem(problem.status, problem.message, fields)
        return await _editor_again(request, product_id, "basic_problem", basic, values=values)
    return RedirectResponse(_editor_url(product_id, "saved"), status_code=303)


@products.post("/products/{product_id}/specs")
async def set_specs(request: Request, product_id: Id) -> Response:
    """Choose the spec values (checkbox groups ``spec-<code>``); the SKUs follow."""
    await read_form(request)
    lists = await posted_lists(request)
    try:
        async with uow() as session:
            auth = await staff_for(request, session, "catalog.write")
            if auth is None:
                return to_login(request)
            product_type = await _product_type(session, product_id)
            specs = {
                a.code: list(dict.fromkeys(lists[f"spec-{a.code}"]))
                for a in product_type.attributes
                if a.kind == catalog.AttributeKind.spec and lists.get(f"spec-{a.code}")
            }
            data = catalog.SpecsWrite.model_validate({"specs": specs})
            await catalog.set_product_specs(session, product_id=product_id, data=data, actor=auth.actor)
    except FORM_ERRORS as exc:
        if isinstance(exc, catalog.ProductNotFound):
            raise
        return await _editor_again(request, product_id, "specs_problem", problem_of(request, exc))
    return RedirectResponse(_editor_url(product_id, "specs"), status_code=303)


class _SkuRefused(Exception):
    """A SKU of the table was refused by the service; the whole post is rolled back."""

    def __init__(self, sku_id: int, error: DomainError) -> None:
        super().__init__(error.code)
        self.sku_id = sku_id
        self.error = error


def _sku_updates(
    values: dict[str, str], skus: list[catalog.SkuRead], locale: str
) -> tuple[dict[int, catalog.SkuUpdate], dict[str, str]]:
    """One SkuUpdate per row of the table, and the field errors (``price-<id>`` …) of the rows."""
    updates: dict[int, catalog.SkuUpdate] = {}
    errors: dict[str, str] = {}
    for sku in skus:
        data: dict[str, Any] = {
            "code": values.get(f"code-{sku.id}", "").strip() or sku.code,
            "status": catalog.SkuStatus.active
            if f"enabled-{sku.id}" in values
            else catalog.SkuStatus.disabled,
        }
        for name, target, blank in (
            ("price", "price_amount", "keep"),
            ("cost", "cost_price_amount", "clear"),
        ):
            text = values.get(f"{name}-{sku.id}", "").strip()
            if not text:
                if blank == "clear":
                    data[target] = None
                continue
            try:
                data[target] = parse_amount(text, sku.currency)
            except AmountInvalid as exc:
                errors[f"{name}-{sku.id}"] = gettext(exc.message, locale, **exc.params)
        if any(key.endswith(f"-{sku.id}") for key in errors):
            continue
        try:
            updates[sku.id] = catalog.SkuUpdate.model_validate(data, context=TEXT_VALUES)
        except ValidationError as exc:
            problem = form_problem(exc, locale)
            short = {target: name for name, target in SKU_FIELDS.items()}
            for field, message in problem.fields.items():
                errors.setdefault(f"{short.get(field, 'code')}-{sku.id}", message)
    return updates, errors


def _sku_problem(exc: _SkuRefused, locale: str) -> FormProblem:
    problem = form_problem(exc.error, locale)
    short = {target: name for name, target in SKU_FIELDS.items()}
    fields = {
        f"{short.get(field, 'price')}-{exc.sku_id}": message for field, message in problem.fields.items()
    }
    if not fields:
        fields = {f"code-{exc.sku_id}": problem.message}
    return FormProblem(problem.status, problem.message, fields)


@products.post("/products/{product_id}/skus")
async def update_skus(request: Request, product_id: Id) -> Response:
    """Save the whole SKU table in one transaction: every row is checked first, and a refused row
    rolls back the others."""
    values = await read_form(request)
    locale = locale_of(request)
    problem: FormProblem | None = None
    try:
        async with uow() as session:
            auth = await staff_for(request, session, "catalog.write")
            if auth is None:
                return to_login(request)
            skus = await catalog.list_skus(session, product_id=product_id)
            updates, errors = _sku_updates(values, skus, locale)
            if errors:
                problem = invalid(request, errors)
            else:
                for sku_id, data in updates.items():
                    try:
                        await catalog.update_sku(session, sku_id=sku_id, data=data, actor=auth.actor)
                    except DomainError as exc:
                        raise _SkuRefused(sku_id, exc) from exc
    except _SkuRefused as exc:
        problem = _sku_problem(exc, locale)
    if problem is not None:
        posted = {
            sku_id: {
                "code": values.get(f"code-{sku_id}", ""),
                "price": values.get(f"price-{sku_id}", ""),
                "cost": values.get(f"cost-{sku_id}", ""),
                "enabled": f"enabled-{sku_id}" in values,
            }
            for sku_id in (sku.id for sku in skus)
        }
        return await _editor_again(request, product_id, "skus_problem", problem, sku_values=posted)
    return RedirectResponse(_editor_url(product_id, "skus"), status_code=303)


# --- Images ---------------------------------------------------------------------------------

_IMAGE_FIELDS = {
    "catalog.image_too_large": "file",
    "catalog.image_invalid": "file",
    "catalog.image_alt_too_long": "alt",
}


@products.post("/products/{product_id}/images")
async def add_image(request: Request, product_id: Id) -> Response:
    try:
        return await _add_image(request, product_id)
    finally:
        await close_form(request)


async def _add_image(request: Request, product_id: int) -> Response:
    values = await read_form(request)
    locale = locale_of(request)
    upload = await read_upload(request, "file")
    try:
        async with uow() as session:
            auth = await staff_for(request, session, "catalog.write")
            if auth is None:
                return to_login(request)
            if upload is None:
                problem = invalid(request, {"file": gettext("Choose an image file.", locale)})
            else:
                problem = None
                alt = values.get("alt", "").strip()
                checked = await catalog.check_product_image(
                    session, product_id=product_id, data=upload.data, alt=alt, actor=auth.actor
                )
                image = await decode_upload(session, checked)
                await catalog.add_product_image(
                    session,
                    product_id=product_id,
                    image=image,
                    filename=upload.filename,
                    declared_type=upload.content_type,
                    alt=alt,
                    actor=auth.actor,
                )
    except FORM_ERRORS as exc:
        if isinstance(exc, catalog.ProductNotFound):
            raise
        problem = form_problem(exc, locale)
        if isinstance(exc, DomainError) and not problem.fields:
            field = _IMAGE_FIELDS.get(exc.code, "file")
            problem = FormProblem(problem.status, problem.message, {field: problem.message})
    if problem is not None:
        return await _editor_again(request, product_id, "image_problem", problem, image_values=values)
    return RedirectResponse(_editor_url(product_id, "image_added"), status_code=303)


@products.post("/products/{product_id}/images/{image_id}/remove")
async def remove_image(request: Request, product_id: Id, image_id: Id) -> Response:
    await read_form(request)
    async with uow() as session:
        auth = await staff_for(request, session, "catalog.write")
        if auth is None:
            return to_login(request)
        await catalog.remove_product_image(
            session, product_id=product_id, image_id=image_id, actor=auth.actor
        )
    return RedirectResponse(_editor_url(product_id, "image_removed"), status_code=303)


@products.post("/products/{product_id}/images/{image_id}/move")
async def move_image(request: Request, product_id: Id, image_id: Id) -> Response:
    """Move an image one place earlier (``direction=up``) or later (``down``)."""
    values = await read_form(request)
    step = -1 if values.get("direction") == "up" else 1
    async with uow() as session:
        auth = await staff_for(request, session, "catalog.write")
        if auth is None:
            return to_login(request)
        order = [image.id for image in await catalog.list_product_images(session, product_id=product_id)]
        if image_id not in order:
            raise catalog.ProductImageNotFound()
        index = order.index(image_id)
        target = index + step
        if 0 <= target < len(order):
            order[index], order[target] = order[target], order[index]
            await catalog.reorder_product_images(
                session, product_id=product_id, image_ids=order, actor=auth.actor
            )
    return RedirectResponse(_editor_url(product_id, "images_ordered"), status_code=303)


@products.post("/products/{product_id}/spec-images")
async def set_spec_images(request: Request, product_id: Id) -> Response:
    """Tie each value of the picture-driving spec (``attribute_code``) to one of the product's
    images (``image-<value>``, blank for the main picture). A spec other than the one the form
    showed (``shown_attribute``) is chosen without pictures, so the form then lists its values."""
    values = await read_form(request)
    attribute = values.get("attribute_code", "").strip()
    images: dict[str, str | None] = {}
    if attribute == values.get("shown_attribute", ""):
        images = {
            name.removeprefix("image-"): (value.strip() or None)
            for name, value in values.items()
            if name.startswith("image-")
        }
    try:
        async with uow() as session:
            auth = await staff_for(request, session, "catalog.write")
            if auth is None:
                return to_login(request)
            data = catalog.SpecImagesWrite.model_validate(
                {"attribute_code": attribute, "images": images}, context=TEXT_VALUES
            )
            await catalog.set_spec_images(session, product_id=product_id, data=data, actor=auth.actor)
    except FORM_ERRORS as exc:
        if isinstance(exc, catalog.ProductNotFound):
            raise
        problem = problem_of(request, exc)
        return await _editor_again(request, product_id, "pictures_problem", problem, picture_values=values)
    shown = urlencode({"pictures": attribute})  # the spec chosen, even with no picture yet
    return RedirectResponse(f"{_editor_url(product_id, 'spec_images')}&{shown}", status_code=303)


# --- Listing actions ------------------------------------------------------------------------


def _listing_problem(exc: ValidationError | DomainError, locale: str) -> tuple[FormProblem, list[str]]:
    """The refusal, and one line per listing finding (``ListingChecksFailed`` has many)."""
    problem = form_problem(exc, locale)
    lines: list[str] = []
    if isinstance(exc, DomainError):
        for item in exc.fields:
            field, *rest = (str(part) for part in item.loc)
            name = gettext(LISTING_FIELDS[field], locale) if field in LISTING_FIELDS else field
            where = " · ".join([name, *rest])
            lines.append(f"{where}: {gettext(item.message, locale)}")
    return problem, lines


async def _listing_action(request: Request, product_id: Id, action: str) -> Response:
    values = await read_form(request)
    locale = locale_of(request)
    try:
        async with uow() as session:
            auth = await staff_for(request, session, "catalog.write")
            if auth is None:
                return to_login(request)
            if action == "submit":
                await catalog.submit_for_review(session, product_id=product_id, actor=auth.actor)
            elif action == "take_off_sale":
                data = validate(catalog.TakeOffSale, values, "reason")
                await catalog.take_off_sale(session, product_id=product_id, data=data, actor=auth.actor)
            else:
                await catalog.put_on_sale(session, product_id=product_id, actor=auth.actor)
    except FORM_ERRORS as exc:
        if isinstance(exc, catalog.ProductNotFound):
            raise
        problem, findings = _listing_problem(exc, locale)
        return await _editor_again(request, product_id, "listing_problem", problem, listing_findings=findings)
    return RedirectResponse(_editor_url(product_id, "listing"), status_code=303)


@products.post("/products/{product_id}/submit")
async def submit_for_review(request: Request, product_id: Id) -> Response:
    return await _listing_action(request, product_id, "submit")


@products.post("/products/{product_id}/take-off-sale")
async def take_off_sale(request: Request, product_id: Id) -> Response:
    return await _listing_action(request, product_id, "take_off_sale")


@products.post("/products/{product_id}/put-on-sale")
async def put_on_sale(request: Request, product_id: Id) -> Response:
    return await _listing_action(request, product_id, "put_on_sale")


router.include_router(catalog_list.router)
router.include_router(products)
router.include_router(catalog_review.router)
router.include_router(catalog_taxonomy.router)
router.include_router(catalog_import.router)
router.include_router(catalog_terms.router)
router.include_router(catalog_types.router)
