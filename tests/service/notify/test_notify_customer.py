"""notify_customer, the entry other domains (after-sales) call: exact texts for each decision in
both languages, the rendered email (HTML escaped, text verbatim), idempotency by key, and
parameters that do not fit the kind refused with nothing written."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mercato import notify
from mercato.core.db import uow
from mercato.core.settings import get_settings
from tests.factories.identity import make_customer
from tests.service.notify import flow


@pytest.fixture
def sent() -> Iterator[notify.ConsoleEmail]:
    with flow.console_email() as transport:
        yield transport


async def decided(customer_id: int, approved: bool, reason: str, key: str = "aftersales:7:decided") -> Any:
    async with uow() as s:
        return await notify.notify_customer(
            s,
            customer_id=customer_id,
            kind=notify.MessageKind.aftersales_decided,
            params={"order_number": "2026112700000001", "approved": approved, "reason": reason},
            dedupe_key=key,
            link="aftersales:7",
        )


@pytest.mark.parametrize(
    ("_case", "locale", "approved", "reason", "title", "body"),
    [
        ("zh approved", "zh_CN", True, "", "售后申请已通过", "您对订单 2026112700000001 的售后申请已通过。"),
        (
            "zh approved with a note",
            "zh_CN",
            True,
            "请在 7 天内寄回",
            "售后申请已通过",
            "您对订单 2026112700000001 的售后申请已通过。说明：请在 7 天内寄回",
        ),
        (
            "zh rejected",
            "zh_CN",
            False,
            "商品已使用",
            "售后申请未通过",
            "您对订单 2026112700000001 的售后申请未通过。原因：商品已使用",
        ),
        (
            "en approved",
            "en",
            True,
            "",
            "After-sales request approved",
            "Your after-sales request for order 2026112700000001 has been approved.",
        ),
        (
            "en rejected",
            "en",
            False,
            "The item was used.",
            "After-sales request declined",
            "Your after-sales request for order 2026112700000001 has been declined. "
            "Reason: The item was used.",
        ),
    ],
)
async def test_aftersales_decided_texts(
    monkeypatch: pytest.MonkeyPatch,
    _case: str,
    locale: str,
    approved: bool,
    reason: str,
    title: str,
    body: str,
) -> None:
    monkeypatch.setenv("MERCATO_LOCALE", locale)
    get_settings.cache_clear()
    customer = await make_customer()

    message = await decided(customer.id, approved, reason)

    assert message is not None
    assert (message.kind, message.title, message.body, message.link, message.locale, message.read_at) == (
        notify.MessageKind.aftersales_decided,
        title,
        body,
        "aftersales:7",
        locale,
        None,
    )


async def test_the_email_escapes_html_and_keeps_the_text_verbatim(sent: notify.ConsoleEmail) -> None:
    customer = await make_customer(email="alice@example.com", name="<b>爱丽丝</b>")

    await decided(customer.id, False, "包装 <破损> & 缺件")
    await flow.deliver()

    (email,) = sent.sent
    assert (email.sender, email.sender_name, email.recipient) == (
        "noreply@mercato.localhost",
        "Mercato",
        "alice@example.com",
    )
    assert email.subject == "【Mercato】售后申请未通过"
    assert email.text == (
        "<b>爱丽丝</b>，您好：\n"
        "\n"
        "您对订单 2026112700000001 的售后申请未通过。原因：包装 <破损> & 缺件\n"
        "\n"
        "查看详情：http://127.0.0.1:8000/account\n"
        "\n"
        "——\n"
        "此邮件由系统自动发送，请勿直接回复。\n"
        "Mercato\n"
    )
    assert email.html == (
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN">\n'
        "<head>\n"
        '<meta charset="utf-8">\n'
        "<title>售后申请未通过</title>\n"
        "</head>\n"
        '<body style="margin:0;padding:24px;font-family:sans-serif;color:#222;">\n'
        '<h1 style="font-size:20px;">售后申请未通过</h1>\n'
        "<p>&lt;b&gt;爱丽丝&lt;/b&gt;，您好：</p>\n"
        "<p>您对订单 2026112700000001 的售后申请未通过。原因：包装 &lt;破损&gt; &amp; 缺件</p>\n"
        '<p><a href="http://127.0.0.1:8000/account">查看详情</a></p>\n'
        '<p style="color:#888;font-size:12px;">此邮件由系统自动发送，请勿直接回复。<br>Mercato</p>\n'
        "</body>\n"
        "</html>\n"
    )
    assert email.message_id.startswith("<notify.")
    assert email.message_id.endswith("@mercato.localhost>")


async def test_the_same_key_notifies_once_and_returns_the_first_message(sent: notify.ConsoleEmail) -> None:
    customer = await make_customer(email="alice@example.com")

    first = await decided(customer.id, True, "")
    again = await decided(customer.id, False, "changed")  # same fact: the first message stands
    other = await decided(customer.id, False, "", key="aftersales:8:decided")
    await flow.deliver()

    assert again == first
    assert other is not None
    assert other.id != first.id
    assert await flow.counts() == {
        "notify_message": 2,
        "notify_delivery": 2,
        "notify_delivery_status_change": 6,
    }
    assert len(sent.sent) == 2


async def test_an_unknown_customer_is_told_nothing() -> None:
    assert await decided(999_999, True, "") is None
    assert await flow.counts() == {
        "notify_message": 0,
        "notify_delivery": 0,
        "notify_delivery_status_change": 0,
    }


@pytest.mark.parametrize(
    ("_case", "params", "key"),
    [
        ("missing param", {"order_number": "1", "approved": True}, "k"),
        ("extra param", {"order_number": "1", "approved": True, "reason": "", "amount": 1}, "k"),
        ("empty key", {"order_number": "1", "approved": True, "reason": ""}, ""),
        ("key too long", {"order_number": "1", "approved": True, "reason": ""}, "k" * 201),
    ],
)
async def test_params_that_do_not_fit_the_kind_are_refused_and_write_nothing(
    _case: str, params: dict[str, Any], key: str
) -> None:
    customer = await make_customer(email="alice@example.com")

    with pytest.raises(ValueError, match="params|dedupe_key"):
        async with uow() as s:
            await notify.notify_customer(
                s,
                customer_id=customer.id,
                kind=notify.MessageKind.aftersales_decided,
                params=params,
                dedupe_key=key,
            )

    assert await flow.counts() == {
        "notify_message": 0,
        "notify_delivery": 0,
        "notify_delivery_status_change": 0,
    }


def test_every_kind_has_templates_in_every_language() -> None:
    from mercato.core.i18n import SUPPORTED  # noqa: PLC0415
    from mercato.notify.templating import TEMPLATES  # noqa: PLC0415

    for locale in SUPPORTED:
        for kind in notify.MessageKind:
            assert (TEMPLATES / "notify" / locale / f"{kind}.txt").is_file(), (locale, kind)
        assert (TEMPLATES / "notify" / locale / "email.txt").is_file()
        assert (TEMPLATES / "notify" / locale / "email.html").is_file()
    assert set(notify.KIND_PARAMS) == set(notify.MessageKind)
