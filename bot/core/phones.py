"""Phone numbers: E.164 normalisation (Kyrgyz numbering by default) and masking for logs."""

from __future__ import annotations

import functools
import re

import phonenumbers

DEFAULT_REGION = "KG"
_COUNTRY_CODE_WITHOUT_PLUS = re.compile(r"^\s*996")


class InvalidPhone(ValueError):
    """The text is not a valid phone number."""


def normalize_phone(raw: str, region: str = DEFAULT_REGION) -> str:
    """``0555 123 456``, ``996555123456`` and ``+996 (555) 12-34-56`` → ``+996555123456``."""
    text = raw.strip()
    if not text:
        raise InvalidPhone("empty phone number")
    if _COUNTRY_CODE_WITHOUT_PLUS.match(text) and len(re.sub(r"\D", "", text)) == 12:
        text = "+" + text.lstrip()
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"{raw!r} is not a phone number") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(f"{raw!r} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@functools.lru_cache(maxsize=16384)
def sender_phone(raw: str) -> str:
    """The sender of an inbound SMS in E.164; a text that is no phone number stays as it
    is (the reply then says how to register), less any NUL (PostgreSQL refuses it even as
    a query parameter). Cached: the same residents write again and again."""
    try:
        return normalize_phone(raw)
    except InvalidPhone:
        return raw.replace("\x00", "")


def mask_phone(phone: str) -> str:
    """``+996555123456`` → ``+996***3456``: enough to tell numbers apart in logs, no more."""
    digits = phone.lstrip("+")
    if len(digits) < 8:
        return "***"
    return f"+{digits[:3]}***{digits[-4:]}"
