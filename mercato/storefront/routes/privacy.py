"""Privacy (PIPL art. 44-47): download my data, and delete my account (注销账号) confirmed with
the password or an SMS code, as identity's deletion service demands. Deleting signs out
everywhere and shows what is kept, anonymously, for legal reasons."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from mercato import identity
from mercato.core.db import uow
from mercato.core.i18n import N_
from mercato.storefront.routes.account import account_nav, to_login
from mercato.web.forms import FORM_ERRORS, form_problem, locale_of, read_form, validate
from mercato.web.session import (
    CUSTOMER_COOKIE,
    CUSTOMER_COOKIE_PATH,
    clear_session_cookie,
    current_customer,
    request_meta,
)
from mercato.web.templates import render

router = APIRouter(include_in_schema=False)

PAGE = "storefront/account/privacy.html"
DELETED = "/account/deleted"
#: The form field a refusal of the deletion is shown next to.
FIELD_OF_ERROR = {
    "identity.password_incorrect": "password",
    "identity.confirmation_required": "password",
}


async def _page(
    request: Request, status_code: int = 200, headers: dict[str, str] | None = None, **context: Any
) -> Response:
    async with uow(write=False) as session:
        auth = await current_customer(request, session)
        if auth is None:
            return to_login(request)
        nav = await account_nav(session, auth, "privacy")
    return render(
        request, PAGE, status_code, headers=headers, **nav, **{"values": {}, "code_sent": False, **context}
    )


@router.get("/account/privacy")
async def privacy(request: Request) -> Response:
    return await _page(request)


@router.post("/account/privacy/delete/code")
async def send_delete_code(request: Request) -> Response:
    """Text a delete_account code to the customer's own mobile number."""
    await read_form(request)
    try:
        async with uow() as session:
            auth = await current_customer(request, session)
            if auth is None:
                return to_login(request)
            if auth.customer.phone is None:
                raise identity.InvalidCredentials(
                    N_("Confirm with your password or an SMS code."), code="identity.confirmation_required"
                )
            await identity.send_code(
                session,
                phone=auth.customer.phone,
                purpose=identity.CodePurpose.delete_account,
                meta=request_meta(request),
            )
    except FORM_ERRORS as exc:
        problem = form_problem(exc, locale_of(request))
        return await _page(request, problem.status, problem.headers, problem=problem, problem_form="code")
    return await _page(request, code_sent=True)


@router.post("/account/privacy/delete")
async def delete_account(request: Request) -> Response:
    values = await read_form(request)
    by_code = values.get("method") == "code"
    try:
        data = validate(identity.DeleteAccount, values, "code" if by_code else "password")
        async with uow() as session:
            auth = await current_customer(request, session)
            if auth is None:
                return to_login(request)
            await identity.delete_customer(session, customer_id=auth.customer.id, data=data)
    except FORM_ERRORS as exc:
        problem = form_problem(exc, locale_of(request))
        field = "code" if by_code else FIELD_OF_ERROR.get(getattr(exc, "code", ""))
        if field and field not in problem.fields:
            problem = replace(problem, fields={**problem.fields, field: problem.message})
        return await _page(
            request,
            problem.status,
            problem.headers,
            problem=problem,
            problem_form="code" if by_code else "password",
            code_sent=by_code,
        )
    response = RedirectResponse(DELETED, status_code=303)
    clear_session_cookie(response, CUSTOMER_COOKIE, path=CUSTOMER_COOKIE_PATH)
    return response


@router.get("/account/deleted")
async def deleted(request: Request) -> Response:
    """Shown once the account is gone: what was erased, and what is kept anonymously."""
    return render(request, "storefront/account/deleted.html")
