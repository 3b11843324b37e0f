"""SMPP 3.4 PDUs on an asyncio stream, built and parsed by ``smpplib``'s codec.

``smpplib`` is a well-kept SMPP library (used by RapidSMS's ``smpp-gateway``); its client
is blocking, so only its PDU classes are used here, under our own asyncio session. The
SMSC simulator of the tests uses the same two functions.
"""

from __future__ import annotations

import asyncio
import struct
from typing import Any

from smpplib import command, consts, smpp

#: command_status values this channel tells apart (SMPP 3.4, 5.1.3)
ESME_ROK = consts.SMPP_ESME_ROK
ESME_RINVMSGLEN = 0x01
ESME_RINVBNDSTS = 0x04
ESME_RSYSERR = 0x08
ESME_RINVSRCADR = 0x0A
ESME_RINVDSTADR = 0x0B
ESME_RBINDFAIL = 0x0D
ESME_RINVPASWD = 0x0E
ESME_RINVSYSID = 0x0F
ESME_RMSGQFUL = 0x14
ESME_RINVDSTTON = 0x50
ESME_RINVDSTNPI = 0x51
ESME_RTHROTTLED = 0x58
ESME_RX_T_APPN = 0x64
ESME_RX_P_APPN = 0x65

#: a PDU longer than this is not SMPP (the longest, a submit_sm with a full payload, is ~1 KB)
MAX_PDU_LENGTH = 64 * 1024

Pdu = command.Command


class ProtocolError(Exception):
    """The peer sent bytes that are not an SMPP PDU."""


def build(name: str, sequence: int, **fields: Any) -> bytes:
    """The bytes of PDU ``name`` (e.g. ``"submit_sm"``) with ``sequence``."""
    pdu = smpp.make_pdu(name, sequence=sequence, **fields)
    pdu.sequence = sequence  # smpplib reads it from its client unless set afterwards
    return pdu.generate()


def parse(data: bytes) -> Pdu:
    try:
        pdu = smpp.parse_pdu(data, sequence=0)
    except Exception as exc:  # smpplib raises bare exceptions on unknown ids and bad TLVs
        raise ProtocolError(f"unparsable PDU: {type(exc).__name__}") from exc
    if pdu is None:
        raise ProtocolError("unknown command id")
    return pdu


async def read_pdu(reader: asyncio.StreamReader) -> Pdu:
    """The next PDU; ``asyncio.IncompleteReadError`` when the peer closed."""
    head = await reader.readexactly(4)
    (length,) = struct.unpack(">L", head)
    if not 16 <= length <= MAX_PDU_LENGTH:
        raise ProtocolError(f"PDU length {length}")
    return parse(head + await reader.readexactly(length - 4))


def text_field(value: bytes | str | None) -> str:
    """A C-octet string field as parsed (bytes) or as set (str), as text."""
    if value is None:
        return ""
    return value.decode("latin-1") if isinstance(value, bytes) else value
