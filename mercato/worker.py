"""The worker composition root: the Taskiq broker, the scheduler, and every job and event handler.

``mercato worker`` runs the receiver and the scheduler in one process. In embedded mode the web
process runs the scheduler itself and jobs execute in-process.
"""

from __future__ import annotations

import asyncio

import structlog
from taskiq.api import run_receiver_task, run_scheduler_task

from mercato import aftersales, fulfillment, identity, inventory, orders, payments, promotions, social
from mercato.aftersales import handlers as aftersales_handlers
from mercato.aftersales import tasks as aftersales_tasks
from mercato.catalog import handlers as catalog_handlers
from mercato.checkout import handlers as checkout_handlers
from mercato.checkout import tasks as checkout_tasks
from mercato.core import events, jobs
from mercato.core.jobs import broker, scheduler
from mercato.fulfillment import handlers as fulfillment_handlers
from mercato.fulfillment import tasks as fulfillment_tasks
from mercato.inventory import tasks as inventory_tasks
from mercato.notify import handlers as notify_handlers
from mercato.notify import tasks as notify_tasks
from mercato.orders import handlers as orders_handlers
from mercato.orders import tasks as orders_tasks
from mercato.payments import tasks as payments_tasks
from mercato.promotions import handlers as promotions_handlers
from mercato.promotions import tasks as promotions_tasks
from mercato.social import handlers as social_handlers
from mercato.social import tasks as social_tasks

log = structlog.get_logger(__name__)


def register() -> None:
    """Import every domain's tasks and subscribe every handler (idempotent)."""
    _ = jobs.deliver_outbox
    _ = inventory_tasks.expire_due_reservations
    _ = (payments_tasks.close_expired, payments_tasks.resume_refunds)
    _ = payments_tasks.send_sandbox_notifications
    _ = (checkout_tasks.cancel_unpaid, orders_tasks.complete_delivered)
    _ = fulfillment_tasks.subscribe_tracking
    _ = (fulfillment_tasks.run_order_export, fulfillment_tasks.sweep_order_exports)
    _ = notify_tasks.send_emails
    _ = aftersales_tasks.check_refunds
    _ = (promotions_tasks.run_issue, promotions_tasks.resume_issue_runs, promotions_tasks.expire_coupons)
    _ = (promotions_tasks.remind_expiring, promotions_tasks.win_back)
    _ = promotions_tasks.enforce_campaign_budgets
    _ = (social_tasks.flash_upkeep, social_tasks.group_upkeep)
    events.subscribe(inventory.StockLevelChanged, catalog_handlers.on_stock_level_changed)
    events.subscribe(payments.PaymentCaptured, orders_handlers.on_payment_captured)
    events.subscribe(orders.OrderPaid, checkout_handlers.on_order_paid)
    events.subscribe(orders.OrderCancelled, checkout_handlers.on_order_cancelled)
    events.subscribe(orders.OrderPaymentRefused, checkout_handlers.on_order_payment_refused)
    events.subscribe(orders.OrderPaid, fulfillment_handlers.on_order_paid)
    events.subscribe(orders.OrderClosed, fulfillment_handlers.on_order_closed)
    events.subscribe(orders.OrderPaid, notify_handlers.on_order_paid)
    events.subscribe(orders.OrderShipped, notify_handlers.on_order_shipped)
    events.subscribe(orders.OrderDelivered, notify_handlers.on_order_delivered)
    events.subscribe(payments.PaymentRefunded, notify_handlers.on_payment_refunded)
    events.subscribe(identity.CustomerDeleted, notify_handlers.on_customer_deleted)
    events.subscribe(identity.EmailCodeIssued, notify_handlers.on_email_code_issued)
    events.subscribe(
        identity.ExistingAccountSignUpAttempted, notify_handlers.on_existing_account_sign_up_attempted
    )
    events.subscribe(payments.PaymentRefunded, aftersales_handlers.on_payment_refunded)
    events.subscribe(aftersales.AftersalesDecided, notify_handlers.on_aftersales_decided)
    events.subscribe(fulfillment.PickupCodeIssued, notify_handlers.on_pickup_code_issued)
    events.subscribe(promotions.CouponExpiring, notify_handlers.on_coupon_expiring)
    events.subscribe(identity.CustomerRegistered, promotions_handlers.on_customer_registered)
    events.subscribe(orders.OrderPaid, orders_handlers.on_order_paid_for_promotions)
    events.subscribe(orders.OrderCancelled, orders_handlers.on_order_cancelled_for_promotions)
    events.subscribe(orders.OrderClosed, orders_handlers.on_order_closed_for_promotions)
    events.subscribe(orders.OrderDelivered, orders_handlers.on_order_delivered_for_promotions)
    events.subscribe(payments.PaymentRefunded, orders_handlers.on_payment_refunded_for_promotions)
    events.subscribe(orders.OrderPaid, social_handlers.on_order_paid)
    events.subscribe(orders.OrderCancelled, social_handlers.on_order_cancelled)
    events.subscribe(orders.OrderClosed, social_handlers.on_order_closed)
    events.subscribe(social.FlashSaleStarting, notify_handlers.on_flash_sale_starting)
    events.subscribe(social.GroupCompleted, notify_handlers.on_group_completed)
    events.subscribe(social.GroupFailed, notify_handlers.on_group_failed)


async def run_worker(*, with_scheduler: bool = True) -> None:
    """Receive jobs from the broker (and run the scheduler) until cancelled."""
    register()
    await broker.startup()
    tasks = [asyncio.create_task(run_receiver_task(broker, run_startup=False))]
    if with_scheduler:
        tasks.append(asyncio.create_task(run_scheduler_task(scheduler)))
    log.info("worker.started", scheduler=with_scheduler)
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await broker.shutdown()


async def run_embedded_scheduler() -> None:
    """The in-process scheduler of embedded mode (jobs run on the in-memory broker)."""
    register()
    await broker.startup()
    try:
        await run_scheduler_task(scheduler)
    finally:
        await broker.shutdown()
