"""An Android phone as the SMS gateway (SMS Gateway for Android): send and webhooks."""

from bot.channels.android.sender import AndroidPhone, AndroidSender
from bot.channels.android.webhook import WebhookRejected, parse_webhook, webhook_handler

__all__ = ["AndroidPhone", "AndroidSender", "WebhookRejected", "parse_webhook", "webhook_handler"]
