"""Renders a message from its templates: the in-app title and body, and the email's subject,
plain-text and HTML parts, in one language.

Templates live in ``templates/notify/<locale>/``: ``<kind>.txt`` holds the blocks ``title`` and
``body`` (plain text), ``email.txt`` the blocks ``subject`` and ``text`` around them, and
``email.html`` the HTML part. Only ``.html`` templates are autoescaped, so a shopper's name or a
shop's reason can never inject markup into the HTML part, while the text parts stay verbatim.
Each language is a whole file rather than catalogue fragments (ADR 0018).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape

from mercato.core.i18n import negotiate
from mercato.core.money import Money
from mercato.notify.schemas import AccountEmailKind, MessageKind

TEMPLATES = Path(__file__).resolve().parent / "templates"

#: The parameters each kind's templates take (exactly these; callers pass them to notify_customer).
KIND_PARAMS: dict[MessageKind, frozenset[str]] = {
    MessageKind.order_paid: frozenset({"order_number", "amount", "currency"}),
    MessageKind.order_shipped: frozenset({"order_number", "fully"}),
    MessageKind.order_delivered: frozenset({"order_number"}),
    MessageKind.pickup_ready: frozenset({"order_number"}),
    MessageKind.refund_succeeded: frozenset({"order_number", "amount", "currency"}),
    MessageKind.aftersales_decided: frozenset({"order_number", "approved", "reason"}),
    MessageKind.coupon_expiring: frozenset({"coupon_name", "valid_until"}),  # valid_until: shop-local text
    MessageKind.flash_sale_starting: frozenset({"session_name", "starts_at"}),  # starts_at: shop-local text
    MessageKind.group_complete: frozenset({"group_id"}),
    MessageKind.group_failed: frozenset({"group_id"}),
}
#: Parameters a kind's templates take when given (added after messages of the kind were first
#: sent: a caller written before may leave them out); a missing one renders as None.
KIND_OPTIONAL_PARAMS: dict[MessageKind, frozenset[str]] = {
    # an approved return or exchange: where to send the goods (aftersales.ReturnAddress, dumped)
    MessageKind.aftersales_decided: frozenset({"request_number", "return_address"}),
}
#: The same for account emails (templates ``templates/notify/<locale>/<kind>.txt`` too).
ACCOUNT_EMAIL_PARAMS: dict[AccountEmailKind, frozenset[str]] = {
    AccountEmailKind.register_code: frozenset({"code", "minutes"}),
    AccountEmailKind.reset_code: frozenset({"code", "minutes"}),
    AccountEmailKind.account_exists: frozenset({"email"}),
}

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class Rendered:
    """Everything one message says, in one language."""

    locale: str
    title: str
    body: str
    subject: str
    text: str
    html: str


def message_locale(preferred: str) -> str:
    """The supported language closest to ``preferred`` (``zh_CN``, ``en``; else the default)."""
    return negotiate(preferred.replace("_", "-"))


def _block(template: Template, name: str, context: Mapping[str, Any]) -> str:
    return "".join(template.blocks[name](template.new_context(dict(context)))).strip()


def check_params(kind: MessageKind | AccountEmailKind, params: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` unless ``params`` are exactly what ``kind``'s templates take (its
    optional ones may be left out)."""
    expected = ACCOUNT_EMAIL_PARAMS[kind] if isinstance(kind, AccountEmailKind) else KIND_PARAMS[kind]
    optional = _optional(kind)
    if not expected <= set(params) <= expected | optional:
        raise ValueError(f"{kind} takes params {sorted(expected | optional)}, got {sorted(params)}")


def _optional(kind: MessageKind | AccountEmailKind) -> frozenset[str]:
    return frozenset() if isinstance(kind, AccountEmailKind) else KIND_OPTIONAL_PARAMS.get(kind, frozenset())


def render(
    kind: MessageKind | AccountEmailKind,
    locale: str,
    params: Mapping[str, Any],
    *,
    name: str,
    url: str,
    shop_name: str,
) -> Rendered:
    """Render ``kind`` in ``locale`` (a supported one) for a customer called ``name``.

    Raises:
        ValueError: ``params`` are not the ones the kind takes.
    """
    check_params(kind, params)

    def money(amount: int, currency: str) -> str:
        return Money(amount, currency).format(locale)

    values: dict[str, Any] = {**dict.fromkeys(_optional(kind)), **params, "money": money}
    message = _env.get_template(f"notify/{locale}/{kind}.txt")
    title = _block(message, "title", values)
    body = _block(message, "body", values)
    layout: dict[str, Any] = {"title": title, "body": body, "name": name, "url": url, "shop_name": shop_name}
    text_layout = _env.get_template(f"notify/{locale}/email.txt")
    paragraphs = [part.strip() for part in body.split("\n\n") if part.strip()]
    html = _env.get_template(f"notify/{locale}/email.html").render(**layout, paragraphs=paragraphs)
    return Rendered(
        locale=locale,
        title=title,
        body=body,
        subject=_block(text_layout, "subject", layout),
        text=_block(text_layout, "text", layout) + "\n",
        html=html.strip() + "\n",
    )
