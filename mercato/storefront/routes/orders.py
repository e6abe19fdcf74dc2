"""The shopper's orders: the list by tab (待付款, 待发货, 待收货 …) with pages, and one order with
its lines, amounts, delivery, invoice, history, parcels with their tracking timelines, the pickup
code (digits and QR image) of a paid store-pickup order, and the actions: pay, cancel an unpaid
order, confirm receipt, ask for after-sales on a line.

Orders are found by number within the signed-in customer's own: another customer's order is the
same 404 as one that does not exist, and no action touches it.
"""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Path, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from mercato import aftersales, catalog, checkout, fulfillment, identity, inventory, orders
from mercato.core.db import uow
from mercato.storefront.routes.account import (
    ORDER_TABS,
    account_action,
    account_nav,
    render_account,
    tab_counts,
    to_login,
)
from mercato.web.forms import read_form, validate
from mercato.web.session import CustomerSession, current_customer

router = APIRouter(include_in_schema=False)

LIST_PAGE = "storefront/orders/list.html"
DETAIL_PAGE = "storefront/orders/detail.html"
PAGE_SIZE = 10
Number = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z-]+$")]
OrderId = Annotated[int, Path(ge=1, le=2**63 - 1)]
#: Orders whose lines may be asked about after-sales (the domain decides what is possible).
AFTERSALES_STATUSES = frozenset(
    {
        orders.OrderStatus.paid,
        orders.OrderStatus.partially_shipped,
        orders.OrderStatus.shipped,
        orders.OrderStatus.delivered,
        orders.OrderStatus.completed,
    }
)


def _actor(auth: CustomerSession) -> identity.Actor:
    return identity.Actor(staff_id=None, label=f"customer:{auth.customer.id}")


def pay_link(order: orders.OrderSummary) -> str:
    """Where 立即付款 on an unpaid order goes: ``/account/orders/<number>/pay``, which opens the
    pay page of the order's latest payment (go to the gateway, or pay again another way)."""
    return f"/account/orders/{order.number}/pay"


async def find_order(session: AsyncSession, *, customer_id: int, number: str) -> orders.OrderRead:
    """The customer's order with this number.

    Raises:
        OrderNotFound (404): none, or another customer's.
    """
    page = await orders.list_orders(session, customer_id=customer_id, number=number, limit=1)
    if not page.items:
        raise orders.OrderNotFound()
    return await orders.read_order(session, order_id=page.items[0].id, customer_id=customer_id)


async def _detail_context(session: AsyncSession, auth: CustomerSession, *, number: str) -> dict[str, Any]:
    order = await find_order(session, customer_id=auth.customer.id, number=number)
    shipments = await fulfillment.list_order_shipments(
        session, order_id=order.id, customer_id=auth.customer.id
    )
    pickup = store = None
    if order.pickup_store_id is not None:
        try:
            pickup = await fulfillment.get_pickup_code(
                session, order_id=order.id, customer_id=auth.customer.id
            )
        except fulfillment.PickupCodeNotFound:
            pickup = None
        try:
            store = await inventory.get_warehouse(session, warehouse_id=order.pickup_store_id)
        except inventory.WarehouseNotFound:
            store = None
    return {
        **await account_nav(session, auth, "orders"),
        "order": order,
        "specs": await catalog.name_specs(session, specs={line.sku_id: line.spec for line in order.lines}),
        "shipments": shipments,
        "pickup": pickup,
        "store": store,
        "pay_url": pay_link(order),
        "can_ask_aftersales": order.status in AFTERSALES_STATUSES,
        "aftersales_windows": (
            await aftersales.aftersales_windows(session, order=order)
            if order.status in AFTERSALES_STATUSES
            else {}
        ),
    }


#: An action on the shopper's order, in the writing unit of work (form values at hand).
OrderAction = Callable[[AsyncSession, CustomerSession, orders.OrderRead, dict[str, str]], Awaitable[object]]


async def _order_action(
    request: Request, number: str, *, form: str, notice: str, act: OrderAction
) -> Response:
    """Do ``act`` on the customer's order, then back to its page with ``notice``; a refusal shows
    the order page again with it next to ``form``. Another customer's order is a 404."""
    values = await read_form(request)

    async def on_order(session: AsyncSession, auth: CustomerSession) -> None:
        order = await find_order(session, customer_id=auth.customer.id, number=number)
        await act(session, auth, order, values)

    return await account_action(
        request,
        on_order,
        done=f"/account/orders/{number}?notice={notice}",
        not_found=orders.OrderNotFound,
        page=DETAIL_PAGE,
        load=partial(_detail_context, number=number),
        problem_form=form,
        values=values,
    )


@router.get("/account/orders")
async def order_list(request: Request) -> Response:
    tab = request.query_params.get("tab", "all")
    if tab not in ORDER_TABS:
        tab = "all"
    cursor = request.query_params.get("cursor") or None

    async def load(session: AsyncSession, auth: CustomerSession) -> dict[str, Any]:
        counts = await orders.count_orders_by_status(session, customer_id=auth.customer.id)
        page = await orders.list_customer_orders(
            session,
            customer_id=auth.customer.id,
            statuses=ORDER_TABS.get(tab, ()),
            cursor=cursor,
            limit=PAGE_SIZE,
        )
        lines = [line for order in page.items for line in order.lines]
        return {
            **await account_nav(session, auth, "orders"),
            "tab_counts": {"all": sum(counts.values()), **tab_counts(counts)},
            "orders": page.items,
            "specs": await catalog.name_specs(session, specs={line.sku_id: line.spec for line in lines}),
            "next_cursor": page.next_cursor,
        }

    return await render_account(
        request,
        LIST_PAGE,
        load,
        tab=tab,
        tabs=("all", *ORDER_TABS),
        first_page=cursor is None,
        pay_link=pay_link,
    )


@router.get("/account/orders/by-id/{order_id}")
async def order_by_id(request: Request, order_id: OrderId) -> Response:
    """Messages name orders by id: go to the order's page (another customer's is 404)."""
    async with uow(write=False) as session:
        auth = await current_customer(request, session)
        if auth is None:
            return to_login(request)
        order = await orders.read_order(session, order_id=order_id, customer_id=auth.customer.id)
    return RedirectResponse(f"/account/orders/{order.number}", status_code=303)


@router.get("/account/orders/{number}")
async def order_detail(request: Request, number: Number) -> Response:
    notice = request.query_params.get("notice")
    return await render_account(
        request,
        DETAIL_PAGE,
        partial(_detail_context, number=number),
        notice=notice if notice in {"cancelled", "received"} else None,
        values={},
    )


@router.get("/account/orders/{number}/pay")
async def pay_order(request: Request, number: Number) -> Response:
    """立即付款: the pay page of the order's latest payment, where the shopper goes to the gateway
    (a pending payment) or pays again (a failed or closed one); an order with nothing to pay
    (paid, cancelled) shows its result."""
    async with uow(write=False) as session:
        auth = await current_customer(request, session)
        if auth is None:
            return to_login(request)
        found = await checkout.get_order_outcome(session, customer_id=auth.customer.id, number=number)
    if found.payment is not None and found.outcome in {
        checkout.PayOutcome.waiting,
        checkout.PayOutcome.failed,
    }:
        return RedirectResponse(f"/pay/{found.payment.id}", status_code=303)
    return RedirectResponse(f"/checkout/result/{number}", status_code=303)


@router.get("/account/orders/{number}/pickup-code.svg")
async def pickup_qr(request: Request, number: Number) -> Response:
    """The pickup code as a QR image for the store's scanner; 404 once used or for anyone else."""
    async with uow(write=False) as session:
        auth = await current_customer(request, session)
        if auth is None:
            return to_login(request)
        order = await find_order(session, customer_id=auth.customer.id, number=number)
        pickup = await fulfillment.get_pickup_code(session, order_id=order.id, customer_id=auth.customer.id)
    if pickup.code is None:
        raise fulfillment.PickupCodeNotFound()
    buffer = io.BytesIO()
    segno.make(pickup.code, error="m").save(buffer, kind="svg", scale=6, border=2, xmldecl=False)
    return Response(buffer.getvalue(), media_type="image/svg+xml", headers={"cache-control": "no-store"})


@router.post("/account/orders/{number}/cancel")
async def cancel(request: Request, number: Number) -> Response:
    async def act(
        session: AsyncSession, auth: CustomerSession, order: orders.OrderRead, values: dict[str, str]
    ) -> None:
        data = validate(orders.CancelOrder, values, "reason")
        await checkout.cancel_order(
            session, order_id=order.id, reason=data.reason, actor=_actor(auth), customer_id=auth.customer.id
        )

    return await _order_action(request, number, form="cancel", notice="cancelled", act=act)


@router.post("/account/orders/{number}/confirm-receipt")
async def confirm_receipt(request: Request, number: Number) -> Response:
    """确认收货: the shopper confirms a delivered order arrived; it completes now."""

    async def act(
        session: AsyncSession, auth: CustomerSession, order: orders.OrderRead, values: dict[str, str]
    ) -> None:
        await orders.complete_order(
            session, order_id=order.id, actor=_actor(auth), reason=orders.RECEIPT_CONFIRMED
        )

    return await _order_action(request, number, form="receipt", notice="received", act=act)
