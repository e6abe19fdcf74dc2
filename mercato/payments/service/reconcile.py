"""Reconciliation: a provider's statement (its CSV export) against our payment and refund records.

Three steps, the first and last pure:

1. ``read_statement`` reads the file in the provider's documented columns into
   ``StatementLine`` objects (our payment and refund ids as the provider echoes them, amounts in
   minor units, a normalised status) and the period it covers; anything it cannot read raises
   ``StatementUnreadable`` naming the row and column.
2. ``reconcile_statement`` loads the local records the statement names, plus those settled in
   its period, and
3. ``compare_statement`` lists every difference: a statement line no local record matches
   (*missing locally*), a local record settled in the statement's period that no line matches
   (*missing in statement*), another amount or currency (*amount mismatch*), another status
   (*status mismatch*).

Formats (docs/decisions/0016-stripe-and-reconciliation.md says where each comes from):

- ``stripe``: the Dashboard's payments export (``id, Created (UTC), Amount, Amount Refunded,
  Currency, Status, …, PaymentIntent ID, payment_id (metadata)``): one row per charge, amounts
  in major units, times in UTC. Refunds show only as ``Amount Refunded``, compared with the
  payment's succeeded refunds.
- ``alipay``: the 业务明细 bill (GBK, ``#`` comment lines above and below, values padded with
  tabs): ``交易`` rows are payments, ``退款`` rows refunds (negative amounts, our refund id in
  ``退款批次号/请求号``); the period is the header's 起始日期 / 终止日期; times are Beijing time.
- ``wechatpay``: the trade bill (``ALL``): every value prefixed with a backtick, a summary
  section after the rows; ``SUCCESS`` rows are payments, ``REFUND`` rows refunds
  (``商户退款单号``, ``退款金额``, ``退款状态``), ``REVOKED`` rows revoked payments.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.core.errors import InvalidInput
from mercato.core.i18n import N_
from mercato.core.money import Money, exponent
from mercato.core.schemas import ReadModel
from mercato.payments.models import Payment, Refund
from mercato.payments.schemas import PaymentStatus, RefundStatus

_Row = TypeVar("_Row", Payment, Refund)

#: Providers whose statements we read.
STATEMENT_PROVIDERS = ("alipay", "stripe", "wechatpay")
#: The largest statement file read (a busy day's bill is a few MB).
MAX_STATEMENT_BYTES = 200 * 1024 * 1024
BEIJING = ZoneInfo("Asia/Shanghai")
_SETTLED = frozenset({PaymentStatus.paid, PaymentStatus.partially_refunded, PaymentStatus.refunded})
_CHUNK = 500  # ids per IN (...) query


class StatementUnreadable(InvalidInput):
    """The file is not a statement of that provider; ``message`` says why (and where)."""

    code = "payments.statement_unreadable"
    message = "The statement cannot be read."


class RecordKind(StrEnum):
    payment = "payment"
    refund = "refund"


class DifferenceKind(StrEnum):
    missing_locally = "missing locally"  # the provider has it, we do not
    missing_in_statement = "missing in statement"  # we settled it in the period, the provider lists none
    amount_mismatch = "amount mismatch"  # another amount or currency (or refunded amount)
    status_mismatch = "status mismatch"  # another status


class StatementLine(ReadModel):
    """One payment or refund as the provider's statement lists it.

    Payment statuses: ``paid``, ``partially_refunded``, ``refunded`` (captured), ``pending``,
    ``failed``, ``closed``, ``revoked`` (paid, then the money went back: WeChat ``REVOKED``).
    Refund statuses: ``succeeded``, ``pending``, ``failed``.
    """

    row: int  # the line number in the file
    kind: RecordKind
    provider_payment_id: str  # the provider's trade id ("" when the statement has none)
    merchant_payment_id: str  # our payment id (or trade number) as the provider echoes it
    amount: int  # minor units, positive
    currency: str
    status: str
    occurred_at: dt.datetime  # UTC
    refunded_amount: int | None = None  # of a payment, when the statement gives it (Stripe)
    provider_refund_id: str = ""
    merchant_refund_id: str = ""  # our refund id as the provider echoes it


class Statement(ReadModel):
    """A provider's statement: its lines and the period ``[starts_at, ends_at)`` it covers."""

    provider: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    lines: list[StatementLine]
    lists_refunds: bool  # refunds are lines of their own (Alipay, WeChat Pay), not only amounts


class LocalPayment(ReadModel):
    """What reconciliation compares of one of our payments."""

    id: int
    provider_payment_id: str | None
    amount: int
    currency: str
    status: PaymentStatus
    captured_at: dt.datetime | None
    refunded_succeeded: int = 0  # the sum of its succeeded refunds


class LocalRefund(ReadModel):
    id: int
    payment_id: int
    provider_refund_id: str | None
    amount: int
    currency: str
    status: RefundStatus
    completed_at: dt.datetime | None


class StatementDifference(ReadModel):
    """One difference between the statement and our records."""

    kind: DifferenceKind
    record: RecordKind
    local_id: int | None  # our payment or refund id
    provider_id: str  # the provider's id of it, when known
    row: int | None  # the statement line, when there is one
    local: str  # what we hold ("" when nothing)
    statement: str  # what the statement says ("" when nothing)

    def describe(self) -> str:
        """One line for a person, e.g. ``amount mismatch: payment 12 (pi_3X) row 2: local 99.00
        CNY, statement 98.00 CNY``."""
        subject = f"{self.record} {self.local_id}" if self.local_id is not None else str(self.record)
        ident = (
            f" ({self.provider_id})"
            if self.provider_id and self.local_id is not None
            else f" {self.provider_id}"
            if self.provider_id
            else ""
        )
        where = f" row {self.row}" if self.row is not None else ""
        sides = ", ".join(
            part
            for part in (
                f"local {self.local}" if self.local else "",
                f"statement {self.statement}" if self.statement else "",
            )
            if part
        )
        return f"{self.kind}: {subject}{ident}{where}: {sides}"


class ReconcileReport(ReadModel):
    provider: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    statement_lines: int
    differences: list[StatementDifference]


# -- reading statements (pure) -----------------------------------------------------------------


def read_statement(*, provider: str, data: bytes) -> Statement:
    """Read a statement file of ``provider`` (see the module docstring for the formats).

    Raises:
        StatementUnreadable (422): no format for that provider, too large, not text, not CSV,
            required columns missing, a value that is not what its column holds, or no rows and
            no period.
    """
    reader = _READERS.get(provider)
    if reader is None:
        raise StatementUnreadable(
            N_("There is no statement format for the provider {provider}; choose one of: {choices}."),
            provider=provider[:30],
            choices=", ".join(STATEMENT_PROVIDERS),
        )
    if len(data) > MAX_STATEMENT_BYTES:
        raise StatementUnreadable(
            N_("The statement is too large: at most {max_megabytes} MB."),
            max_megabytes=MAX_STATEMENT_BYTES // (1024 * 1024),
        )
    if not data.strip():
        raise StatementUnreadable(N_("The statement is empty."))
    return reader(_decode(data))


def _decode(data: bytes) -> str:
    if b"\x00" in data:
        raise StatementUnreadable(N_("The statement is not text: it contains NUL bytes."))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")  # a superset of GBK, Alipay's encoding
    except UnicodeDecodeError:
        raise StatementUnreadable(N_("The statement is neither UTF-8 nor GBK text.")) from None


@dataclass
class _Rows:
    """CSV records with their line numbers; cells cleaned by ``clean``."""

    header: list[str]
    records: list[tuple[int, list[str]]] = field(default_factory=list)

    def cell(self, record: list[str], column: str) -> str:
        index = self.header.index(column)
        return record[index] if index < len(record) else ""


def _records(lines: Iterable[tuple[int, str]]) -> Iterator[tuple[int, list[str]]]:
    """Parse CSV text line by line (statements never hold quoted line breaks)."""
    for number, line in lines:
        try:
            [record] = list(csv.reader([line], strict=True))
        except (csv.Error, ValueError):
            raise StatementUnreadable(
                N_("Line {row} is not valid CSV: check the quotation marks."), row=number
            ) from None
        yield number, record


def _require(header: list[str], columns: Sequence[str], provider: str) -> None:
    missing = [column for column in columns if column not in header]
    if missing:
        raise StatementUnreadable(
            N_("This is not a statement of {provider}: the columns {columns} are missing."),
            provider=provider,
            columns=", ".join(missing),
        )


def _amount(text: str, currency: str, *, row: int, column: str) -> int:
    """A decimal amount in major units (``"99.00"``, ``"-35.80"``, ``"1,234.50"``) → minor units."""
    value = text.replace(",", "") if re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?", text) else text
    try:
        if not re.fullmatch(r"-?\d+(\.\d+)?", value):
            raise InvalidOperation
        scaled = Decimal(value).scaleb(exponent(currency))
    except (InvalidOperation, ValueError):
        raise StatementUnreadable(
            N_("Line {row}: {column} is not an amount: {value}"), row=row, column=column, value=text[:40]
        ) from None
    if scaled != scaled.to_integral_value():
        raise StatementUnreadable(
            N_("Line {row}: {column} has more decimals than {currency} has: {value}"),
            row=row,
            column=column,
            currency=currency,
            value=text[:40],
        )
    return int(scaled)


def _time(text: str, tz: dt.tzinfo, *, row: int, column: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise StatementUnreadable(
            N_("Line {row}: {column} is not a date and time: {value}"),
            row=row,
            column=column,
            value=text[:40],
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(dt.UTC)


def _currency(text: str, *, row: int, column: str) -> str:
    code = text.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise StatementUnreadable(
            N_("Line {row}: {column} is not a currency code: {value}"),
            row=row,
            column=column,
            value=text[:40],
        )
    return code


def _days(lines: Sequence[StatementLine], tz: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """The whole days (in ``tz``) from the first line's to the last line's, as a UTC period."""
    if not lines:
        raise StatementUnreadable(N_("The statement has no rows, so it covers no period."))
    first = min(line.occurred_at for line in lines).astimezone(tz).date()
    last = max(line.occurred_at for line in lines).astimezone(tz).date()

    def midnight(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(), tzinfo=tz).astimezone(dt.UTC)

    return midnight(first), midnight(last + dt.timedelta(days=1))


def _numbered(text: str) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            yield number, line


# Stripe ----------------------------------------------------------------------------------------

_STRIPE_CREATED = ("Created (UTC)", "Created date (UTC)")
_STRIPE_CAPTURED = {"paid", "succeeded", "captured", "refunded", "partially refunded", "partially_refunded"}
_STRIPE_STATUS = {
    "failed": "failed",
    "blocked": "failed",
    "canceled": "closed",
    "cancelled": "closed",
    "uncaptured": "pending",
    "incomplete": "pending",
    "pending": "pending",
    "processing": "pending",
}


def _read_stripe(text: str) -> Statement:
    records = list(_records(_numbered(text)))
    if not records:
        raise StatementUnreadable(N_("The statement is empty."))
    (_, header), rows = records[0], records[1:]
    header = [name.strip() for name in header]
    created = next((name for name in _STRIPE_CREATED if name in header), _STRIPE_CREATED[0])
    _require(header, ["id", created, "Amount", "Currency", "Status"], "stripe")
    if "payment_id (metadata)" not in header:
        _require(header, ["PaymentIntent ID"], "stripe")  # else rows name charges only
    table = _Rows(header)
    lines = []
    for row, record in rows:
        cells = [cell.strip() for cell in record]

        def get(column: str, cells: list[str] = cells) -> str:
            return table.cell(cells, column) if column in header else ""

        currency = _currency(get("Currency"), row=row, column="Currency")
        amount = _amount(get("Amount"), currency, row=row, column="Amount")
        refunded = _amount(get("Amount Refunded") or "0", currency, row=row, column="Amount Refunded")
        raw_status = get("Status").lower()
        if raw_status in _STRIPE_CAPTURED:
            status = "paid" if refunded == 0 else "refunded" if refunded >= amount else "partially_refunded"
        else:
            status = _STRIPE_STATUS.get(raw_status, raw_status or "unknown")
        charge_id = get("id")
        intent_id = get("PaymentIntent ID") or (charge_id if charge_id.startswith("pi_") else "")
        lines.append(
            StatementLine(
                row=row,
                kind=RecordKind.payment,
                provider_payment_id=intent_id or charge_id,
                merchant_payment_id=get("payment_id (metadata)"),
                amount=amount,
                currency=currency,
                status=status,
                occurred_at=_time(get(created), dt.UTC, row=row, column=created),
                refunded_amount=refunded,
            )
        )
    starts_at, ends_at = _days(lines, dt.UTC)
    return Statement(
        provider="stripe", starts_at=starts_at, ends_at=ends_at, lines=lines, lists_refunds=False
    )


# Alipay ----------------------------------------------------------------------------------------

_ALIPAY_PERIOD = re.compile(r"起始日期[:：]\s*\[(?P<start>[^\]]+)\].*终止日期[:：]\s*\[(?P<end>[^\]]+)\]")
_ALIPAY_AMOUNT = "订单金额（元）"


def _alipay_time(text: str) -> dt.datetime:
    """``2026年11月27日 00:00:00`` (Beijing time) → UTC."""
    match = re.fullmatch(r"(\d{4})年(\d{1,2})月(\d{1,2})日\s*(\d{1,2}):(\d{2}):(\d{2})", text.strip())
    if match is None:
        raise StatementUnreadable(
            N_("The statement's period is not a date and time: {value}"), value=text[:40]
        )
    year, month, day, hour, minute, second = (int(part) for part in match.groups())
    try:
        return dt.datetime(year, month, day, hour, minute, second, tzinfo=BEIJING).astimezone(dt.UTC)
    except ValueError:
        raise StatementUnreadable(
            N_("The statement's period is not a date and time: {value}"), value=text[:40]
        ) from None


def _read_alipay(text: str) -> Statement:
    period: tuple[dt.datetime, dt.datetime] | None = None
    body: list[tuple[int, str]] = []
    for number, line in _numbered(text):
        if line.lstrip().startswith("#"):
            match = _ALIPAY_PERIOD.search(line)
            if match is not None:
                period = (_alipay_time(match["start"]), _alipay_time(match["end"]))
            continue
        body.append((number, line))
    records = list(_records(body))
    if not records:
        raise StatementUnreadable(N_("The statement is empty."))
    (_, header), rows = records[0], records[1:]
    header = [name.strip().replace("(", "（").replace(")", "）") for name in header]
    _require(header, ["支付宝交易号", "商户订单号", "业务类型", _ALIPAY_AMOUNT, "完成时间"], "alipay")
    table = _Rows(header)
    lines = []
    for row, record in rows:
        cells = [cell.strip() for cell in record]

        def get(column: str, cells: list[str] = cells) -> str:
            return table.cell(cells, column) if column in header else ""

        business = get("业务类型")
        if business not in {"交易", "退款"}:
            continue  # not a payment or a refund (e.g. a freeze)
        amount = abs(_amount(get(_ALIPAY_AMOUNT), "CNY", row=row, column=_ALIPAY_AMOUNT))
        when = get("完成时间") or get("创建时间")
        refund = business == "退款"
        lines.append(
            StatementLine(
                row=row,
                kind=RecordKind.refund if refund else RecordKind.payment,
                provider_payment_id=get("支付宝交易号"),
                merchant_payment_id=get("商户订单号"),
                amount=amount,
                currency="CNY",
                status="succeeded" if refund else "paid",
                occurred_at=_time(when, BEIJING, row=row, column="完成时间"),
                merchant_refund_id=get("退款批次号/请求号") if refund else "",
            )
        )
    starts_at, ends_at = period if period is not None else _days(lines, BEIJING)
    return Statement(provider="alipay", starts_at=starts_at, ends_at=ends_at, lines=lines, lists_refunds=True)


# WeChat Pay ------------------------------------------------------------------------------------

_WECHAT_SUMMARY = "总交易单数"
_WECHAT_REFUND_STATUS = {"SUCCESS": "succeeded", "PROCESSING": "pending"}


def _read_wechatpay(text: str) -> Statement:
    records = list(_records(_numbered(text)))
    if not records:
        raise StatementUnreadable(N_("The statement is empty."))
    (_, header), rows = records[0], records[1:]
    header = [name.strip().lstrip("`") for name in header]
    _require(header, ["交易时间", "微信订单号", "商户订单号", "交易状态"], "wechatpay")
    amount_column = next((name for name in ("订单金额", "应结订单金额") if name in header), None)
    if amount_column is None:
        _require(header, ["订单金额"], "wechatpay")
    assert amount_column is not None
    table = _Rows(header)
    lines = []
    for row, record in rows:
        cells = [cell.strip().removeprefix("`").strip() for cell in record]
        if cells and cells[0] == _WECHAT_SUMMARY:
            break  # the summary section: its header, then one row of totals

        def get(column: str, cells: list[str] = cells) -> str:
            return table.cell(cells, column) if column in header else ""

        state = get("交易状态").upper()
        if state not in {"SUCCESS", "REFUND", "REVOKED"}:
            continue
        currency = _currency(get("货币种类") or "CNY", row=row, column="货币种类")
        refund = state == "REFUND"
        if refund:
            column = "申请退款金额" if get("申请退款金额") else "退款金额"
            amount = abs(_amount(get(column), currency, row=row, column=column))
            status = _WECHAT_REFUND_STATUS.get(get("退款状态").upper(), "failed")
        else:
            column = amount_column if get(amount_column) else "应结订单金额"
            amount = abs(_amount(get(column), currency, row=row, column=column))
            status = "paid" if state == "SUCCESS" else "revoked"
        lines.append(
            StatementLine(
                row=row,
                kind=RecordKind.refund if refund else RecordKind.payment,
                provider_payment_id=get("微信订单号"),
                merchant_payment_id=get("商户订单号"),
                amount=amount,
                currency=currency,
                status=status,
                occurred_at=_time(get("交易时间"), BEIJING, row=row, column="交易时间"),
                provider_refund_id=get("微信退款单号") if refund else "",
                merchant_refund_id=get("商户退款单号") if refund else "",
            )
        )
    starts_at, ends_at = _days(lines, BEIJING)
    return Statement(
        provider="wechatpay", starts_at=starts_at, ends_at=ends_at, lines=lines, lists_refunds=True
    )


_READERS: dict[str, Callable[[str], Statement]] = {
    "alipay": _read_alipay,
    "stripe": _read_stripe,
    "wechatpay": _read_wechatpay,
}


# -- comparing (pure) ----------------------------------------------------------------------------


def _our_id(text: str) -> int | None:
    """Our numeric id as a provider echoes it (``"42"``, WeChat's ``"000042"``)."""
    return int(text) if text.isdigit() and 0 < len(text) <= 18 and int(text) > 0 else None


def _money(amount: int, currency: str) -> str:
    return f"{Money(amount, currency).to_decimal()} {currency}"


#: When one payment has several lines (a declined attempt, then a charge; a payment, then its
#: revocation), the line that says most about the money decides.
_LINE_WEIGHT = {"revoked": 6, "refunded": 5, "partially_refunded": 4, "paid": 3, "pending": 2, "closed": 1}
_NOT_CAPTURED = {PaymentStatus.pending, PaymentStatus.failed, PaymentStatus.closed}


def _payment_status_agrees(line: StatementLine, local: LocalPayment) -> bool:
    if line.status == "revoked":
        return local.status in {PaymentStatus.refunded, PaymentStatus.closed}
    if line.refunded_amount is None:  # the statement lists captured payments only
        return line.status == "paid" and local.status in _SETTLED
    if line.status in {"pending", "failed", "closed"}:
        return local.status in _NOT_CAPTURED
    return line.status == str(local.status)


def compare_statement(
    statement: Statement, *, payments: Sequence[LocalPayment], refunds: Sequence[LocalRefund]
) -> list[StatementDifference]:
    """Every difference between ``statement`` and the local records given (see the module doc).

    ``payments`` and ``refunds`` are the provider's records the statement names, plus those
    settled in its period; only the latter can be *missing in statement*.
    """
    by_id = {p.id: p for p in payments}
    by_trade = {p.provider_payment_id: p for p in payments if p.provider_payment_id}
    refund_by_id = {r.id: r for r in refunds}
    refund_by_provider_id = {r.provider_refund_id: r for r in refunds if r.provider_refund_id}
    differences: list[StatementDifference] = []
    seen_payments: dict[int, StatementLine] = {}
    seen_refunds: set[int] = set()

    def find_payment(line: StatementLine) -> LocalPayment | None:
        ours = _our_id(line.merchant_payment_id)
        return (
            (by_id.get(ours) if ours is not None else None)
            or by_trade.get(line.provider_payment_id)
            or by_trade.get(line.merchant_payment_id)
        )

    def find_refund(line: StatementLine) -> LocalRefund | None:
        ours = _our_id(line.merchant_refund_id)
        return (
            (refund_by_id.get(ours) if ours is not None else None)
            or refund_by_provider_id.get(line.provider_refund_id)
            or refund_by_provider_id.get(line.merchant_refund_id)
        )

    unmatched: list[StatementLine] = []
    for line in statement.lines:
        if line.kind is RecordKind.refund:
            refund = find_refund(line)
            if refund is None:
                unmatched.append(line)
                continue
            seen_refunds.add(refund.id)
            differences.extend(_refund_differences(line, refund))
            continue
        payment = find_payment(line)
        if payment is None:
            unmatched.append(line)
            continue
        kept = seen_payments.get(payment.id)
        if kept is None or _LINE_WEIGHT.get(line.status, 0) > _LINE_WEIGHT.get(kept.status, 0):
            seen_payments[payment.id] = line
    for payment_id, line in seen_payments.items():
        differences.extend(_payment_differences(line, by_id[payment_id]))
    for line in unmatched:
        differences.append(
            StatementDifference(
                kind=DifferenceKind.missing_locally,
                record=line.kind,
                local_id=None,
                provider_id=(
                    (line.provider_refund_id or line.merchant_refund_id or line.provider_payment_id)
                    if line.kind is RecordKind.refund
                    else (line.provider_payment_id or line.merchant_payment_id)
                ),
                row=line.row,
                local="",
                statement=f"{_money(line.amount, line.currency)} {line.status}",
            )
        )
    differences.sort(key=lambda d: d.row or 0)

    def in_period(when: dt.datetime | None) -> bool:
        return when is not None and statement.starts_at <= when < statement.ends_at

    for payment in sorted(payments, key=lambda p: p.id):
        if payment.id not in seen_payments and payment.status in _SETTLED and in_period(payment.captured_at):
            differences.append(
                StatementDifference(
                    kind=DifferenceKind.missing_in_statement,
                    record=RecordKind.payment,
                    local_id=payment.id,
                    provider_id=payment.provider_payment_id or "",
                    row=None,
                    local=f"{_money(payment.amount, payment.currency)} {payment.status}",
                    statement="",
                )
            )
    if statement.lists_refunds:
        for refund in sorted(refunds, key=lambda r: r.id):
            if (
                refund.id not in seen_refunds
                and refund.status is RefundStatus.succeeded
                and in_period(refund.completed_at)
            ):
                differences.append(
                    StatementDifference(
                        kind=DifferenceKind.missing_in_statement,
                        record=RecordKind.refund,
                        local_id=refund.id,
                        provider_id=refund.provider_refund_id or "",
                        row=None,
                        local=f"{_money(refund.amount, refund.currency)} {refund.status}",
                        statement="",
                    )
                )
    return differences


def _payment_differences(line: StatementLine, payment: LocalPayment) -> Iterator[StatementDifference]:
    def difference(kind: DifferenceKind, local: str, stated: str) -> StatementDifference:
        return StatementDifference(
            kind=kind,
            record=RecordKind.payment,
            local_id=payment.id,
            provider_id=line.provider_payment_id,
            row=line.row,
            local=local,
            statement=stated,
        )

    if (line.amount, line.currency) != (payment.amount, payment.currency):
        yield difference(
            DifferenceKind.amount_mismatch,
            _money(payment.amount, payment.currency),
            _money(line.amount, line.currency),
        )
    if not _payment_status_agrees(line, payment):
        yield difference(DifferenceKind.status_mismatch, str(payment.status), line.status)
    elif line.refunded_amount is not None and line.refunded_amount != payment.refunded_succeeded:
        yield difference(
            DifferenceKind.amount_mismatch,
            f"{_money(payment.refunded_succeeded, payment.currency)} refunded",
            f"{_money(line.refunded_amount, line.currency)} refunded",
        )


def _refund_differences(line: StatementLine, refund: LocalRefund) -> Iterator[StatementDifference]:
    def difference(kind: DifferenceKind, local: str, stated: str) -> StatementDifference:
        return StatementDifference(
            kind=kind,
            record=RecordKind.refund,
            local_id=refund.id,
            provider_id=line.provider_refund_id or line.merchant_refund_id,
            row=line.row,
            local=local,
            statement=stated,
        )

    if (line.amount, line.currency) != (refund.amount, refund.currency):
        yield difference(
            DifferenceKind.amount_mismatch,
            _money(refund.amount, refund.currency),
            _money(line.amount, line.currency),
        )
    agrees = (
        refund.status is RefundStatus.succeeded
        if line.status == "succeeded"
        else refund.status in {RefundStatus.pending, RefundStatus.succeeded}
        if line.status == "pending"
        else refund.status is RefundStatus.failed
    )
    if not agrees:
        yield difference(DifferenceKind.status_mismatch, str(refund.status), line.status)


# -- loading local records and reconciling ------------------------------------------------------


def _chunks(values: Iterable[object]) -> Iterator[list[object]]:
    items = sorted(set(values), key=str)
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


async def _rows_matching(
    session: AsyncSession,
    model: type[_Row],
    scope: ColumnElement[bool],
    conditions: list[ColumnElement[bool]],
) -> dict[int, _Row]:
    """Rows of ``model`` within ``scope`` matching any of ``conditions`` (one query each), by id."""
    found: dict[int, _Row] = {}
    for condition in conditions:
        rows = await session.execute(select(model).where(scope, condition))
        found.update({row.id: row for row in rows.scalars()})
    return found


async def reconcile_statement(session: AsyncSession, *, statement: Statement) -> ReconcileReport:
    """Compare ``statement`` with our records of its provider (read only)."""
    provider = statement.provider
    ids = {i for line in statement.lines if (i := _our_id(line.merchant_payment_id)) is not None}
    trades = {
        t for line in statement.lines for t in (line.provider_payment_id, line.merchant_payment_id) if t
    }
    payment_rows = await _rows_matching(
        session,
        Payment,
        Payment.provider == provider,
        [
            *(Payment.id.in_(chunk) for chunk in _chunks(ids)),
            *(Payment.provider_payment_id.in_(chunk) for chunk in _chunks(trades)),
            Payment.captured_at.between(statement.starts_at, statement.ends_at),
        ],
    )

    refund_ids = {i for line in statement.lines if (i := _our_id(line.merchant_refund_id)) is not None}
    refund_nos = {
        n for line in statement.lines for n in (line.provider_refund_id, line.merchant_refund_id) if n
    }
    refund_rows = await _rows_matching(
        session,
        Refund,
        Refund.provider == provider,
        [
            *(Refund.id.in_(chunk) for chunk in _chunks(refund_ids)),
            *(Refund.provider_refund_id.in_(chunk) for chunk in _chunks(refund_nos)),
            Refund.completed_at.between(statement.starts_at, statement.ends_at),
        ],
    )

    refunded: dict[int, int] = {}
    for chunk in _chunks(payment_rows):
        totals = await session.execute(
            select(Refund.payment_id, func.coalesce(func.sum(Refund.amount), 0))
            .where(Refund.payment_id.in_(chunk), Refund.status == str(RefundStatus.succeeded))
            .group_by(Refund.payment_id)
        )
        refunded.update({payment_id: int(total) for payment_id, total in totals})

    payments = [
        LocalPayment(
            id=row.id,
            provider_payment_id=row.provider_payment_id,
            amount=row.amount,
            currency=row.currency,
            status=PaymentStatus(row.status),
            captured_at=row.captured_at,
            refunded_succeeded=refunded.get(row.id, 0),
        )
        for row in payment_rows.values()
    ]
    refunds = [LocalRefund.model_validate(row) for row in refund_rows.values()]
    return ReconcileReport(
        provider=provider,
        starts_at=statement.starts_at,
        ends_at=statement.ends_at,
        statement_lines=len(statement.lines),
        differences=compare_statement(statement, payments=payments, refunds=refunds),
    )
