"""SMS text to SMPP short messages and back: GSM-7 or UCS-2, concatenation headers (UDH).

Outbound, a text that fits GSM-7 goes as GSM-7 (``data_coding`` 0, one septet per octet as
SMPP carries it: 160 per SMS, 153 per part), anything else — Kyrgyz and Russian Cyrillic —
as UCS-2 (``data_coding`` 8, big-endian UTF-16: 70 per SMS, 67 per part). Parts never cut an
escape sequence or a surrogate pair. A long text goes in parts with a concatenation header
(IEI 0x00: reference, total, number) that phones join; where an operator does not pass it
on, ``number_parts`` sends independent messages instead, each starting "1/3 ".
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from bot.core.rendering.sms import LIMITS, sms_size

DATA_CODING_GSM7 = 0x00
DATA_CODING_LATIN1 = 0x03
DATA_CODING_UCS2 = 0x08
#: esm_class bit: the short message starts with a user data header
ESM_UDHI = 0x40

#: GSM 03.38 default alphabet (index = septet) and the extension table behind ESC (0x1B)
GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = {"\f": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F, "[": 0x3C,
                 "~": 0x3D, "]": 0x3E, "|": 0x40, "€": 0x65}  # fmt: skip
_GSM7_INDEX = {ch: i for i, ch in enumerate(GSM7_BASIC) if ch != "\x1b"}
_GSM7_EXTENDED_BY_CODE = {code: ch for ch, code in GSM7_EXTENDED.items()}


@dataclass(frozen=True)
class Encoded:
    """What goes into the ``submit_sm`` PDUs of one text."""

    data_coding: int
    esm_class: int
    #: ``short_message`` of each PDU, the UDH included where there is one
    parts: list[bytes]


def _gsm7(text: str) -> bytes:
    out = bytearray()
    for ch in text:
        if ch in GSM7_EXTENDED:
            out += bytes((0x1B, GSM7_EXTENDED[ch]))
        else:
            out.append(_GSM7_INDEX[ch])
    return bytes(out)


def _encode(text: str, encoding: str) -> bytes:
    return _gsm7(text) if encoding == "GSM-7" else text.encode("utf-16-be")


def _cost(ch: str, encoding: str) -> int:
    if encoding == "GSM-7":
        return 2 if ch in GSM7_EXTENDED else 1
    return len(ch.encode("utf-16-le")) // 2


def _chunks(text: str, capacity: int, encoding: str) -> Iterator[str]:
    """Pieces of ``text`` of at most ``capacity`` units each, no character split."""
    piece, used = "", 0
    for ch in text:
        cost = _cost(ch, encoding)
        if used + cost > capacity:
            yield piece
            piece, used = "", 0
        piece += ch
        used += cost
    if piece:
        yield piece


def _numbered(text: str, single: int, encoding: str) -> list[str]:
    """Independent messages, each "i/n " + a piece; the prefix's length depends on n."""
    total = 1
    while True:
        width = len(f"{total}/{total} ")
        pieces = list(_chunks(text, single - width, encoding))
        if len(pieces) <= total:
            return [f"{i}/{len(pieces)} {piece}" for i, piece in enumerate(pieces, start=1)]
        total = len(pieces)


def encode_text(text: str, *, reference: int, number_parts: bool = False) -> Encoded:
    """The PDUs' payloads for ``text``; ``reference`` (0-255) tells its parts' UDH apart
    from another long message's to the same phone."""
    encoding = sms_size(text).encoding
    data_coding = DATA_CODING_GSM7 if encoding == "GSM-7" else DATA_CODING_UCS2
    single, per_part = LIMITS[encoding]
    if sms_size(text).units <= single:
        return Encoded(data_coding, 0, [_encode(text, encoding)])
    if number_parts:
        pieces = _numbered(text, single, encoding)
        return Encoded(data_coding, 0, [_encode(piece, encoding) for piece in pieces])
    pieces = list(_chunks(text, per_part, encoding))
    if len(pieces) > 255:
        raise ValueError("text too long for one concatenated SMS")
    header = bytes((0x05, 0x00, 0x03, reference & 0xFF, len(pieces)))
    parts = [header + bytes((i,)) + _encode(p, encoding) for i, p in enumerate(pieces, start=1)]
    return Encoded(data_coding, ESM_UDHI, parts)


def decode_gsm7(data: bytes) -> str:
    """Unpacked GSM-7 (one septet per octet, as SMPP carries it) to text."""
    out: list[str] = []
    escape = False
    for octet in data:
        if escape:
            out.append(_GSM7_EXTENDED_BY_CODE.get(octet, " "))
            escape = False
        elif octet == 0x1B:
            escape = True
        else:
            out.append(GSM7_BASIC[octet & 0x7F])
    return "".join(out)


def decode_payload(data: bytes, data_coding: int) -> str:
    """The text of a short message (without its UDH) in the given ``data_coding``."""
    coding = data_coding & 0x0F if data_coding & 0xF0 == 0xF0 else data_coding
    if coding == DATA_CODING_UCS2:
        return data.decode("utf-16-be", errors="replace")
    if coding in (DATA_CODING_LATIN1,):
        return data.decode("latin-1")
    if coding == 0x01:  # IA5 / ASCII
        return data.decode("ascii", errors="replace")
    return decode_gsm7(data)


@dataclass(frozen=True)
class Concat:
    """Where a part belongs: its message's reference, how many parts, which one (from 1)."""

    reference: int
    total: int
    number: int


def split_udh(short_message: bytes) -> tuple[Concat | None, bytes]:
    """The concatenation info of a UDH (IEI 0x00 or 0x08) and the payload after it."""
    if not short_message:
        return None, b""
    length = short_message[0]
    header, payload = short_message[1 : 1 + length], short_message[1 + length :]
    concat = None
    at = 0
    while at + 2 <= len(header):
        iei, size = header[at], header[at + 1]
        value = header[at + 2 : at + 2 + size]
        if iei == 0x00 and size == 3 and len(value) == 3:
            concat = Concat(value[0], value[1], value[2])
        elif iei == 0x08 and size == 4 and len(value) == 4:
            concat = Concat(int.from_bytes(value[:2], "big"), value[2], value[3])
        at += 2 + size
    return concat, payload
