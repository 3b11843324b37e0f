"""Logging set-up: phone numbers never reach a log in clear.

Code logs resident ids, not names or message texts; the filter below is the safety
net that masks anything that looks like a phone number in a record's final text.
"""

from __future__ import annotations

import logging
import re

from bot.core.phones import mask_phone

_PHONE = re.compile(r"(?<![\w+])\+?\d[\d\- ()]{7,17}\d(?!\w)")


def _mask_match(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match[0])
    if len(digits) < 9:
        return match[0]
    return mask_phone(digits)


def mask_phones(text: str) -> str:
    return _PHONE.sub(_mask_match, text)


class PhoneMaskingFilter(logging.Filter):
    """Rewrites each record's message with phone numbers masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_phones(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def setup_logging(level: int | str = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(PhoneMaskingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiosqlite logs every statement with its parameters at DEBUG.
    logging.getLogger("aiosqlite").setLevel(logging.WARNING)
