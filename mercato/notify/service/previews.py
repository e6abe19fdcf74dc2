"""Previews of every notification template, rendered with sample data in every language, for
the console's settings (read-only: nothing is written or sent)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mercato.core.i18n import SUPPORTED
from mercato.notify.schemas import AccountEmailKind, MessageKind, TemplatePreview
from mercato.notify.templating import render

#: Sample parameters of each kind (every parameter its templates take).
SAMPLES: dict[MessageKind | AccountEmailKind, dict[str, Any]] = {
    MessageKind.order_paid: {"order_number": "2026121200000042", "amount": 25900, "currency": "CNY"},
    MessageKind.order_shipped: {"order_number": "2026121200000042", "fully": True},
    MessageKind.order_delivered: {"order_number": "2026121200000042"},
    MessageKind.pickup_ready: {"order_number": "2026121200000042"},
    MessageKind.refund_succeeded: {"order_number": "2026121200000042", "amount": 9900, "currency": "CNY"},
    MessageKind.aftersales_decided: {
        "order_number": "2026121200000042",
        "approved": True,
        "reason": "",
        "request_number": "AS2026121200000007",
        "return_address": {
            "warehouse_name": "华东仓",
            "province": "浙江省",
            "city": "杭州市",
            "district": "余杭区",
            "detail": "文一西路 969 号",
            "phone": "400-800-8888",
        },
    },
    MessageKind.coupon_expiring: {"coupon_name": "满 200 减 30", "valid_until": "2026-12-13 23:59"},
    MessageKind.flash_sale_starting: {"session_name": "20:00 场", "starts_at": "2026-12-12 20:00"},
    MessageKind.group_complete: {"group_id": 128},
    MessageKind.group_failed: {"group_id": 128},
    AccountEmailKind.register_code: {"code": "246810", "minutes": 15},
    AccountEmailKind.reset_code: {"code": "135790", "minutes": 15},
    AccountEmailKind.account_exists: {"email": "shopper@example.com"},
}
#: The customer name the samples greet.
SAMPLE_NAMES = {"zh_CN": "李雷", "en": "Alex"}


def preview_messages(*, shop_names: Mapping[str, str], url: str) -> list[TemplatePreview]:
    """Every kind in every supported language, as the shopper would receive it from a shop
    named ``shop_names[locale]``, with links to ``url``."""
    previews = []
    for kind, params in SAMPLES.items():
        for locale in SUPPORTED:
            rendered = render(
                kind,
                locale,
                params,
                name=SAMPLE_NAMES.get(locale, ""),
                url=url,
                shop_name=shop_names.get(locale, ""),
            )
            previews.append(
                TemplatePreview(
                    kind=str(kind),
                    locale=locale,
                    in_app=isinstance(kind, MessageKind),
                    title=rendered.title,
                    body=rendered.body,
                    subject=rendered.subject,
                    text=rendered.text,
                )
            )
    return previews
