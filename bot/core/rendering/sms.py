"""SMS length rules: GSM-7 vs UCS-2 and how many segments a text costs.

GSM-7 texts fit 160 characters in one segment and 153 per part when split;
anything outside GSM-7 (Kyrgyz and Russian Cyrillic) is sent as UCS-2: 70 in one
segment, 67 per part, counted in UTF-16 code units (an emoji takes two).
"""

from __future__ import annotations

from dataclasses import dataclass

_GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = set("^{}\\[~]|€\f")

#: (single-segment capacity, per-part capacity) by encoding
LIMITS = {"GSM-7": (160, 153), "UCS-2": (70, 67)}


@dataclass(frozen=True)
class SmsSize:
    encoding: str
    units: int
    segments: int


def sms_size(text: str) -> SmsSize:
    if all(ch in _GSM7_BASIC or ch in _GSM7_EXTENDED for ch in text):
        encoding = "GSM-7"
        units = sum(2 if ch in _GSM7_EXTENDED else 1 for ch in text)
    else:
        encoding = "UCS-2"
        units = len(text.encode("utf-16-le")) // 2
    single, part = LIMITS[encoding]
    segments = 1 if units <= single else -(-units // part)
    return SmsSize(encoding, units, segments)


def split_for_sms(text: str, max_segments: int = 2) -> list[str]:
    """Split a long text at word boundaries into messages of at most ``max_segments`` each."""
    encoding = sms_size(text).encoding
    single, part = LIMITS[encoding]
    capacity = single if max_segments == 1 else part * max_segments
    chunks: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if sms_size(candidate).units <= capacity:
            current = candidate
            continue
        if current:
            chunks.append(current)
        while sms_size(word).units > capacity:
            chunks.append(word[:capacity])
            word = word[capacity:]
        current = word
    if current:
        chunks.append(current)
    return chunks
