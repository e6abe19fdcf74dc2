"""A local server that speaks Alibaba Cloud SMS's RPC API (Dysmsapi 2017-05-25 ``SendSms``), for
provider tests.

``GET`` or ``POST /`` with the common parameters and ``Signature``, which is verified the way
Alibaba documents signature version 1.0 (written here independently of the client): the
parameters but ``Signature`` sorted by name, each name and value percent-encoded (RFC 3986:
``quote`` then ``+`` → ``%20``, ``*`` → ``%2A``, ``%7E`` → ``~``), joined as ``name=value``
with ``&``; StringToSign = method + ``&%2F&`` + percent-encode(that);
Base64(HMAC-SHA1(secret + ``&``, StringToSign)).

Answers like the real API: 200 ``{"Code": "OK", "Message": "OK", "BizId", "RequestId"}``;
404 ``InvalidAccessKeyId.NotFound``; 400 ``SignatureDoesNotMatch``,
``InvalidTimeStamp.Expired`` (more than 15 minutes off), ``SignatureNonceUsed``,
``MissingParameter``; business refusals with status 200 and their ``isv.*`` code
(``isv.SMS_SIGNATURE_ILLEGAL``, ``isv.SMS_TEMPLATE_ILLEGAL``, ``isv.MOBILE_NUMBER_ILLEGAL``,
``isv.TEMPLATE_MISSING_PARAMETERS``, or what ``fail_with`` names, e.g. flow control).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import itertools
import json
import re
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.providers.local_server import serving

ACCESS_KEY_ID = "LTAI5tFakeAccessKeyId"
ACCESS_KEY_SECRET = "fake-access-key-secret"
SIGN_NAME = "码卡多商城"
TEMPLATE_CODE = "SMS_154950909"
_REQUIRED = ("PhoneNumbers", "SignName", "TemplateCode")
_COMMON = (
    "AccessKeyId",
    "Action",
    "Format",
    "SignatureMethod",
    "SignatureNonce",
    "SignatureVersion",
    "Timestamp",
    "Version",
    "Signature",
)


def pop_encode(value: str) -> str:
    """Alibaba's documented percent-encoding recipe (URLEncoder, then the three replacements)."""
    return quote(value, safe="").replace("+", "%20").replace("*", "%2A").replace("%7E", "~")


def pop_signature(secret: str, method: str, params: Mapping[str, str]) -> str:
    pairs = sorted((k, v) for k, v in params.items() if k != "Signature")
    canonical = "&".join(f"{pop_encode(k)}={pop_encode(v)}" for k, v in pairs)
    to_sign = f"{method}&{pop_encode('/')}&{pop_encode(canonical)}"
    mac = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


@dataclass
class FakeAliyunSms:
    messages: list[dict[str, str]] = field(default_factory=list)
    #: Every request's parameters as received (signature checks included).
    requests: list[dict[str, str]] = field(default_factory=list)
    #: A business refusal to answer every valid request with: (Code, Message).
    fail_with: tuple[str, str] | None = None
    #: Seconds to wait before answering (timeouts).
    delay: float = 0.0
    base_url: str = ""
    _nonces: set[str] = field(default_factory=set)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def _answer(self, status: int, code: str, message: str, **extra: str) -> JSONResponse:
        body = {"RequestId": str(uuid.uuid4()).upper(), "Code": code, "Message": message, **extra}
        if status != 200:
            body["HostId"] = "dysmsapi.aliyuncs.com"
        return JSONResponse(body, status_code=status)

    def _missing(self, name: str) -> JSONResponse:
        message = f"The input parameter {name} that is mandatory for processing this request is not supplied."
        return self._answer(400, "MissingParameter", message)

    async def rpc(self, request: Request) -> JSONResponse:
        if self.delay:
            await asyncio.sleep(self.delay)
        if request.method == "POST":
            form = await request.form()
            params = {k: str(v) for k, v in form.multi_items()}
        else:
            params = dict(request.query_params)
        self.requests.append(params)
        missing = [name for name in _COMMON if not params.get(name)]
        if missing:
            return self._missing(missing[0])
        if params["AccessKeyId"] != ACCESS_KEY_ID:
            return self._answer(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        if params["Signature"] != pop_signature(ACCESS_KEY_SECRET, request.method, params):
            return self._answer(
                400,
                "SignatureDoesNotMatch",
                "Specified signature is not matched with our calculation.",
            )
        try:
            sent_at = dt.datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
        except ValueError:
            return self._answer(
                400, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted."
            )
        if abs(dt.datetime.now(dt.UTC) - sent_at) > dt.timedelta(minutes=15):
            return self._answer(
                400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."
            )
        if params["SignatureNonce"] in self._nonces:
            return self._answer(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
        self._nonces.add(params["SignatureNonce"])
        if (params["Action"], params["Version"], params["SignatureMethod"], params["SignatureVersion"]) != (
            "SendSms",
            "2017-05-25",
            "HMAC-SHA1",
            "1.0",
        ):
            return self._answer(400, "InvalidParameter", "The specified parameter is not valid.")
        missing = [name for name in _REQUIRED if not params.get(name)]
        if missing:
            return self._missing(missing[0])
        if params["SignName"] != SIGN_NAME:
            return self._answer(200, "isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名")
        if params["TemplateCode"] != TEMPLATE_CODE:
            return self._answer(200, "isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板")
        if not re.fullmatch(r"1[3-9]\d{9}", params["PhoneNumbers"]):
            return self._answer(200, "isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        try:
            variables = json.loads(params.get("TemplateParam", ""))
        except ValueError:
            variables = None
        if not isinstance(variables, dict) or not str(variables.get("code", "")):
            return self._answer(200, "isv.TEMPLATE_MISSING_PARAMETERS", "模板变量缺少对应参数值")
        if self.fail_with is not None:
            return self._answer(200, *self.fail_with)
        biz_id = f"{next(self._ids):06d}^0"
        self.messages.append(
            {
                "biz_id": biz_id,
                "phone": params["PhoneNumbers"],
                "sign_name": params["SignName"],
                "template": params["TemplateCode"],
                "code": str(variables["code"]),
            }
        )
        return self._answer(200, "OK", "OK", BizId=biz_id)


@asynccontextmanager
async def running_fake_aliyun_sms() -> AsyncIterator[FakeAliyunSms]:
    fake = FakeAliyunSms()
    app = Starlette(routes=[Route("/", fake.rpc, methods=["GET", "POST"])])
    async with serving(app) as base_url:
        fake.base_url = base_url
        yield fake
