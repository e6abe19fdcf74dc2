"""Alibaba Cloud SMS (阿里云短信服务, Dysmsapi 2017-05-25 ``SendSms``) over its documented RPC API.

``POST {endpoint}/`` with a form body of the common parameters (``AccessKeyId``, ``Action``,
``Format=JSON``, ``RegionId``, ``SignatureMethod=HMAC-SHA1``, ``SignatureNonce``,
``SignatureVersion=1.0``, ``Timestamp`` in UTC, ``Version=2017-05-25``), the call's own
(``PhoneNumbers``, ``SignName``, ``TemplateCode``, ``TemplateParam`` = ``{"code": "123456"}``)
and ``Signature``: Base64(HMAC-SHA1(AccessKeySecret + "&", StringToSign)) where StringToSign is
``POST&%2F&`` + percent-encode(the parameters sorted by name, each name and value
percent-encoded by RFC 3986, joined as ``name=value`` with ``&``). The answer is JSON:
``{"Code": "OK", "BizId": ..., "RequestId": ...}``, or another ``Code`` with a ``Message``.

Mainland SMS carries only approved templates under an approved signature (签名), so the text
Mercato writes is not sent: the template registered for verification codes
(``MERCATO_SMS_ALIYUN_TEMPLATE_CODE``) gets the code as its ``${code}`` variable.

Errors map onto identity's SMS errors:

- ``isv.MOBILE_NUMBER_ILLEGAL`` (and ``isv.MOBILE_COUNT_OVER_LIMIT``) → ``PhoneInvalid`` (422);
- ``isv.BUSINESS_LIMIT_CONTROL`` (the operator's per-number limits: a minute, an hour, a day) and
  ``isv.DAY_LIMIT_CONTROL`` → ``CodeRateLimited`` (429) with the window as ``Retry-After``;
- anything else (signature or template not approved, balance, bad keys, ``isp.*``), an answer
  that is not JSON, a timeout or an unreachable endpoint → ``SmsDeliveryFailed`` (503), logged
  with Alibaba's code and request id.

Written on httpx rather than the official SDK (``alibabacloud-dysmsapi20170525``), which brings
aiohttp, requests, websocket-client and a credentials chain for this one call (ADR 0009).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from urllib.parse import quote

import httpx
import structlog

from mercato.core import clock
from mercato.core.errors import FieldError
from mercato.identity.errors import CodeRateLimited, PhoneInvalid
from mercato.identity.providers.base import SmsDeliveryFailed

log = structlog.get_logger("mercato.sms.aliyun")

API_VERSION = "2017-05-25"
#: The flow-control window a ``isv.BUSINESS_LIMIT_CONTROL`` message names, in seconds.
_LIMIT_WINDOWS = (("分钟", 60), ("小时", 3600), ("天", 86400))
_PHONE_ERRORS = frozenset({"isv.MOBILE_NUMBER_ILLEGAL", "isv.MOBILE_COUNT_OVER_LIMIT"})


def percent_encode(value: str) -> str:
    """RFC 3986 percent-encoding as Alibaba Cloud signs it: unreserved characters kept,
    everything else (space as ``%20``, ``*`` as ``%2A``) encoded from UTF-8 in upper-case hex."""
    return quote(value, safe="-_.~")


def string_to_sign(method: str, params: Mapping[str, str]) -> str:
    canonical = "&".join(f"{percent_encode(name)}={percent_encode(params[name])}" for name in sorted(params))
    return f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"


def signature(secret: str, method: str, params: Mapping[str, str]) -> str:
    """The ``Signature`` parameter of an RPC call (signature version 1.0, HMAC-SHA1)."""
    digest = hmac.new(f"{secret}&".encode(), string_to_sign(method, params).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def phone_number(e164: str) -> str:
    """How ``PhoneNumbers`` takes a number: 11 digits in the mainland, country code first elsewhere."""
    return e164[3:] if e164.startswith("+86") else e164.lstrip("+")


def _limit_window(message: str) -> int:
    return next((seconds for word, seconds in _LIMIT_WINDOWS if word in message), 60)


class AliyunSms:
    name = "aliyun"

    def __init__(
        self,
        *,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        template_code: str,
        endpoint: str = "https://dysmsapi.aliyuncs.com",
        region_id: str = "cn-hangzhou",
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._key_id = access_key_id
        self._secret = access_key_secret
        #: The approved signature (签名) used when the caller names none.
        self.sign_name = sign_name
        self._template = template_code
        self._region = region_id
        self._client = httpx.AsyncClient(base_url=endpoint.rstrip("/"), timeout=timeout, transport=transport)

    def signed_params(self, call: Mapping[str, str], *, now: dt.datetime | None = None) -> dict[str, str]:
        """``call``'s parameters with the common ones and the signature of a POST."""
        params = {
            "AccessKeyId": self._key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "RegionId": self._region,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "Timestamp": (now or clock.now()).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": API_VERSION,
            **call,
        }
        params["Signature"] = signature(self._secret, "POST", params)
        return params

    async def send(self, *, phone: str, text: str, code: str = "", sign_name: str = "") -> str:
        """Send the verification-code template with ``code`` to ``phone`` (``text`` is not sent:
        mainland SMS carries approved templates only); return Alibaba's ``BizId``.

        ``sign_name`` is the shop's approved signature; empty: ``MERCATO_SMS_ALIYUN_SIGN_NAME``.

        Raises:
            PhoneInvalid, CodeRateLimited, SmsDeliveryFailed (see the module docstring).
        """
        if not code:
            raise ValueError("Alibaba Cloud SMS sends verification codes only; no code given")
        params = self.signed_params(
            {
                "PhoneNumbers": phone_number(phone),
                "SignName": sign_name or self.sign_name,
                "TemplateCode": self._template,
                "TemplateParam": json.dumps({"code": code}, separators=(",", ":")),
            }
        )
        try:
            response = await self._client.post("/", data=params)
        except httpx.HTTPError as exc:
            log.warning("sms.aliyun_unreachable", error=repr(exc))
            raise SmsDeliveryFailed() from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            log.warning("sms.aliyun_unreadable", status_code=response.status_code)
            raise SmsDeliveryFailed()
        result = str(body.get("Code", ""))
        if result == "OK" and response.status_code == 200:
            return str(body.get("BizId", ""))
        message = str(body.get("Message", ""))
        log.warning(
            "sms.aliyun_refused",
            status_code=response.status_code,
            aliyun_error=result,
            aliyun_message=message[:200],
            aliyun_request_id=str(body.get("RequestId", "")),
        )
        if result in _PHONE_ERRORS:
            raise PhoneInvalid(
                fields=[FieldError(("body", "phone"), PhoneInvalid.code, PhoneInvalid.message)]
            )
        if result in {"isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL"}:
            seconds = 86400 if result == "isv.DAY_LIMIT_CONTROL" else _limit_window(message)
            raise CodeRateLimited(retry_after=seconds, seconds=seconds)
        raise SmsDeliveryFailed()

    async def aclose(self) -> None:
        await self._client.aclose()
