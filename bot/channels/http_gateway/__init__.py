"""A generic HTTP SMS gateway configured by templates (see :mod:`.gateway`)."""

from bot.channels.http_gateway.gateway import (
    HttpGatewayConfig,
    HttpGatewaySender,
    InvalidSetting,
    inbound_handler,
    parse_inbound,
)

__all__ = [
    "HttpGatewayConfig",
    "HttpGatewaySender",
    "InvalidSetting",
    "inbound_handler",
    "parse_inbound",
]
