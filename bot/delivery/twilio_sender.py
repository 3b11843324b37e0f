"""Sending SMS through the Twilio REST API (async client), errors mapped to retry or give up."""

from __future__ import annotations

import aiohttp
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from bot.delivery.senders import PermanentFailure, TemporaryFailure

#: Twilio error codes: the recipient opted out (STOP) / the number cannot receive SMS
UNSUBSCRIBED = 21610
INVALID_NUMBER_CODES = {21211, 21212, 21214, 21408, 21612, 21614}


def twilio_client(account_sid: str, auth_token: str, api_url: str | None = None) -> Client:
    """An async-capable client; ``api_url`` points it elsewhere (tests, a proxy)."""
    client = Client(account_sid, auth_token, http_client=AsyncTwilioHttpClient())
    if api_url:
        client.api.base_url = api_url.rstrip("/")
    return client


class TwilioSender:
    channel = "sms"

    def __init__(
        self,
        client: Client,
        *,
        from_number: str | None,
        messaging_service_sid: str | None,
        status_callback: str | None,
    ) -> None:
        if not (from_number or messaging_service_sid):
            raise ValueError("Twilio needs TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID")
        self.client = client
        self._origin = (
            {"messaging_service_sid": messaging_service_sid}
            if messaging_service_sid
            else {"from_": from_number}
        )
        self._callback = {"status_callback": status_callback} if status_callback else {}

    async def send(self, address: str, body: str, reply_markup: str | None = None) -> str | None:
        try:
            message = await self.client.messages.create_async(
                to=address, body=body, **self._origin, **self._callback
            )
        except TwilioRestException as exc:
            if exc.code == UNSUBSCRIBED:
                raise PermanentFailure("twilio 21610: unsubscribed", unsubscribed=True) from exc
            if exc.status == 429 or exc.status >= 500:
                raise TemporaryFailure(f"twilio {exc.status}: {exc.code}") from exc
            if exc.code in INVALID_NUMBER_CODES:
                raise PermanentFailure(f"twilio {exc.code}: invalid number") from exc
            raise PermanentFailure(f"twilio {exc.status}: {exc.code}") from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TemporaryFailure(f"twilio: {type(exc).__name__}") from exc
        return message.sid

    async def close(self) -> None:
        await self.client.http_client.close()
