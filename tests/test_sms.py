"""SMS sizes: GSM-7 vs UCS-2, segments, and splitting long texts."""

from __future__ import annotations

import pytest

from bot.core.rendering.sms import sms_size, split_for_sms


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", "GSM-7", 0, 1),
        ("x" * 160, "GSM-7", 160, 1),
        ("x" * 161, "GSM-7", 161, 2),
        ("x" * 306, "GSM-7", 306, 2),
        ("x" * 307, "GSM-7", 307, 3),
        ("€" * 80, "GSM-7", 160, 1),  # extension characters count twice
        ("ж" * 70, "UCS-2", 70, 1),
        ("ж" * 71, "UCS-2", 71, 2),
        ("ж" * 134, "UCS-2", 134, 2),
        ("ж" * 135, "UCS-2", 135, 3),
        ("Hello ө", "UCS-2", 7, 1),  # one Kyrgyz letter makes the whole text UCS-2
        ("😀" * 35, "UCS-2", 70, 1),  # emoji take two UTF-16 units
        ("😀" * 36, "UCS-2", 72, 2),
    ],
)
def test_size(text: str, encoding: str, units: int, segments: int) -> None:
    assert sms_size(text) == (sms_size(text).__class__(encoding, units, segments))


def test_split_keeps_words_and_fits_each_part() -> None:
    text = " ".join(["Салам"] * 100)
    parts = split_for_sms(text, max_segments=2)
    assert " ".join(parts) == text
    assert all(sms_size(part).segments <= 2 for part in parts)
    assert len(parts) == 5


def test_split_cuts_a_word_longer_than_a_message() -> None:
    parts = split_for_sms("a" * 400, max_segments=1)
    assert "".join(parts) == "a" * 400
    assert [len(p) for p in parts] == [160, 160, 80]
