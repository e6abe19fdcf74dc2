"""Twilio Programmable Messaging over its documented REST API.

``POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json`` with HTTP basic auth
(AccountSid, AuthToken) and a form body ``To``, ``From``, ``Body``; 201 returns the message
resource (``sid``, ``status``); errors return ``{"code", "message", "more_info", "status"}``.
We call it with httpx rather than the ``twilio`` SDK because the SDK's default client is
synchronous (requests) and would block the event loop; the wire protocol is small and stable.
"""

from __future__ import annotations

import httpx
import structlog

from mercato.identity.providers.base import SmsDeliveryFailed

log = structlog.get_logger("mercato.sms.twilio")


class TwilioSms:
    name = "twilio"

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str,
        base_url: str = "https://api.twilio.com",
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._sid = account_sid
        self._from = from_number
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            auth=(account_sid, auth_token),
            timeout=timeout,
            transport=transport,
        )

    async def send(self, *, phone: str, text: str, code: str = "", sign_name: str = "") -> str:
        url = f"/2010-04-01/Accounts/{self._sid}/Messages.json"
        try:
            response = await self._client.post(url, data={"To": phone, "From": self._from, "Body": text})
        except httpx.HTTPError as exc:
            log.warning("sms.twilio_unreachable", error=repr(exc))
            raise SmsDeliveryFailed() from exc
        if response.status_code != 201:
            try:
                body = response.json()
            except ValueError:
                body = {}
            log.warning(
                "sms.twilio_refused",
                status_code=response.status_code,
                twilio_error=body.get("code"),
                twilio_message=body.get("message"),
            )
            raise SmsDeliveryFailed()
        return str(response.json()["sid"])

    async def aclose(self) -> None:
        await self._client.aclose()
