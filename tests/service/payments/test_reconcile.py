"""Reconciliation: statements in Stripe's, Alipay's and WeChat Pay's documented CSV formats, built
here, read into lines and compared with payment and refund rows, listing every difference."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence

import pytest
from sqlalchemy import update

from mercato import payments
from mercato.core.db import uow
from mercato.payments.models import Payment, Refund

UTC = dt.UTC
BEIJING = dt.timezone(dt.timedelta(hours=8))

# -- statement files, as the providers write them ----------------------------------------------

#: Stripe Dashboard → Payments → Export (all columns), with our two metadata keys.
STRIPE_HEADER = [
    "id",
    "Description",
    "Seller Message",
    "Created (UTC)",
    "Amount",
    "Amount Refunded",
    "Currency",
    "Converted Amount",
    "Converted Amount Refunded",
    "Fee",
    "Tax",
    "Converted Currency",
    "Mode",
    "Status",
    "Statement Descriptor",
    "Customer ID",
    "Customer Description",
    "Customer Email",
    "Captured",
    "Card ID",
    "Card Last4",
    "Card Brand",
    "Disputed Amount",
    "Dispute Status",
    "Invoice ID",
    "Payment Source Type",
    "Destination",
    "Transfer",
    "Transfer Group",
    "PaymentIntent ID",
    "payment_id (metadata)",
    "reference (metadata)",
]


def stripe_export(rows: Sequence[dict[str, str]]) -> bytes:
    """Rows give ``id``, ``Created (UTC)``, ``Amount``, ``Amount Refunded``, ``Status``,
    ``PaymentIntent ID`` and ``payment_id (metadata)``; the rest is filled as Stripe would."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=STRIPE_HEADER, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        amount = row["Amount"]
        writer.writerow(
            {
                "Description": "Mercato order",
                "Seller Message": "Payment complete." if row["Status"] == "Paid" else "",
                "Amount Refunded": "0.00",
                "Currency": "cny",
                "Converted Amount": amount,
                "Converted Amount Refunded": row.get("Amount Refunded", "0.00"),
                "Fee": "0.30",
                "Tax": "0.00",
                "Converted Currency": "cny",
                "Mode": "Live",
                "Captured": "true" if row["Status"] == "Paid" else "false",
                "Card Last4": "4242",
                "Card Brand": "Visa",
                "Payment Source Type": "card",
                "reference (metadata)": "order:1",
                **row,
            }
        )
    return out.getvalue().encode()


ALIPAY_HEADER = (
    "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,"
    "订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,"
    "券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注"
)


def alipay_row(
    trade_no: str, out_trade_no: str, kind: str, amount: str, when: str, request_no: str = ""
) -> str:
    """One 业务明细 row: values padded with a tab, as Alipay writes them."""
    cells = [
        trade_no,
        out_trade_no,
        kind,
        "Mercato 订单",
        when,
        when,
        "",
        "",
        "",
        "",
        "buy***@example.com",
        amount,
        amount,
        "0.00",
        "0.00",
        "0.00",
        "0.00",
        "0.00",
        "",
        "0.00",
        "0.00",
        request_no,
        "-0.21" if kind == "交易" else "0.21",
        "0.00",
        "",
    ]
    return ",".join(f"{cell}\t" for cell in cells)


def alipay_bill(rows: Sequence[str]) -> bytes:
    """The 业务明细 CSV of 2026-11-27 (Beijing time), GBK-encoded with its comment lines."""
    lines = [
        "#支付宝业务明细查询",
        "#账号：[20880000000000000156]",
        "#起始日期：[2026年11月27日 00:00:00]   终止日期：[2026年11月28日 00:00:00]",
        "#-----------------------------------------业务明细列表----------------------------------------",
        ALIPAY_HEADER,
        *rows,
        "#-----------------------------------------业务明细列表结束------------------------------------",
        f"#交易合计：{sum('交易' in r for r in rows)}笔，商家实收共0.00元，商家优惠共0.00元",
        f"#退款合计：{sum('退款' in r for r in rows)}笔，商家实收退款共0.00元，商家优惠退款共0.00元",
        "#导出时间：[2026年11月28日 09:25:51]",
    ]
    return "\r\n".join(lines).encode("gbk")


WECHAT_HEADER = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,"
    "货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,"
    "商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注"
)


def wechat_row(
    when: str,
    transaction_id: str,
    out_trade_no: str,
    state: str,
    amount: str,
    *,
    refund_id: str = "",
    out_refund_no: str = "",
    refund: str = "0.00",
    refund_state: str = "",
) -> str:
    """One trade-bill row of the ALL bill: every value prefixed with a backtick."""
    cells = [
        when,
        "wx2421b1c4370ec43b",
        "1900000109",
        "0",
        "",
        transaction_id,
        out_trade_no,
        "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
        "NATIVE",
        state,
        "OTHERS",
        "CNY",
        amount if state != "REFUND" else "0.00",
        "0.00",
        refund_id,
        out_refund_no,
        refund,
        "0.00",
        "ORIGINAL" if refund_id else "",
        refund_state,
        "Mercato 订单",
        "",
        "0.06",
        "0.60%",
        amount if state != "REFUND" else "0.00",
        refund,
        "",
    ]
    return ",".join(f"`{cell}" for cell in cells)


def wechat_bill(rows: Sequence[str]) -> bytes:
    summary = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
    totals = ",".join(f"`{v}" for v in [str(len(rows)), "0.00", "0.00", "0.00", "0.00", "0.00", "0.00"])
    return "\r\n".join([WECHAT_HEADER, *rows, summary, totals]).encode()


# -- local records -------------------------------------------------------------------------------


async def local_payment(
    provider: str,
    *,
    amount: int,
    status: str = "paid",
    captured_at: dt.datetime | None,
    trade: str | None = None,
    padded: bool = False,
) -> int:
    """A payment row as the provider's flow leaves it; ``trade`` None: our id is the trade number."""
    now = dt.datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
    async with uow() as s:
        row = Payment(
            reference="order:1",
            customer_id=None,
            provider=provider,
            amount=amount,
            currency="CNY",
            status=status,
            client_data={},
            refunded_amount=0,
            needs_review=False,
            review_reason="",
            expires_at=now + dt.timedelta(minutes=30),
            created_at=now,
            updated_at=now,
            captured_at=captured_at,
        )
        s.add(row)
        await s.flush()
        number = str(row.id).zfill(6) if padded else str(row.id)
        await s.execute(
            update(Payment).where(Payment.id == row.id).values(provider_payment_id=trade or number)
        )
        return row.id


async def local_refund(
    payment_id: int,
    provider: str,
    *,
    amount: int,
    status: str,
    completed_at: dt.datetime | None,
    ref: str | None,
) -> int:
    async with uow() as s:
        row = Refund(
            payment_id=payment_id,
            provider=provider,
            amount=amount,
            currency="CNY",
            reason="damaged",
            status=status,
            provider_refund_id=ref,
            failure_reason="",
            idempotency_key=f"k-{payment_id}-{amount}-{status}",
            actor="tests",
            created_at=dt.datetime(2026, 11, 27, 1, 0, tzinfo=UTC),
            completed_at=completed_at,
        )
        s.add(row)
        await s.flush()
        if status == "succeeded":
            await s.execute(
                update(Payment)
                .where(Payment.id == payment_id)
                .values(refunded_amount=Payment.refunded_amount + amount)
            )
        return row.id


async def reconcile(provider: str, data: bytes) -> list[str]:
    statement = payments.read_statement(provider=provider, data=data)
    async with uow(write=False) as s:
        report = await payments.reconcile_statement(s, statement=statement)
    return [d.describe() for d in report.differences]


def at(hour: int, *, day: int = 27, tz: dt.tzinfo = UTC) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, 0, tzinfo=tz).astimezone(UTC)


# -- Stripe --------------------------------------------------------------------------------------


async def stripe_scenario() -> tuple[bytes, dict[str, int]]:
    """Local Stripe payments and the export of 2026-11-27 (UTC) that disagrees with some."""
    ids = {
        "ok": await local_payment("stripe", amount=9900, captured_at=at(10), trade="pi_3Ok"),
        "short": await local_payment("stripe", amount=5000, captured_at=at(11), trade="pi_3Short"),
        "closed": await local_payment(
            "stripe", amount=3000, status="closed", captured_at=None, trade="pi_3Closed"
        ),
        "part": await local_payment(
            "stripe", amount=10_000, status="partially_refunded", captured_at=at(12), trade="pi_3Part"
        ),
        "lost_refund": await local_payment(
            "stripe", amount=10_000, status="partially_refunded", captured_at=at(13), trade="pi_3Lost"
        ),
        "unlisted": await local_payment("stripe", amount=2000, captured_at=at(14), trade="pi_3Unlisted"),
        "yesterday": await local_payment("stripe", amount=2000, captured_at=at(23, day=26), trade="pi_3Old"),
    }
    await local_refund(
        ids["part"], "stripe", amount=3000, status="succeeded", completed_at=at(15), ref="re_1"
    )
    await local_refund(
        ids["lost_refund"], "stripe", amount=3000, status="succeeded", completed_at=at(15), ref="re_2"
    )

    def row(
        charge: str, when: str, amount: str, status: str, intent: str, ours: int | None, **extra: str
    ) -> dict[str, str]:
        return {
            "id": charge,
            "Created (UTC)": when,
            "Amount": amount,
            "Status": status,
            "PaymentIntent ID": intent,
            "payment_id (metadata)": str(ours) if ours else "",
            **extra,
        }

    data = stripe_export(
        [
            row("ch_3Declined", "2026-11-27 09:58:00", "99.00", "Failed", "pi_3Ok", ids["ok"]),
            row("ch_3Ok", "2026-11-27 10:00:00", "99.00", "Paid", "pi_3Ok", ids["ok"]),
            row("ch_3Short", "2026-11-27 11:00:00", "49.00", "Paid", "pi_3Short", ids["short"]),
            row("ch_3Closed", "2026-11-27 11:30", "30.00", "Paid", "pi_3Closed", ids["closed"]),
            row(
                "ch_3Part",
                "2026-11-27 12:00:00",
                "100.00",
                "Paid",
                "pi_3Part",
                ids["part"],
                **{"Amount Refunded": "30.00"},
            ),
            row(
                "ch_3Lost",
                "2026-11-27 13:00:00",
                "100.00",
                "Paid",
                "pi_3Lost",
                ids["lost_refund"],
                **{"Amount Refunded": "50.00"},
            ),
            row("ch_3Stranger", "2026-11-27 16:00:00", "12.34", "Paid", "pi_3Stranger", None),
        ]
    )
    return data, ids


async def test_a_stripe_export_against_our_records() -> None:
    data, ids = await stripe_scenario()

    statement = payments.read_statement(provider="stripe", data=data)
    differences = await reconcile("stripe", data)

    assert (statement.starts_at, statement.ends_at) == (at(0), at(0, day=28))
    assert [(line.row, line.status, line.amount, line.refunded_amount) for line in statement.lines] == [
        (2, "failed", 9900, 0),
        (3, "paid", 9900, 0),
        (4, "paid", 4900, 0),
        (5, "paid", 3000, 0),
        (6, "partially_refunded", 10_000, 3000),
        (7, "partially_refunded", 10_000, 5000),
        (8, "paid", 1234, 0),
    ]
    assert differences == [
        f"amount mismatch: payment {ids['short']} (pi_3Short) row 4: local 50.00 CNY, statement 49.00 CNY",
        f"status mismatch: payment {ids['closed']} (pi_3Closed) row 5: local closed, statement paid",
        f"amount mismatch: payment {ids['lost_refund']} (pi_3Lost) row 7: "
        "local 30.00 CNY refunded, statement 50.00 CNY refunded",
        "missing locally: payment pi_3Stranger row 8: statement 12.34 CNY paid",
        f"missing in statement: payment {ids['unlisted']} (pi_3Unlisted): local 20.00 CNY paid",
    ]


async def test_a_matching_stripe_export_has_no_differences() -> None:
    first = await local_payment("stripe", amount=9900, captured_at=at(10), trade="pi_3A")
    second = await local_payment("stripe", amount=500, status="refunded", captured_at=at(11), trade="pi_3B")
    await local_refund(second, "stripe", amount=500, status="succeeded", completed_at=at(12), ref="re_3")
    data = stripe_export(
        [
            {
                "id": "ch_3A",
                "Created (UTC)": "2026-11-27 10:00:00",
                "Amount": "99.00",
                "Status": "Paid",
                "PaymentIntent ID": "pi_3A",
                "payment_id (metadata)": str(first),
            },
            {
                "id": "ch_3B",
                "Created (UTC)": "2026-11-27 11:00:00",
                "Amount": "5.00",
                "Status": "Refunded",
                "Amount Refunded": "5.00",
                "PaymentIntent ID": "pi_3B",
                "payment_id (metadata)": str(second),
            },
        ]
    )

    assert await reconcile("stripe", data) == []


# -- Alipay --------------------------------------------------------------------------------------


async def test_an_alipay_bill_against_our_records() -> None:
    paid = await local_payment("alipay", amount=3580, captured_at=at(10, tz=BEIJING))
    unpaid = await local_payment("alipay", amount=1000, status="pending", captured_at=None)
    refunded = await local_payment(
        "alipay", amount=5000, status="partially_refunded", captured_at=at(9, tz=BEIJING)
    )
    silent = await local_payment(
        "alipay", amount=800, captured_at=at(23, tz=BEIJING)
    )  # 15:00 UTC: in the day
    await local_payment("alipay", amount=800, captured_at=at(0, day=28, tz=BEIJING))  # the next day
    good_refund = await local_refund(
        refunded, "alipay", amount=1000, status="succeeded", completed_at=at(11, tz=BEIJING), ref=None
    )
    short_refund = await local_refund(
        refunded, "alipay", amount=500, status="succeeded", completed_at=at(12, tz=BEIJING), ref=None
    )
    waiting_refund = await local_refund(
        paid, "alipay", amount=100, status="pending", completed_at=None, ref=None
    )
    unlisted_refund = await local_refund(
        refunded, "alipay", amount=200, status="succeeded", completed_at=at(13, tz=BEIJING), ref=None
    )
    data = alipay_bill(
        [
            alipay_row("2026112722001400000000000001", str(paid), "交易", "35.80", "2026-11-27 10:00:05"),
            alipay_row("2026112722001400000000000002", str(unpaid), "交易", "10.00", "2026-11-27 10:30:00"),
            alipay_row("2026112722001400000000000003", str(refunded), "交易", "50.00", "2026-11-27 09:00:00"),
            alipay_row(
                "2026112722001400000000000003",
                str(refunded),
                "退款",
                "-10.00",
                "2026-11-27 11:00:00",
                str(good_refund),
            ),
            alipay_row(
                "2026112722001400000000000003",
                str(refunded),
                "退款",
                "-4.00",
                "2026-11-27 12:00:00",
                str(short_refund),
            ),
            alipay_row(
                "2026112722001400000000000001",
                str(paid),
                "退款",
                "-1.00",
                "2026-11-27 12:30:00",
                str(waiting_refund),
            ),
            alipay_row(
                "2026112722001400000000000009", "T20261127-OTHER", "交易", "66.00", "2026-11-27 14:00:00"
            ),
        ]
    )

    statement = payments.read_statement(provider="alipay", data=data)
    differences = await reconcile("alipay", data)

    assert (statement.starts_at, statement.ends_at) == (at(0, tz=BEIJING), at(0, day=28, tz=BEIJING))
    assert [(line.kind.value, line.amount, line.merchant_refund_id) for line in statement.lines][2:4] == [
        ("payment", 5000, ""),
        ("refund", 1000, str(good_refund)),
    ]
    assert differences == [
        f"status mismatch: payment {unpaid} (2026112722001400000000000002) row 7: "
        "local pending, statement paid",
        f"amount mismatch: refund {short_refund} ({short_refund}) row 10: local 5.00 CNY, statement 4.00 CNY",
        f"status mismatch: refund {waiting_refund} ({waiting_refund}) row 11: "
        "local pending, statement succeeded",
        "missing locally: payment 2026112722001400000000000009 row 12: statement 66.00 CNY paid",
        f"missing in statement: payment {silent} ({silent}): local 8.00 CNY paid",
        f"missing in statement: refund {unlisted_refund}: local 2.00 CNY succeeded",
    ]


# -- WeChat Pay ----------------------------------------------------------------------------------


async def test_a_wechat_pay_trade_bill_against_our_records() -> None:
    paid = await local_payment("wechatpay", amount=2000, captured_at=at(10, tz=BEIJING), padded=True)
    revoked = await local_payment("wechatpay", amount=1500, captured_at=at(11, tz=BEIJING), padded=True)
    refunded = await local_payment(
        "wechatpay", amount=3000, status="partially_refunded", captured_at=at(9, tz=BEIJING), padded=True
    )
    unlisted = await local_payment("wechatpay", amount=990, captured_at=at(18, tz=BEIJING), padded=True)
    processing = await local_refund(
        refunded,
        "wechatpay",
        amount=550,
        status="pending",
        completed_at=None,
        ref="50000000000000000000000001",
    )
    data = wechat_bill(
        [
            wechat_row("2026-11-27 10:00:00", "4200000001", str(paid).zfill(6), "SUCCESS", "20.00"),
            wechat_row("2026-11-27 11:00:00", "4200000002", str(revoked).zfill(6), "SUCCESS", "15.00"),
            wechat_row("2026-11-27 11:05:00", "4200000002", str(revoked).zfill(6), "REVOKED", "15.00"),
            wechat_row("2026-11-27 09:00:00", "4200000003", str(refunded).zfill(6), "SUCCESS", "30.00"),
            wechat_row(
                "2026-11-27 12:00:00",
                "4200000003",
                str(refunded).zfill(6),
                "REFUND",
                "30.00",
                refund_id="50000000000000000000000001",
                out_refund_no=str(processing),
                refund="5.50",
                refund_state="PROCESSING",
            ),
            wechat_row(
                "2026-11-27 13:00:00",
                "4200000003",
                str(refunded).zfill(6),
                "REFUND",
                "30.00",
                refund_id="50000000000000000000000002",
                out_refund_no="999999",
                refund="1.00",
                refund_state="SUCCESS",
            ),
        ]
    )

    statement = payments.read_statement(provider="wechatpay", data=data)
    differences = await reconcile("wechatpay", data)

    assert (statement.starts_at, statement.ends_at) == (at(0, tz=BEIJING), at(0, day=28, tz=BEIJING))
    assert len(statement.lines) == 6  # the summary section is not a row
    assert differences == [
        f"status mismatch: payment {revoked} (4200000002) row 4: local paid, statement revoked",
        "missing locally: refund 50000000000000000000000002 row 7: statement 1.00 CNY succeeded",
        f"missing in statement: payment {unlisted} ({str(unlisted).zfill(6)}): local 9.90 CNY paid",
    ]


# -- unreadable files ----------------------------------------------------------------------------


HEAD = b"id,Created (UTC),Amount,Currency,Status,PaymentIntent ID\n"


@pytest.mark.parametrize(
    ("provider", "data", "message"),
    [
        (
            "sandbox",
            b"id\n",
            "There is no statement format for the provider sandbox; "
            "choose one of: alipay, stripe, wechatpay.",
        ),
        ("stripe", b"  \n", "The statement is empty."),
        ("stripe", b"id,Amount\x00\n", "The statement is not text: it contains NUL bytes."),
        (
            "alipay",
            b"id,Created (UTC),Amount\n",
            "This is not a statement of alipay: "
            "the columns 支付宝交易号, 商户订单号, 业务类型, 订单金额（元）, 完成时间 are missing.",
        ),
        (
            "stripe",
            HEAD + b'ch_1,2026-11-27 10:00:00,"12,5",cny,Paid\n',
            "Line 2: Amount is not an amount: 12,5",
        ),
        (
            "stripe",
            HEAD + b"ch_1,2026-11-27 10:00:00,12.345,cny,Paid\n",
            "Line 2: Amount has more decimals than CNY has: 12.345",
        ),
        (
            "stripe",
            HEAD + b"ch_1,yesterday,12.34,cny,Paid\n",
            "Line 2: Created (UTC) is not a date and time: yesterday",
        ),
        (
            "stripe",
            HEAD + b'"ch_1,x\n',
            "Line 2 is not valid CSV: check the quotation marks.",
        ),
        (
            "stripe",
            b"id,Created (UTC),Amount,Currency,Status\nch_1,2026-11-27 10:00:00,12.34,cny,Paid\n",
            "This is not a statement of stripe: the columns PaymentIntent ID are missing.",
        ),
        (
            "stripe",
            HEAD,
            "The statement has no rows, so it covers no period.",
        ),
        ("wechatpay", b"\xff\xfe\xfd\x80\x81", "The statement is neither UTF-8 nor GBK text."),
    ],
)
def test_unreadable_statements_say_why(provider: str, data: bytes, message: str) -> None:
    from mercato.core.i18n import gettext  # noqa: PLC0415

    with pytest.raises(payments.StatementUnreadable) as caught:
        payments.read_statement(provider=provider, data=data)

    assert caught.value.code == "payments.statement_unreadable"
    assert gettext(caught.value.message, "en", **caught.value.params) == message
