"""The sandbox gateway's pay page: pay or fail a sandbox trade, with options for testing how the
shop copes with late, duplicated and out-of-order notifications.

It stands in for a real gateway's hosted page, so it needs no sign-in: knowing the trade id (an
unguessable token in the pay URL) is enough, as with a real gateway's payment link.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from starlette.responses import RedirectResponse, Response

from mercato import payments
from mercato.core.db import uow
from mercato.core.money import Money
from mercato.web.forms import FORM_ERRORS, form_problem, locale_of, read_form, validate
from mercato.web.templates import render

router = APIRouter(include_in_schema=False)

PAGE = "storefront/sandbox/pay.html"
TradeId = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_\-]+$")]


def _page(
    request: Request, checkout: payments.SandboxCheckout, status_code: int = 200, **context: Any
) -> Response:
    amount = Money(checkout.amount, checkout.currency).format(locale_of(request))
    return render(request, PAGE, status_code, checkout=checkout, amount_text=amount, **context)


@router.get("/sandbox-gateway/pay/{trade_id}")
async def pay_page(request: Request, trade_id: TradeId) -> Response:
    async with uow(write=False) as session:
        checkout = await payments.get_sandbox_checkout(session, trade_id=trade_id)
    submitted = request.query_params.get("submitted") == "1"
    return _page(request, checkout, submitted=submitted, values={})


@router.post("/sandbox-gateway/pay/{trade_id}")
async def pay(request: Request, trade_id: TradeId) -> Response:
    values = await read_form(request)
    try:
        data = validate(
            payments.SandboxPay,
            values,
            "outcome",
            "delay_seconds",
            "amount",
            checkboxes=("duplicate", "out_of_order"),
        )
        async with uow() as session:
            await payments.submit_sandbox_payment(session, trade_id=trade_id, data=data)
    except FORM_ERRORS as exc:
        problem = form_problem(exc, locale_of(request))
        async with uow(write=False) as session:
            checkout = await payments.get_sandbox_checkout(session, trade_id=trade_id)
        return _page(request, checkout, problem.status, submitted=False, problem=problem, values=values)
    return RedirectResponse(f"/sandbox-gateway/pay/{trade_id}?submitted=1", status_code=303)
