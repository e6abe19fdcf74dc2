"""Store pickup at the counter (到店核销): the clerk picks the store and types the shopper's
8-digit code; the order is handed over (shipped, delivered and completed at once) by
``fulfillment.verify_pickup``, which also limits wrong codes. Permission: fulfillment.pickup."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from mercato import fulfillment, identity, inventory
from mercato.admin.routes._shared import staff_for, to_login
from mercato.core.db import uow
from mercato.web.forms import FORM_ERRORS, FormProblem, form_problem, locale_of, read_form, validate
from mercato.web.templates import render

router = APIRouter(prefix="/admin", include_in_schema=False)

PAGE = "/admin/pickup"
PERMISSION = "fulfillment.pickup"


async def _page(
    request: Request, status: int = 200, *, problem: FormProblem | None = None, values: dict[str, str]
) -> Response:
    async with uow(write=False) as session:
        auth = await staff_for(request, session, PERMISSION)
        if auth is None:
            return to_login(request)
        stores = [
            w
            for w in await inventory.list_warehouses(session, active_only=True)
            if w.kind is inventory.WarehouseKind.store
        ]
    return render(
        request,
        "admin/pickup/verify.html",
        status,
        headers=problem.headers if problem else None,
        staff=auth.staff,
        stores=stores,
        problem=problem,
        values=values,
        done=request.query_params.get("done", "")[:32] if status == 200 else "",
    )


@router.get("/pickup")
async def pickup_page(request: Request) -> Response:
    return await _page(request, values={"store_id": request.query_params.get("store", "")})


@router.post("/pickup")
async def verify(request: Request) -> Response:
    values = await read_form(request)
    values["code"] = "".join(values.get("code", "").split())  # "1234 5678" as read aloud
    try:
        data = validate(fulfillment.PickupVerify, values, "store_id", "code")
        async with uow() as session:
            auth = await staff_for(request, session, PERMISSION)
            if auth is None:
                return to_login(request)
            handed = await fulfillment.verify_pickup(
                session, store_id=data.store_id, code=data.code, actor=auth.actor
            )
    except FORM_ERRORS as exc:
        if isinstance(exc, identity.MissingPermission):
            raise
        problem = form_problem(exc, locale_of(request))
        if not problem.fields:  # the code was refused: say so next to it
            problem = replace(problem, fields={"code": problem.message})
        return await _page(request, problem.status, problem=problem, values={**values, "code": ""})
    query = urlencode({"done": handed.order_number, "store": str(handed.store_id)})
    return RedirectResponse(f"{PAGE}?{query}", status_code=303)
