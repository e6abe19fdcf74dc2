"""The address book: list, add, edit, delete and choose the default address.

Only the signed-in customer's own addresses are reachable: identity's address services are
scoped to the owner, so another customer's address id is a 404 and nothing changes.

The province → city → district pickers come from identity's division data: changing one asks
``GET /account/addresses/regions`` (htmx) for the three again; without script the form's
"Show cities and districts" button posts ``action=regions`` and the page comes back with the
next picker filled, nothing saved. An address saved before the pickers whose names are not in
the division data can still be made the default; its edit page asks for the region again. A
pasted address line posted with ``action=parse`` comes back parsed into the fields (识别),
nothing saved. A new address starts with the account's name and mobile number.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from mercato import identity
from mercato.core.db import uow
from mercato.core.errors import DomainError
from mercato.web.forms import FORM_ERRORS, FormProblem, form_problem, locale_of, read_form, validate
from mercato.web.session import CustomerSession, current_customer, login_redirect
from mercato.web.templates import render

router = APIRouter(include_in_schema=False)

LOGIN = "/account/login"
BOOK = "/account/addresses"
LIST_PAGE = "storefront/addresses/list.html"
EDIT_PAGE = "storefront/addresses/edit.html"
FIELDS = ("recipient", "phone", "province", "city", "district", "detail", "postal_code")
#: Notices a redirect may ask the list to show (by key, never free text from the URL).
NOTICES = frozenset({"added", "saved", "deleted", "default"})
AddressId = Annotated[int, Path(ge=1, le=2**63 - 1)]
REGION_PICKER = "storefront/addresses/partials/_region_picker.html"
#: The forms the region pickers may belong to (their element ids start with it).
REGION_FORMS = frozenset({"address"})


def address_problem(exc: ValidationError | DomainError, locale: str) -> FormProblem:
    """The form's problem; a refused phone number (a domain error) shows next to its field."""
    problem = form_problem(exc, locale)
    if isinstance(exc, identity.PhoneInvalid):
        return FormProblem(problem.status, problem.message, {"phone": problem.message})
    return problem


def read_address(values: dict[str, str]) -> identity.AddressWrite:
    """Raises: ValidationError."""
    return validate(identity.AddressWrite, values, *FIELDS, checkboxes=("is_default",))


def regions_for(values: dict[str, str]) -> identity.RegionChoices:
    """The region pickers for the form's values."""
    return identity.region_choices(
        province=values.get("province", ""), city=values.get("city", ""), district=values.get("district", "")
    )


def new_address_values(customer: identity.CustomerRead) -> dict[str, str]:
    """A new address starts with the account's name and mobile number."""
    return {"recipient": customer.name, "phone": identity.national_phone(customer.phone or "")}


def form_again(values: dict[str, str]) -> dict[str, Any] | None:
    """For a post that asks for the form again rather than a save (``action`` is ``parse``: the
    pasted line read into the fields; ``regions``: the next picker filled), the page's context;
    None for a save."""
    action = values.get("action")
    if action == "regions":
        return {"values": values}
    if action != "parse":
        return None
    paste = values.get("paste", "")[:500]
    parsed = identity.parse_address_line(paste).model_dump()
    found = {name: value for name, value in parsed.items() if value}
    return {"values": {**values, **found}, "paste": paste, "parsed": bool(found)}


async def _list(request: Request, auth: CustomerSession, status_code: int = 200, **context: Any) -> Response:
    async with uow(write=False) as session:
        addresses = await identity.list_addresses(session, customer_id=auth.customer.id)
    notice = request.query_params.get("notice")
    context.setdefault("values", new_address_values(auth.customer))
    context.setdefault("problem", None)
    return render(
        request,
        LIST_PAGE,
        status_code,
        customer=auth.customer,
        addresses=addresses,
        notice=notice if notice in NOTICES else None,
        regions=regions_for(context["values"]),
        **context,
    )


async def _auth(request: Request) -> CustomerSession | Response:
    async with uow(write=False) as session:
        auth = await current_customer(request, session)
    return auth if auth is not None else login_redirect(LOGIN, request)


@router.get("/account/addresses/regions")
async def region_picker(request: Request) -> Response:
    """The three region pickers for the names chosen so far (an htmx fragment)."""
    values = {name: request.query_params.get(name, "")[:30] for name in ("province", "city", "district")}
    form_id = request.query_params.get("region_form", "")
    return render(
        request,
        REGION_PICKER,
        form_id=form_id if form_id in REGION_FORMS else "address",
        regions=regions_for(values),
    )


@router.get("/account/addresses")
async def address_book(request: Request) -> Response:
    auth = await _auth(request)
    if isinstance(auth, Response):
        return auth
    return await _list(request, auth)


@router.post("/account/addresses")
async def add_address(request: Request) -> Response:
    values = await read_form(request)
    auth = await _auth(request)
    if isinstance(auth, Response):
        return auth
    again = form_again(values)
    if again is not None:
        return await _list(request, auth, **again)
    try:
        data = read_address(values)
        async with uow() as session:
            await identity.add_address(session, customer_id=auth.customer.id, data=data)
    except FORM_ERRORS as exc:
        problem = address_problem(exc, locale_of(request))
        return await _list(request, auth, problem.status, values=values, problem=problem)
    return RedirectResponse(f"{BOOK}?notice=added", status_code=303)


@router.get("/account/addresses/{address_id}/edit")
async def edit_page(request: Request, address_id: AddressId) -> Response:
    auth = await _auth(request)
    if isinstance(auth, Response):
        return auth
    async with uow(write=False) as session:
        address = await identity.get_address(session, customer_id=auth.customer.id, address_id=address_id)
    values = {name: str(getattr(address, name)) for name in FIELDS}
    if address.is_default:
        values["is_default"] = "1"
    regions = regions_for(values)
    return render(
        request,
        EDIT_PAGE,
        customer=auth.customer,
        address=address,
        values=values,
        regions=regions,
        region_outdated=(regions.province, regions.city, regions.district)
        != (address.province, address.city, address.district),
        problem=None,
    )


@router.post("/account/addresses/{address_id}")
async def save_address(request: Request, address_id: AddressId) -> Response:
    values = await read_form(request)
    auth = await _auth(request)
    if isinstance(auth, Response):
        return auth
    problem: FormProblem | None = None
    try:
        if values.get("action") != "regions":  # the no-script pickers' step saves nothing
            data = read_address(values)
            async with uow() as session:
                await identity.update_address(
                    session, customer_id=auth.customer.id, address_id=address_id, data=data
                )
            return RedirectResponse(f"{BOOK}?notice=saved", status_code=303)
    except FORM_ERRORS as exc:
        if isinstance(exc, identity.AddressNotFound):
            raise
        problem = address_problem(exc, locale_of(request))
    async with uow(write=False) as session:
        address = await identity.get_address(session, customer_id=auth.customer.id, address_id=address_id)
    return render(
        request,
        EDIT_PAGE,
        problem.status if problem else 200,
        customer=auth.customer,
        address=address,
        values=values,
        regions=regions_for(values),
        problem=problem,
    )


async def _change(
    request: Request, notice: str, change: Callable[[AsyncSession, CustomerSession], Awaitable[object]]
) -> Response:
    """A one-click change to the address book (no fields), then back to it with ``notice``."""
    await read_form(request)
    auth = await _auth(request)
    if isinstance(auth, Response):
        return auth
    async with uow() as session:
        await change(session, auth)
    return RedirectResponse(f"{BOOK}?notice={notice}", status_code=303)


@router.post("/account/addresses/{address_id}/delete")
async def delete_address(request: Request, address_id: AddressId) -> Response:
    async def change(session: AsyncSession, auth: CustomerSession) -> None:
        await identity.delete_address(session, customer_id=auth.customer.id, address_id=address_id)

    return await _change(request, "deleted", change)


@router.post("/account/addresses/{address_id}/default")
async def make_default(request: Request, address_id: AddressId) -> Response:
    async def change(session: AsyncSession, auth: CustomerSession) -> None:
        await identity.set_default_address(session, customer_id=auth.customer.id, address_id=address_id)

    return await _change(request, "default", change)
