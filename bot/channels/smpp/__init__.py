"""SMPP 3.4 to an operator's or aggregator's SMSC (see :mod:`bot.channels.smpp.client`)."""

from bot.channels.smpp.client import SmppChannel, SmppConfig

__all__ = ["SmppChannel", "SmppConfig"]
