"""Real-HTTP test doubles of the Telegram Bot API and the Twilio REST API.

* :class:`FakeTelegramAPI` — point aiogram at it with
  ``AiohttpSession(api=TelegramAPIServer.from_base(api.base_url))``.
* :class:`FakeTwilioAPI` — point the twilio library at it with
  :func:`point_twilio_client` (``client.api.base_url = api.base_url``).
* :mod:`tests.fakes.webhooks` — signed inbound webhook builders for both providers.
"""

from tests.fakes.telegram_api import (
    DEFAULT_DESCRIPTIONS,
    DeliveredMessage,
    FakeClock,
    FakeHTTPServer,
    FakeTelegramAPI,
    ReceivedFile,
    SlidingWindowLimiter,
    TelegramRequest,
    TelegramStats,
)
from tests.fakes.twilio_api import (
    MAGIC_FROM_NUMBER,
    MAGIC_TO_NUMBERS,
    TWILIO_ERRORS,
    FakeTwilioAPI,
    TwilioRequest,
    TwilioStats,
    WebhookDelivery,
    count_segments,
    point_twilio_client,
    post_twilio_webhook,
    sms_encoding,
    twilio_error_body,
)
from tests.fakes.webhooks import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    TELEGRAM_SECRET_HEADER,
    TWILIO_SIGNATURE_HEADER,
    telegram_callback_update,
    telegram_contact_update,
    telegram_message,
    telegram_message_update,
    telegram_update,
    telegram_user,
    telegram_webhook_headers,
    twilio_inbound_form,
    twilio_signature,
    twilio_signed_headers,
    twilio_status_form,
)

__all__ = [
    "DEFAULT_ACCOUNT_SID",
    "DEFAULT_AUTH_TOKEN",
    "DEFAULT_DESCRIPTIONS",
    "MAGIC_FROM_NUMBER",
    "MAGIC_TO_NUMBERS",
    "TELEGRAM_SECRET_HEADER",
    "TWILIO_ERRORS",
    "TWILIO_SIGNATURE_HEADER",
    "DeliveredMessage",
    "FakeClock",
    "FakeHTTPServer",
    "FakeTelegramAPI",
    "FakeTwilioAPI",
    "ReceivedFile",
    "SlidingWindowLimiter",
    "TelegramRequest",
    "TelegramStats",
    "TwilioRequest",
    "TwilioStats",
    "WebhookDelivery",
    "count_segments",
    "point_twilio_client",
    "post_twilio_webhook",
    "sms_encoding",
    "telegram_callback_update",
    "telegram_contact_update",
    "telegram_message",
    "telegram_message_update",
    "telegram_update",
    "telegram_user",
    "telegram_webhook_headers",
    "twilio_error_body",
    "twilio_inbound_form",
    "twilio_signature",
    "twilio_signed_headers",
    "twilio_status_form",
]
