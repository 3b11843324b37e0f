"""Phone numbers never reach the logs in clear."""

from __future__ import annotations

import io
import logging

import pytest

from bot.core.phones import mask_phone
from bot.runtime.logs import PhoneMaskingFilter, mask_phones


def test_mask_phone_keeps_country_and_last_four() -> None:
    assert mask_phone("+996555123456") == "+996***3456"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("to +996555123456 ok", "to +996***3456 ok"),
        ("from 996555123456", "from +996***3456"),
        ("+996 (555) 12-34-56 said", "+996***3456 said"),
        ("resident 345, broadcast 7, 2026-11-25", "resident 345, broadcast 7, 2026-11-25"),
    ],
)
def test_mask_phones_in_text(text: str, expected: str) -> None:
    assert mask_phones(text) == expected


def test_filter_masks_arguments_of_a_record() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(PhoneMaskingFilter())
    logger = logging.getLogger("test.masking")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("delivery failed for %s", "+996700000001")
    finally:
        logger.removeHandler(handler)
    assert stream.getvalue() == "delivery failed for +996***0001\n"
