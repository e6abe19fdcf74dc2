"""WeChat sign-in: a trip to WeChat's authorisation page and back, then sign-in, linking, or a
mobile number proven to link (or create) an account.

A trip is three short steps, none holding a transaction across a network call:

1. ``begin_wechat_authorization`` (a transaction): a random ``state`` whose hash is stored for
   ``WECHAT_AUTHORIZATION_TTL``; the browser keeps the state in a cookie and is sent to WeChat.
2. ``claim_wechat_authorization`` (a transaction): WeChat's callback must bring the state the
   browser holds; it is used once, by one conditional UPDATE, before it expires.
   ``identify_wechat_user`` then asks WeChat who the shopper is (no transaction).
3. ``complete_wechat_authorization`` (a transaction): an identity one of our apps knows
   (``appid`` + ``openid``), or any app knows by its ``unionid``, signs that customer in (the
   other app's openid is linked on the way); for a signed-in customer (link, pay) it is linked to
   them, unless it belongs to someone else. An identity nobody knows gets a ``ticket`` (only
   its hash is stored) with which the browser proves a mobile number by SMS code
   (``bind_wechat_by_phone``): the number's account is linked, or created with the phone and
   linked (Chinese shops need a verified mobile number on every account).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.core import clock
from mercato.core.errors import FieldError
from mercato.core.security import constant_time_equals, hash_token, new_token
from mercato.core.settings import get_settings
from mercato.identity.errors import (
    ConsentRequired,
    WeChatAccountNotFound,
    WeChatAlreadyLinked,
    WeChatLinkExists,
    WeChatNotConfigured,
    WeChatStateInvalid,
)
from mercato.identity.models import Customer, WeChatAccount, WeChatAuthorization
from mercato.identity.providers.wechat import WeChatApp, WeChatOAuth
from mercato.identity.schemas import (
    BindWeChat,
    CodePurpose,
    CustomerRead,
    CustomerStatus,
    RequestMeta,
    WeChatAccountRead,
    WeChatAppKind,
    WeChatAuthorizationRead,
    WeChatBinding,
    WeChatIdentity,
    WeChatOutcome,
    WeChatPurpose,
    WeChatRedirect,
)
from mercato.identity.service.codes import verify_code
from mercato.identity.service.customers import create_customer, to_read
from mercato.identity.service.normalize import normalize_phone

#: How long the trip to WeChat may take (scanning the QR code included).
WECHAT_AUTHORIZATION_TTL = dt.timedelta(minutes=10)
#: How long a WeChat identity waits for a mobile number once WeChat has sent the shopper back.
WECHAT_TICKET_TTL = dt.timedelta(minutes=15)
#: Finished or abandoned trips are deleted this long after they expire.
KEEP_EXPIRED = dt.timedelta(days=1)
_SCOPES = {
    (WeChatAppKind.open, False): "snsapi_login",
    (WeChatAppKind.mp, False): "snsapi_userinfo",
    (WeChatAppKind.mp, True): "snsapi_base",
}


def wechat_app(kind: WeChatAppKind) -> WeChatApp | None:
    """The configured app of ``kind``, or None."""
    configured = get_settings().wechat_app(kind.value)
    return WeChatApp(kind=kind, appid=configured[0], secret=configured[1]) if configured else None


def wechat_app_for(*, in_wechat: bool) -> WeChatAppKind | None:
    """The app a browser signs in through: the official account inside WeChat (the website app
    when only it is configured), the website app's QR code elsewhere (an official account's
    authorisation page opens only inside WeChat); None when neither serves the browser."""
    if in_wechat and wechat_app(WeChatAppKind.mp):
        return WeChatAppKind.mp
    return WeChatAppKind.open if wechat_app(WeChatAppKind.open) else None


def _oauth(kind: WeChatAppKind) -> WeChatOAuth:
    app = wechat_app(kind)
    if app is None:
        raise WeChatNotConfigured()
    settings = get_settings()
    return WeChatOAuth(app, connect_url=settings.wechat_connect_url, api_url=settings.wechat_api_url)


async def begin_wechat_authorization(
    session: AsyncSession,
    *,
    app_kind: WeChatAppKind,
    purpose: WeChatPurpose,
    customer_id: int | None,
    next_url: str,
    redirect_uri: str,
) -> WeChatRedirect:
    """Start a trip to WeChat: store the state's hash and return WeChat's authorisation URL.

    Paying (``pay``) asks silently for the official account's openid (``snsapi_base``); the
    other purposes ask for the profile too. Trips that expired a day ago are deleted here.

    Raises:
        WeChatNotConfigured: the app is not configured.
    """
    oauth = _oauth(app_kind)
    now = clock.now()
    await session.execute(
        delete(WeChatAuthorization).where(WeChatAuthorization.expires_at < now - KEEP_EXPIRED)
    )
    state = new_token()
    session.add(
        WeChatAuthorization(
            state_hash=hash_token(state),
            app_kind=app_kind.value,
            purpose=purpose.value,
            customer_id=customer_id,
            next_url=next_url[:500],
            created_at=now,
            expires_at=now + WECHAT_AUTHORIZATION_TTL,
            nickname="",
        )
    )
    await session.flush()
    scope = _SCOPES[(app_kind, purpose is WeChatPurpose.pay)]
    url = oauth.authorize_url(redirect_uri=redirect_uri, state=state, scope=scope)
    return WeChatRedirect(url=url, state=state)


async def claim_wechat_authorization(
    session: AsyncSession, *, state: str, browser_state: str | None
) -> WeChatAuthorizationRead:
    """Use the trip WeChat's callback names by ``state``, once.

    Raises:
        WeChatStateInvalid: the browser holds another state (or none), or the state is unknown,
            used already or expired.
    """
    if not state or not browser_state or not constant_time_equals(state, browser_state):
        raise WeChatStateInvalid()
    now = clock.now()
    claimed = await session.execute(
        update(WeChatAuthorization)
        .where(
            WeChatAuthorization.state_hash == hash_token(state),
            WeChatAuthorization.used_at.is_(None),
            WeChatAuthorization.expires_at > now,
        )
        .values(used_at=now)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        raise WeChatStateInvalid()
    row = (
        await session.execute(
            select(WeChatAuthorization).where(WeChatAuthorization.state_hash == hash_token(state))
        )
    ).scalar_one()
    return WeChatAuthorizationRead(
        id=row.id,
        app_kind=WeChatAppKind(row.app_kind),
        purpose=WeChatPurpose(row.purpose),
        customer_id=row.customer_id,
        next_url=row.next_url,
    )


async def identify_wechat_user(
    *, app_kind: WeChatAppKind, purpose: WeChatPurpose, code: str
) -> WeChatIdentity:
    """Ask WeChat who the shopper is (a network call: never inside a transaction).

    Raises:
        WeChatNotConfigured, WeChatRefused, WeChatUnavailable.
    """
    return await _oauth(app_kind).identify(code=code, with_profile=purpose is not WeChatPurpose.pay)


async def _linked(session: AsyncSession, appid: str, identity: WeChatIdentity) -> int | None:
    """The active customer this identity belongs to: by its openid under ``appid``, else by
    its unionid under any of our apps."""
    active = Customer.status == CustomerStatus.active.value
    by_openid = (
        await session.execute(
            select(WeChatAccount.customer_id)
            .join(Customer, Customer.id == WeChatAccount.customer_id)
            .where(WeChatAccount.appid == appid, WeChatAccount.openid == identity.openid, active)
        )
    ).scalar_one_or_none()
    if by_openid is not None or not identity.unionid:
        return by_openid
    return (
        await session.execute(
            select(WeChatAccount.customer_id)
            .join(Customer, Customer.id == WeChatAccount.customer_id)
            .where(WeChatAccount.unionid == identity.unionid, active)
            .limit(1)
        )
    ).scalar_one_or_none()


async def _link(
    session: AsyncSession, *, customer_id: int, app_kind: WeChatAppKind, appid: str, identity: WeChatIdentity
) -> None:
    """Link the identity's openid under ``appid`` to the customer (nothing to do when it is).

    Raises:
        WeChatAlreadyLinked: the openid belongs to another customer.
        WeChatLinkExists: the customer has another WeChat identity under this app.
    """
    owner = (
        await session.execute(
            select(WeChatAccount.customer_id).where(
                WeChatAccount.appid == appid, WeChatAccount.openid == identity.openid
            )
        )
    ).scalar_one_or_none()
    if owner == customer_id:
        return
    if owner is not None:
        raise WeChatAlreadyLinked()
    session.add(
        WeChatAccount(
            customer_id=customer_id,
            app_kind=app_kind.value,
            appid=appid,
            openid=identity.openid,
            unionid=identity.unionid,
            nickname=identity.nickname,
            linked_at=clock.now(),
        )
    )
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:  # the customer's own link under this app, or a concurrent twin
        taken = (
            await session.execute(
                select(WeChatAccount.id).where(
                    WeChatAccount.appid == appid, WeChatAccount.openid == identity.openid
                )
            )
        ).first()
        raise (WeChatAlreadyLinked() if taken else WeChatLinkExists()) from exc


async def _signed_in(session: AsyncSession, customer_id: int) -> None:
    now = clock.now()
    await session.execute(update(Customer).where(Customer.id == customer_id).values(last_login_at=now))


async def complete_wechat_authorization(
    session: AsyncSession,
    *,
    authorization: WeChatAuthorizationRead,
    identity: WeChatIdentity,
    current_customer_id: int | None,
) -> WeChatOutcome:
    """Sign in, link, or hand out a ticket to prove a mobile number (see the module docstring).

    Raises:
        WeChatNotConfigured: the app was removed from the settings meanwhile.
        WeChatStateInvalid: a link or pay trip that another (or no) customer now comes back from.
        WeChatAlreadyLinked: linking an identity that belongs to another customer.
        WeChatLinkExists: the customer already has another WeChat identity under this app.
    """
    app = wechat_app(authorization.app_kind)
    if app is None:
        raise WeChatNotConfigured()
    outcome = WeChatOutcome(purpose=authorization.purpose, next_url=authorization.next_url)
    owner = await _linked(session, app.appid, identity)
    if authorization.purpose is not WeChatPurpose.login:
        customer_id = authorization.customer_id
        if customer_id is None or customer_id != current_customer_id:
            raise WeChatStateInvalid()
        if owner is not None and owner != customer_id:
            raise WeChatAlreadyLinked()
        await _link(session, customer_id=customer_id, app_kind=app.kind, appid=app.appid, identity=identity)
        return outcome.model_copy(update={"customer_id": customer_id})
    if owner is not None:
        await _link(session, customer_id=owner, app_kind=app.kind, appid=app.appid, identity=identity)
        await _signed_in(session, owner)
        return outcome.model_copy(update={"customer_id": owner})
    ticket = new_token()
    await session.execute(
        update(WeChatAuthorization)
        .where(WeChatAuthorization.id == authorization.id)
        .values(
            ticket_hash=hash_token(ticket),
            openid=identity.openid,
            unionid=identity.unionid,
            nickname=identity.nickname,
        )
    )
    return outcome.model_copy(update={"ticket": ticket})


async def _pending(session: AsyncSession, ticket: str | None) -> WeChatAuthorization:
    now = clock.now()
    row = (
        (
            await session.execute(
                select(WeChatAuthorization).where(WeChatAuthorization.ticket_hash == hash_token(ticket))
            )
        ).scalar_one_or_none()
        if ticket
        else None
    )
    if (
        row is None
        or row.bound_at is not None
        or row.used_at is None
        or row.used_at + WECHAT_TICKET_TTL <= now
        or not row.openid
    ):
        raise WeChatStateInvalid()
    return row


async def get_wechat_binding(session: AsyncSession, *, ticket: str | None) -> WeChatBinding:
    """The WeChat identity the browser's ticket holds, waiting for a mobile number.

    Raises:
        WeChatStateInvalid: no ticket, or it is unknown, used or expired.
    """
    row = await _pending(session, ticket)
    return WeChatBinding(app_kind=WeChatAppKind(row.app_kind), nickname=row.nickname, next_url=row.next_url)


async def bind_wechat_by_phone(
    session: AsyncSession, *, ticket: str | None, data: BindWeChat, meta: RequestMeta
) -> CustomerRead:
    """Link the ticket's WeChat identity to the account of the mobile number proven by its SMS
    code (a ``login`` code); with no account for the number, create one (consent recorded).

    The privacy policy must be accepted either way: the page cannot say beforehand whether the
    number has an account without telling a stranger so.

    Raises:
        WeChatStateInvalid: no ticket, or it is unknown, used or expired.
        ConsentRequired, PhoneInvalid, CodeExpired, CodeInvalid, CodeAttemptsExceeded,
        WeChatNotConfigured, WeChatAlreadyLinked, WeChatLinkExists.
    """
    row = await _pending(session, ticket)
    phone = normalize_phone(data.phone)
    if not data.accept_privacy_policy:
        raise ConsentRequired(
            fields=[
                FieldError(("body", "accept_privacy_policy"), ConsentRequired.code, ConsentRequired.message)
            ]
        )
    await verify_code(session, destination=phone, purpose=CodePurpose.login, code=data.code)
    app_kind = WeChatAppKind(row.app_kind)
    app = wechat_app(app_kind)
    if app is None:
        raise WeChatNotConfigured()
    bound = await session.execute(
        update(WeChatAuthorization)
        .where(WeChatAuthorization.id == row.id, WeChatAuthorization.bound_at.is_(None))
        .values(bound_at=clock.now())
    )
    if getattr(bound, "rowcount", 0) != 1:
        raise WeChatStateInvalid()  # a concurrent request used the ticket first
    customer = (
        await session.execute(
            select(Customer).where(Customer.phone == phone, Customer.status == CustomerStatus.active.value)
        )
    ).scalar_one_or_none()
    found = (
        to_read(customer)
        if customer is not None
        else await create_customer(
            session, phone=phone, email=None, password=None, name=row.nickname[:60], meta=meta, checked=True
        )
    )
    identity = WeChatIdentity(openid=row.openid or "", unionid=row.unionid, nickname=row.nickname)
    await _link(session, customer_id=found.id, app_kind=app_kind, appid=app.appid, identity=identity)
    await _signed_in(session, found.id)
    return found.model_copy(update={"last_login_at": clock.now()})


async def list_wechat_accounts(session: AsyncSession, *, customer_id: int) -> list[WeChatAccountRead]:
    rows = (
        await session.execute(
            select(WeChatAccount).where(WeChatAccount.customer_id == customer_id).order_by(WeChatAccount.id)
        )
    ).scalars()
    return [WeChatAccountRead.model_validate(row) for row in rows]


async def unlink_wechat(session: AsyncSession, *, customer_id: int, account_id: int) -> None:
    """Remove one of the customer's WeChat links (signing in with WeChat then no longer finds them).

    Raises:
        WeChatAccountNotFound: no such link, or another customer's.
    """
    removed = await session.execute(
        delete(WeChatAccount).where(WeChatAccount.id == account_id, WeChatAccount.customer_id == customer_id)
    )
    if getattr(removed, "rowcount", 0) != 1:
        raise WeChatAccountNotFound()


async def find_payer_openid(session: AsyncSession, *, customer_id: int, appid: str) -> str | None:
    """The customer's openid under ``appid`` (WeChat Pay JSAPI pays as the official account's
    user, under the same appid), or None when they have not authorised that app."""
    return (
        await session.execute(
            select(WeChatAccount.openid).where(
                WeChatAccount.customer_id == customer_id, WeChatAccount.appid == appid
            )
        )
    ).scalar_one_or_none()
