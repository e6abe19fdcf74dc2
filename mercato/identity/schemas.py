"""Public identity DTOs and inputs."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field

from mercato.core.schemas import IdInt, InputModel, MultilineText, ReadModel

Password = Annotated[str, Field(min_length=1, max_length=128)]
Code = Annotated[str, Field(min_length=4, max_length=8, pattern=r"^\d+$")]
Identifier = Annotated[str, Field(min_length=3, max_length=254)]


class CodePurpose(StrEnum):
    """Why a verification code is sent."""

    register = "register"  # prove the number before creating an account
    login = "login"  # passwordless sign-in
    reset_password = "reset_password"  # set a new password  # noqa: S105
    delete_account = "delete_account"  # confirm erasure without a password


class CustomerStatus(StrEnum):
    active = "active"  # can sign in
    deleted = "deleted"  # erased at the customer's request; kept only for records that must stay


class SendCode(InputModel):
    phone: Annotated[str, Field(min_length=3, max_length=30)]
    purpose: CodePurpose


class SendEmailCode(InputModel):
    """Ask for a code by email: to register with the address, or to reset the password of the
    account that uses it (the answer is the same whether or not there is one)."""

    email: Annotated[str, Field(min_length=3, max_length=254)]
    purpose: Literal[CodePurpose.register, CodePurpose.reset_password]


class RegisterCustomer(InputModel):
    phone: Annotated[str | None, Field(max_length=30)] = None
    email: Annotated[str | None, Field(max_length=254)] = None
    password: Password | None = None
    code: Code | None = None
    name: Annotated[str, Field(max_length=60)] = ""
    accept_privacy_policy: bool = False


class PasswordLogin(InputModel):
    identifier: Identifier
    password: Password


class CodeLogin(InputModel):
    phone: Annotated[str, Field(min_length=3, max_length=30)]
    code: Code


class ChangePassword(InputModel):
    current_password: Password
    new_password: Password


class ResetPassword(InputModel):
    """A new password with the reset code sent to the account's mobile or email (give one)."""

    phone: Annotated[str | None, Field(min_length=3, max_length=30)] = None
    email: Annotated[str | None, Field(min_length=3, max_length=254)] = None
    code: Code
    new_password: Password


class UpdateProfile(InputModel):
    name: Annotated[str, Field(max_length=60)]


class DeleteAccount(InputModel):
    password: Password | None = None
    code: Code | None = None


class CustomerRead(ReadModel):
    id: int
    phone: str | None
    email: str | None
    name: str
    status: CustomerStatus
    has_password: bool
    created_at: dt.datetime
    last_login_at: dt.datetime | None


class IssuedToken(ReadModel):
    """A new session or bearer token: the secret is shown once and never stored."""

    token: str
    token_id: int
    expires_at: dt.datetime


class SignedIn(ReadModel):
    customer: CustomerRead
    token: IssuedToken


class TokenRead(ReadModel):
    id: int
    kind: str
    name: str
    ip: str | None
    user_agent: str
    created_at: dt.datetime
    expires_at: dt.datetime
    last_used_at: dt.datetime | None


class ConsentRead(ReadModel):
    policy: str
    policy_version: str
    granted: bool
    created_at: dt.datetime


class AddressWrite(InputModel):
    recipient: Annotated[str, Field(min_length=1, max_length=50)]
    phone: Annotated[str, Field(min_length=3, max_length=30)]
    province: Annotated[str, Field(min_length=1, max_length=30)]
    city: Annotated[str, Field(min_length=1, max_length=30)]
    district: Annotated[str, Field(min_length=1, max_length=30)]
    detail: Annotated[str, Field(min_length=1, max_length=200)]
    postal_code: Annotated[str, Field(max_length=10, pattern=r"^\d{0,10}$")] = ""
    is_default: bool = False


class AddressRead(ReadModel):
    id: int
    recipient: str
    phone: str
    province: str
    city: str
    district: str
    detail: str
    postal_code: str
    is_default: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class Region(ReadModel):
    """A province, city or district (省/市/区) with its GB/T 2260 code."""

    code: str
    name: str


class RegionChoices(ReadModel):
    """What the three region pickers offer and hold: the chosen names (blank where nothing valid
    is chosen yet), the provinces, the chosen province's cities and the chosen city's districts."""

    province: str = ""
    city: str = ""
    district: str = ""
    provinces: list[Region]
    cities: list[Region]
    districts: list[Region]


class ParsedAddress(ReadModel):
    """The parts recognised in a pasted address line; blank where a part was not found."""

    recipient: str = ""
    phone: str = ""
    province: str = ""
    city: str = ""
    district: str = ""
    detail: str = ""


class CustomerExport(ReadModel):
    """Everything Mercato holds about a customer, for a data-portability request."""

    exported_at: dt.datetime
    customer: CustomerRead
    consents: list[ConsentRead]
    addresses: list[AddressRead]
    sessions: list[TokenRead]
    extra: dict[str, Any] = Field(default_factory=dict)


class RequestMeta(ReadModel):
    """Who is calling from where: recorded with consents, sessions and audit entries."""

    ip: str | None = None
    user_agent: str = ""
    request_id: str | None = None


# -- staff ---------------------------------------------------------------------------------


class StaffLogin(InputModel):
    email: Annotated[str, Field(min_length=3, max_length=254)]
    password: Password


class StaffRead(ReadModel):
    id: int
    email: str
    name: str
    is_superuser: bool
    is_active: bool
    roles: list[str]
    permissions: list[str]
    created_at: dt.datetime
    last_login_at: dt.datetime | None

    def has(self, permission: str) -> bool:
        return self.is_superuser or permission in self.permissions


class StaffSignedIn(ReadModel):
    staff: StaffRead
    token: IssuedToken


class Actor(ReadModel):
    """The staff member behind a write, for the audit log."""

    staff_id: int | None
    label: str
    ip: str | None = None
    request_id: str | None = None


PermissionCode = Annotated[str, Field(min_length=3, max_length=60)]
RoleName = Annotated[str, Field(min_length=1, max_length=60)]


class PermissionRead(ReadModel):
    """One entry of the permission catalogue."""

    code: str
    description: str


class RoleRead(ReadModel):
    id: int
    name: str
    description: str
    permissions: list[str]
    created_at: dt.datetime


class RoleWrite(InputModel):
    """A new role: a name and the permissions it grants (codes from the catalogue)."""

    name: RoleName
    description: Annotated[MultilineText, Field(max_length=300)] = ""
    permissions: Annotated[list[PermissionCode], Field(max_length=100)] = []


class RoleUpdate(InputModel):
    """A partial change to a role; fields left out stay as they are."""

    name: RoleName | None = None
    description: Annotated[MultilineText | None, Field(max_length=300)] = None
    permissions: Annotated[list[PermissionCode] | None, Field(max_length=100)] = None


class StaffCreate(InputModel):
    email: Annotated[str, Field(min_length=3, max_length=254)]
    password: Password
    name: Annotated[str, Field(max_length=60)] = ""
    is_superuser: bool = False
    role_ids: Annotated[list[IdInt], Field(max_length=50)] = []


class StaffUpdate(InputModel):
    """A partial change to a staff member; ``role_ids`` replaces the roles when given."""

    name: Annotated[str | None, Field(max_length=60)] = None
    is_active: bool | None = None
    is_superuser: bool | None = None
    role_ids: Annotated[list[IdInt] | None, Field(max_length=50)] = None


class AuditEntryRead(ReadModel):
    """One staff write: who, what, which object, the state before and after, from where, when."""

    id: int
    actor_id: int | None
    actor_label: str
    action: str
    object_type: str
    object_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    ip: str | None
    request_id: str | None
    created_at: dt.datetime


class CustomerTagRead(ReadModel):
    """A tag of the shop's vocabulary; ``customers`` is how many accounts carry it (in lists)."""

    id: int
    name: str
    customers: int = 0


class TagCustomer(InputModel):
    """A tag to put on a customer or take off (normalised by the service: NFKC, spaces folded)."""

    tag: Annotated[str, Field(min_length=1, max_length=40)]


class CustomerNoteWrite(InputModel):
    body: Annotated[MultilineText, Field(min_length=1, max_length=2000)]


class CustomerNoteRead(ReadModel):
    id: int
    customer_id: int
    author_id: int | None
    author_label: str
    body: str
    created_at: dt.datetime


class CustomerMatch(ReadModel):
    """Who a staff search term names exactly: the accounts whose mobile number, email or name it
    is (newest first, at most a few hundred), and the term as a normalised mobile number, if it is
    one, for matching elsewhere (an order's recipient)."""

    customer_ids: list[int]
    phone: str | None = None
    name: str = ""


class WeChatAppKind(StrEnum):
    """Which of the shop's WeChat apps a shopper signs in through."""

    open = "open"  # Open Platform website app (网站应用): QR code on a computer, scope snsapi_login
    mp = "mp"  # official account (公众号): inside WeChat, snsapi_userinfo (or snsapi_base to pay)


class WeChatPurpose(StrEnum):
    """Why the shopper was sent to WeChat."""

    login = "login"  # sign in (or link to / create an account by mobile number)
    link = "link"  # a signed-in customer links WeChat to the account
    pay = "pay"  # a signed-in customer's official-account openid, for WeChat Pay JSAPI


class WeChatRedirect(ReadModel):
    """Where to send the browser, and the state it must hold (in a cookie) when it comes back."""

    url: str
    state: str


class WeChatIdentity(ReadModel):
    """Who WeChat says the shopper is (from the token and, with snsapi_userinfo or
    snsapi_login, the user info)."""

    openid: str
    unionid: str | None = None
    nickname: str = ""


class WeChatAuthorizationRead(ReadModel):
    """A claimed trip to WeChat: what it was for and where to go afterwards."""

    id: int
    app_kind: WeChatAppKind
    purpose: WeChatPurpose
    customer_id: int | None
    next_url: str


class WeChatOutcome(ReadModel):
    """The end of a trip to WeChat: ``customer_id`` to sign in (login) or the customer linked
    (link, pay); or, for an identity no account knows yet, the ``ticket`` that lets the browser
    link it by proving a mobile number."""

    purpose: WeChatPurpose
    next_url: str
    customer_id: int | None = None
    ticket: str | None = None


class WeChatBinding(ReadModel):
    """A WeChat identity waiting to be linked to an account proven by a mobile number."""

    app_kind: WeChatAppKind
    nickname: str
    next_url: str


class BindWeChat(InputModel):
    """Link the pending WeChat identity to the account of ``phone`` (created if there is none)."""

    phone: Annotated[str, Field(min_length=3, max_length=30)]
    code: Code
    accept_privacy_policy: bool = False


class WeChatAccountRead(ReadModel):
    id: int
    app_kind: WeChatAppKind
    nickname: str
    linked_at: dt.datetime
