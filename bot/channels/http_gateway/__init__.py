"""A generic HTTP SMS gateway configured by templates (see :mod:`.gateway`)."""

from bot.channels.http_gateway.gateway import (
    STATUS_OUTCOMES,
    HttpGatewayConfig,
    HttpGatewaySender,
    InvalidSetting,
    inbound_handler,
    parse_inbound,
    parse_status,
    status_handler,
)

__all__ = [
    "STATUS_OUTCOMES",
    "HttpGatewayConfig",
    "HttpGatewaySender",
    "InvalidSetting",
    "inbound_handler",
    "parse_inbound",
    "parse_status",
    "status_handler",
]
