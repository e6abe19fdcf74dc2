"""Refunds WeChat Pay accepts but has not finished (PROCESSING): the refund stays pending and
keeps its claim, and is settled exactly once, by its REFUND.* notification or by the
payments-resume-refunds job asking WeChat Pay, whichever comes first."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import pytest
from httpx import AsyncClient

from mercato import payments
from mercato.core import clock
from mercato.core.db import uow
from tests.factories.identity import SYSTEM
from tests.factories.payments import counts, notification_outcomes, outbox, read_payment
from tests.providers.fake_wechatpay import FakeWeChatPay, configure, running_fake_wechatpay


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeWeChatPay]:
    async with running_fake_wechatpay() as server:
        configure(monkeypatch, server)
        yield server


async def paid(client: AsyncClient, fake: FakeWeChatPay, amount: int = 10_000) -> payments.PaymentRead:
    """A WeChat Pay payment, paid and notified."""
    async with uow() as s:
        created = await payments.create_payment(
            s,
            reference="order:42",
            customer_id=None,
            amount=amount,
            currency="CNY",
            provider="wechatpay",
            expires_in=dt.timedelta(minutes=30),
        )
    trade_no = fake.pay(str(created.id).zfill(6)).out_trade_no
    assert (await fake.notify(client, fake.transaction_notification(trade_no))).text == "success"
    return await read_payment(created.id)


async def pending_refund(
    fake: FakeWeChatPay, payment_id: int, amount: int, key: str = "k1"
) -> payments.RefundRead:
    """A refund WeChat Pay answered PROCESSING: still pending here, with WeChat's refund id."""
    fake.refund_status = "PROCESSING"
    async with uow() as s:
        claimed = await payments.refund_payment(
            s, payment_id=payment_id, amount=amount, reason="returned", idempotency_key=key, actor=SYSTEM
        )
    refund = await refund_view(payment_id, claimed.id)
    assert (refund.status, refund.provider_refund_id) == (
        payments.RefundStatus.pending,
        fake.refunds[str(claimed.id)].refund_id,
    )
    return refund


async def refund_view(payment_id: int, refund_id: int) -> payments.RefundRead:
    async with uow(write=False) as s:
        return await payments.get_refund(s, payment_id=payment_id, refund_id=refund_id)


async def refunded_events() -> list[tuple[int, int, bool]]:
    return [
        (e["amount"], e["refunded_total"], e["is_full"])
        for name, e in await outbox()
        if name == "payments.payment_refunded.v1"
    ]


async def test_a_pending_refund_keeps_its_claim_until_the_job_finds_it_done(
    client: AsyncClient, fake: FakeWeChatPay
) -> None:
    payment = await paid(client, fake)
    refund = await pending_refund(fake, payment.id, 4_000)
    claimed = await read_payment(payment.id)

    too_soon = await payments.resume_pending_refunds()
    clock.advance(dt.timedelta(minutes=3))
    still_processing = await payments.resume_pending_refunds()
    fake.finish_refund(str(refund.id))
    finished = await payments.resume_pending_refunds()
    late_notification = await fake.notify(client, fake.refund_notification(str(refund.id)))
    again = await payments.resume_pending_refunds()

    assert (claimed.status, claimed.refunded_amount) == (payments.PaymentStatus.paid, 4_000)
    assert (too_soon, still_processing, finished, again) == (0, 0, 1, 0)
    assert (await refund_view(payment.id, refund.id)).status is payments.RefundStatus.succeeded
    final = await read_payment(payment.id)
    assert (final.status, final.refunded_amount) == (payments.PaymentStatus.partially_refunded, 4_000)
    assert late_notification.text == "success"
    assert [outcome for _, status, outcome in await notification_outcomes(payment.id)] == [
        "captured",
        "ignored",
    ]
    assert await refunded_events() == [(4_000, 4_000, False)]
    assert (
        fake.calls.count(f"GET /v3/refund/domestic/refunds/{refund.id}") == 2
    )  # looked up, never asked again
    assert fake.calls.count("POST /v3/refund/domestic/refunds") == 1


async def test_the_notification_and_the_job_at_once_settle_the_refund_once(
    client: AsyncClient, fake: FakeWeChatPay
) -> None:
    payment = await paid(client, fake)
    refund = await pending_refund(fake, payment.id, 10_000)
    fake.finish_refund(str(refund.id))
    clock.advance(dt.timedelta(minutes=3))
    body = fake.refund_notification(str(refund.id))

    answer, resumed = await asyncio.gather(fake.notify(client, body), payments.resume_pending_refunds())

    assert answer.text == "success"
    final = await read_payment(payment.id)
    assert (final.status, final.refunded_amount) == (payments.PaymentStatus.refunded, 10_000)
    assert await refunded_events() == [(10_000, 10_000, True)]
    assert resumed in {0, 1}  # 1 when the job settled it, or found it settled while it asked
    outcomes = [outcome for _, _, outcome in await notification_outcomes(payment.id)]
    assert outcomes[0] == "captured"
    assert outcomes[1] in {"refund_succeeded", "ignored"}  # whichever came first settled it


async def test_a_closed_refund_fails_and_gives_its_claim_back(
    client: AsyncClient, fake: FakeWeChatPay
) -> None:
    payment = await paid(client, fake)
    refund = await pending_refund(fake, payment.id, 10_000)
    fake.finish_refund(str(refund.id), "CLOSED")

    answer = await fake.notify(client, fake.refund_notification(str(refund.id)))
    fake.refund_status = "SUCCESS"
    async with uow() as s:
        second = await payments.refund_payment(
            s, payment_id=payment.id, amount=10_000, reason="again", idempotency_key="k2", actor=SYSTEM
        )

    assert answer.text == "success"
    failed = await refund_view(payment.id, refund.id)
    assert (failed.status, failed.failure_reason) == (payments.RefundStatus.failed, "closed by WeChat Pay")
    assert (await refund_view(payment.id, second.id)).status is payments.RefundStatus.succeeded
    final = await read_payment(payment.id)
    assert (final.status, final.refunded_amount) == (payments.PaymentStatus.refunded, 10_000)
    assert await refunded_events() == [(10_000, 10_000, True)]
    assert [outcome for _, _, outcome in await notification_outcomes(payment.id)] == [
        "captured",
        "refund_failed",
    ]


async def test_an_abnormal_refund_stays_pending_and_asks_for_a_person(
    client: AsyncClient, fake: FakeWeChatPay
) -> None:
    payment = await paid(client, fake)
    refund = await pending_refund(fake, payment.id, 3_000)
    fake.finish_refund(str(refund.id), "ABNORMAL")

    abnormal = await fake.notify(client, fake.refund_notification(str(refund.id)))
    flagged = await read_payment(payment.id)
    fake.finish_refund(str(refund.id), "SUCCESS")  # handled on the merchant platform
    done = await fake.notify(client, fake.refund_notification(str(refund.id)))

    assert (abnormal.text, done.text) == ("success", "success")
    assert (flagged.needs_review, flagged.refunded_amount, flagged.status) == (
        True,
        3_000,
        payments.PaymentStatus.paid,
    )
    assert flagged.review_reason.startswith(f"refund {refund.id}: abnormal at WeChat Pay")
    assert (await refund_view(payment.id, refund.id)).status is payments.RefundStatus.succeeded
    assert [outcome for _, _, outcome in await notification_outcomes(payment.id)] == [
        "captured",
        "refund_pending",
        "refund_succeeded",
    ]
    assert await refunded_events() == [(3_000, 3_000, False)]


async def test_a_refund_notification_with_another_amount_settles_nothing(
    client: AsyncClient, fake: FakeWeChatPay
) -> None:
    payment = await paid(client, fake)
    refund = await pending_refund(fake, payment.id, 3_000)
    fake.finish_refund(str(refund.id))
    body = fake.refund_notification(str(refund.id), amount={"total": 10_000, "refund": 9_000})

    answer = await fake.notify(client, body)

    assert answer.text == "success"
    flagged = await read_payment(payment.id)
    assert (flagged.needs_review, flagged.review_reason) == (
        True,
        f"refund {refund.id} amount mismatch: provider reported 9000 CNY, expected 3000 CNY",
    )
    assert (await refund_view(payment.id, refund.id)).status is payments.RefundStatus.pending
    assert await refunded_events() == []


@pytest.mark.parametrize("case", ["unknown_refund", "another_payments_refund"])
async def test_a_notification_for_a_refund_not_ours_is_refused(
    client: AsyncClient, fake: FakeWeChatPay, case: str
) -> None:
    payment = await paid(client, fake)
    refund = await pending_refund(fake, payment.id, 3_000)
    fake.finish_refund(str(refund.id))
    changes = {"out_refund_no": "999999"} if case == "unknown_refund" else {"out_trade_no": "000999"}
    before = await counts()

    answer = await fake.notify(client, fake.refund_notification(str(refund.id), **changes))

    assert (answer.status_code, answer.json()["code"]) == (400, "payments.unknown_payment")
    assert await counts() == before
    assert (await refund_view(payment.id, refund.id)).status is payments.RefundStatus.pending
