"""Kuaidi100 (快递100) over its documented HTTP API: real-time query, subscription and push.

Real-time query (实时快递查询), ``POST {base}/poll/query.do``, form fields::

    customer = <customer id>
    param    = {"com": <carrier code>, "num": <tracking number>, "phone": <optional>, "resultv2": "1"}
    sign     = upper(hex(MD5(param + key + customer)))

answers the tracking result (``state``, ``data`` newest first, ``com``, ``nu``) or
``{"result": false, "returnCode": ..., "message": ...}``; ``returnCode`` 500 is "no record yet".

Subscription (订阅), ``POST {base}/poll``, form fields ``schema=json`` and::

    param = {"company": ..., "number": ..., "key": <key>,
             "parameters": {"callbackurl": ..., "salt": <salt>, "resultv2": "1", "phone": <optional>}}

answers ``{"result": true, "returnCode": "200", "message": "提交成功"}``; 501 means the parcel is
already followed (a repeat), 500 a server error (try again); 600/601/700/701/702 are refusals.

Push (推送) to ``callbackurl``: form fields ``param`` (JSON: ``status`` polling/shutdown/abort/
updateall, ``message``, ``lastResult`` {``state``, ``com``, ``nu``, ``data`` [{``time``,
``ftime``, ``context``, ``status``, ``areaName``…}]}) and ``sign`` = upper(hex(MD5(param +
salt))). We answer ``{"result": true, "returnCode": "200", "message": "成功"}``; anything else
makes Kuaidi100 push again later. Times are Beijing time without an offset.

We call it with httpx: the protocol is three form posts, and the vendor's Python demo uses the
blocking ``requests``. Decision record: docs/decisions/0017-fulfilment-and-carriers.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import structlog

from mercato.fulfillment.carriers.base import Parcel, TrackerRefused, TrackingUpdate, TrackPoint
from mercato.fulfillment.errors import CarrierUnavailable, InvalidPush, InvalidPushSignature
from mercato.fulfillment.states import TrackingStatus as T

log = structlog.get_logger("mercato.fulfillment.kuaidi100")

NAME = "kuaidi100"
NOTIFY_PATH = "/api/v1/fulfillment/notify/kuaidi100"
QUERY_PATH = "/poll/query.do"
SUBSCRIBE_PATH = "/poll"
BEIJING = ZoneInfo("Asia/Shanghai")
ACK: dict[str, Any] = {"result": True, "returnCode": "200", "message": "成功"}
MAX_EVENTS = 500

#: Kuaidi100 main states (``state``) → ours; 3-digit advanced states (resultv2=4) map by their
#: first digit, 4-digit ones starting 10 (1001 到达派件城市 …) are in transit.
_STATES = {
    "0": T.in_transit,  # 在途
    "1": T.collected,  # 揽收
    "2": T.exception,  # 疑难
    "3": T.delivered,  # 签收
    "4": T.returned,  # 退签
    "5": T.out_for_delivery,  # 派件
    "6": T.returning,  # 退回
    "7": T.in_transit,  # 转投
    "8": T.in_transit,  # 清关
    "10": T.in_transit,  # 待清关
    "11": T.in_transit,  # 清关中
    "12": T.in_transit,  # 已清关
    "13": T.exception,  # 清关异常
    "14": T.refused,  # 拒签
}
#: The state name each ``data`` item carries with resultv2=1 → ours.
_NAMES = {
    "在途": T.in_transit,
    "揽收": T.collected,
    "疑难": T.exception,
    "签收": T.delivered,
    "退签": T.returned,
    "派件": T.out_for_delivery,
    "退回": T.returning,
    "转投": T.in_transit,
    "转单": T.in_transit,
    "清关": T.in_transit,
    "待清关": T.in_transit,
    "清关中": T.in_transit,
    "已清关": T.in_transit,
    "清关异常": T.exception,
    "拒签": T.refused,
}


def md5_upper(text: str) -> str:
    """Kuaidi100's signature: the upper-case hex MD5 of the UTF-8 text (its protocol, not ours)."""
    return hashlib.md5(text.encode()).hexdigest().upper()  # noqa: S324 - the provider's documented scheme


def query_sign(param: str, key: str, customer: str) -> str:
    return md5_upper(param + key + customer)


def push_sign(param: str, salt: str) -> str:
    return md5_upper(param + salt)


def tracking_status(state: str) -> T:
    """Our status for a Kuaidi100 state code (unknown codes count as in transit)."""
    if state in _STATES:
        return _STATES[state]
    if state.isdigit() and len(state) == 3:
        if state in {"101", "102"}:  # 已下单, 待揽收: not collected yet
            return T.shipped
        return _STATES.get(state[0], T.in_transit)
    return T.in_transit


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _when(raw: object) -> dt.datetime:
    if not isinstance(raw, str):
        raise ValueError("no time")
    return dt.datetime.strptime(raw.strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING).astimezone(dt.UTC)


def read_result(result: Mapping[str, Any]) -> TrackingUpdate:
    """Read a tracking result (a query answer, or a push's ``lastResult``).

    Raises: ValueError when it is not one.
    """
    state = result.get("state")
    state_code = str(state).strip() if state not in (None, "") else ""
    status = tracking_status(state_code) if state_code else None
    data = result.get("data") or []
    if not isinstance(data, list):
        raise ValueError("data is not a list")
    points = []
    for index, item in enumerate(data[:MAX_EVENTS]):
        if not isinstance(item, dict):
            raise ValueError("a data item is not an object")
        context = item.get("context")
        if not isinstance(context, str) or not context.strip():
            raise ValueError("a data item has no context")
        name = str(item.get("status") or "").strip()
        code = str(item.get("statusCode") or "").strip()
        fallback = status if index == 0 and status is not None else T.in_transit
        points.append(
            TrackPoint(
                occurred_at=_when(item.get("ftime") or item.get("time")),
                context=context.strip()[:1000],
                status=tracking_status(code) if code else _NAMES.get(name, fallback),
                carrier_status=name[:20],
                location=str(item.get("areaName") or "")[:100],
            )
        )
    return TrackingUpdate(
        carrier=str(result.get("com") or "").strip(),
        tracking_number=str(result.get("nu") or "").strip().upper(),
        status=status,
        carrier_state=state_code[:10],
        events=tuple(points),
    )


class Kuaidi100Tracker:
    """The shop's client of Kuaidi100 (see the module docstring)."""

    name = NAME

    def __init__(
        self,
        *,
        customer: str,
        key: str,
        salt: str,
        base_url: str,
        callback_url: str,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._customer = customer
        self._key = key
        self._salt = salt
        self._base_url = base_url.rstrip("/")
        self._callback_url = callback_url
        self._timeout = timeout
        self._transport = transport

    async def _post(self, path: str, form: dict[str, str]) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(
                base_url=self._base_url, timeout=self._timeout, transport=self._transport
            ) as client:
                response = await client.post(path, data=form)
        except httpx.HTTPError as exc:
            log.warning("kuaidi100.unreachable", path=path, error=repr(exc))
            raise CarrierUnavailable() from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200 or not isinstance(body, dict):
            log.warning("kuaidi100.bad_answer", path=path, status_code=response.status_code)
            raise CarrierUnavailable()
        return body

    async def subscribe(self, parcel: Parcel) -> None:
        parameters = {"callbackurl": self._callback_url, "salt": self._salt, "resultv2": "1"}
        if parcel.phone_tail:
            parameters["phone"] = parcel.phone_tail
        param = _json(
            {
                "company": parcel.carrier,
                "number": parcel.tracking_number,
                "key": self._key,
                "parameters": parameters,
            }
        )
        body = await self._post(SUBSCRIBE_PATH, {"schema": "json", "param": param})
        code = str(body.get("returnCode", ""))
        if code in {"200", "501"}:  # subscribed, or already followed
            return
        message = str(body.get("message", ""))[:200]
        log.warning("kuaidi100.subscribe_refused", return_code=code, provider_message=message)
        if code in {"", "500"}:
            raise CarrierUnavailable()
        raise TrackerRefused(f"kuaidi100 {code}: {message}")

    async def query(self, parcel: Parcel) -> TrackingUpdate:
        param_fields = {"com": parcel.carrier, "num": parcel.tracking_number}
        if parcel.phone_tail:
            param_fields["phone"] = parcel.phone_tail
        param = _json({**param_fields, "resultv2": "1"})
        body = await self._post(
            QUERY_PATH,
            {
                "customer": self._customer,
                "sign": query_sign(param, self._key, self._customer),
                "param": param,
            },
        )
        if body.get("result") is False or "returnCode" in body:
            code = str(body.get("returnCode", ""))
            if code == "500":  # 查询无结果: the carrier has no record yet
                return TrackingUpdate(
                    carrier=parcel.carrier, tracking_number=parcel.tracking_number, status=None
                )
            log.warning(
                "kuaidi100.query_refused", return_code=code, provider_message=str(body.get("message"))[:200]
            )
            raise CarrierUnavailable()
        try:
            return read_result(body)
        except ValueError as exc:
            log.warning("kuaidi100.bad_result", error=str(exc))
            raise CarrierUnavailable() from exc

    def parse_push(self, form: Mapping[str, str]) -> TrackingUpdate:
        param = form.get("param")
        given = (form.get("sign") or "").strip().upper()
        if not self._salt or not isinstance(param, str) or not param or not given:
            raise InvalidPushSignature()
        if not hmac.compare_digest(push_sign(param, self._salt).encode(), given.encode()):
            raise InvalidPushSignature()
        try:
            payload = json.loads(param)
        except ValueError as exc:
            raise InvalidPush() from exc
        last = payload.get("lastResult") if isinstance(payload, dict) else None
        if not isinstance(last, dict):
            raise InvalidPush()
        try:
            update = read_result(last)
        except ValueError as exc:
            raise InvalidPush() from exc
        if not update.tracking_number:
            raise InvalidPush()
        return replace(update, stopped=payload.get("status") == "abort")

    def push_answer(self) -> dict[str, Any]:
        return dict(ACK)
