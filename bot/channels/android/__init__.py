"""An Android phone as the SMS gateway (SMS Gateway for Android): send and webhooks."""

from bot.channels.android.sender import AndroidPhone, AndroidSender, parse_phones
from bot.channels.android.webhook import parse_webhook, webhook_handler

__all__ = ["AndroidPhone", "AndroidSender", "parse_phones", "parse_webhook", "webhook_handler"]
