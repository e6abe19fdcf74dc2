"""The demo shop's name, customer service, ICP number and legal pages (Chinese and English)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from mercato import identity, shop

PROFILE = shop.ProfileWrite(
    name="集市优选",
    name_en="Mercato Select",
    brand_color="#B3261E",
    service_phone="400-820-8820",
    service_hours="每天 9:00–21:00",
    service_hours_en="Daily 9:00–21:00",
    icp_number="沪ICP备00000000号-1",
    sms_signature="集市优选",
)

PRIVACY = """# 我们收集哪些信息
为了完成下单、配送和售后，我们收集您的手机号或邮箱、收货地址和订单信息。

# 我们如何使用这些信息
- 处理订单、付款、配送和售后
- 发送订单通知和验证码
- 在法律要求时留存交易记录

# 您的权利
您可以在"我的账户 › 隐私"中下载您的个人信息，或注销账号。注销后，法律要求保留的交易记录将匿名保存。

# 联系我们
如有疑问，请致电客服 400-820-8820（每天 9:00–21:00）。"""

PRIVACY_EN = """# What we collect
To take, deliver and service your orders we keep your mobile number or email address,
your delivery addresses and your orders.

# How we use it
- To process orders, payments, deliveries and after-sales requests
- To send order notifications and verification codes
- To keep transaction records where the law requires it

# Your rights
Under My account › Privacy you can download your personal data or delete your account.
Records the law requires us to keep are then kept anonymously.

# Contact
Questions? Call customer service on 400-820-8820 (daily 9:00–21:00)."""

TERMS = """# 适用范围
本协议适用于您在集市优选购买商品和使用账户服务。

# 订单与付款
下单后请在规定时间内完成付款，逾期订单将自动取消。商品价格以下单时页面显示为准。

# 配送
我们会尽快发货，并在订单页提供物流信息。"""

TERMS_EN = """# Scope
These terms apply to buying at Mercato Select and to your account.

# Orders and payment
Pay within the time shown after placing an order; unpaid orders are cancelled automatically.
Prices are those shown when you order.

# Delivery
We ship as soon as we can and show the tracking on the order page."""

AFTERSALES = """# 七天无理由退货
签收后 7 天内，商品完好的可申请退货退款。

# 质量问题
商品存在质量问题的，可申请退款、退货或换货，运费由我们承担。

# 如何申请
在"我的订单"中选择商品并点击"申请售后"。"""

AFTERSALES_EN = """# 7-day returns
Within 7 days of delivery you may return goods in their original condition for a refund.

# Faulty goods
Faulty goods can be refunded, returned or exchanged; we pay the shipping.

# How to ask
Open the order under My orders and choose "After-sales" for the item."""

PAGES = {
    shop.LegalKind.privacy: (PRIVACY, PRIVACY_EN),
    shop.LegalKind.terms: (TERMS, TERMS_EN),
    shop.LegalKind.aftersales: (AFTERSALES, AFTERSALES_EN),
}


async def seed_shop(session: AsyncSession) -> list[str]:
    """The demo shop's profile and legal pages, once: skipped when the shop has saved its
    settings (an owner's own changes are never overwritten)."""
    if (await shop.get_settings(session)).version > 0:
        return []
    actor = identity.Actor(staff_id=None, label="demo")
    change = await shop.update_profile(session, data=PROFILE)
    await identity.record_audit(session, actor=actor, **change.audit())
    for kind, (body, body_en) in PAGES.items():
        _page, change = await shop.publish_legal_page(
            session, kind=kind, data=shop.LegalPageWrite(body=body, body_en=body_en), author=actor.label
        )
        await identity.record_audit(session, actor=actor, **change.audit())
    return [f"shop profile {PROFILE.name} with its privacy policy, terms and after-sales policy"]
