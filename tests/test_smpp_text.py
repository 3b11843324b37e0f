"""SMS text to SMPP short messages: whatever the text, the parts join back to it and fit."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.channels.smpp.text import (
    GSM7_BASIC,
    GSM7_EXTENDED,
    decode_payload,
    encode_text,
    split_udh,
)
from bot.core.rendering.sms import _GSM7_BASIC, _GSM7_EXTENDED, sms_size

ALPHABET = st.sampled_from(
    [*GSM7_BASIC.replace("\x1b", ""), *GSM7_EXTENDED, "ж", "ө", "ү", "ң", "Ё", "😀", "€"]
)


def test_the_encoder_knows_exactly_the_characters_sms_size_counts_as_gsm7() -> None:
    """Else a text sms_size calls GSM-7 would fail to encode, or go as UCS-2 needlessly."""
    assert set(GSM7_BASIC) - {"\x1b"} == _GSM7_BASIC
    assert set(GSM7_EXTENDED) == _GSM7_EXTENDED


@settings(max_examples=300, deadline=None)
@given(text=st.text(ALPHABET, max_size=700), reference=st.integers(0, 255))
def test_parts_join_back_to_the_text_and_fit(text: str, reference: int) -> None:
    encoded = encode_text(text, reference=reference)
    payloads = []
    for number, part in enumerate(encoded.parts, start=1):
        concat, payload = split_udh(part) if encoded.esm_class else (None, part)
        if len(encoded.parts) > 1:
            assert concat is not None
            assert (concat.reference, concat.total, concat.number) == (
                reference,
                len(encoded.parts),
                number,
            )
        assert len(payload) <= (134 if encoded.data_coding == 0x08 else 153) or (
            len(encoded.parts) == 1 and len(payload) <= 160
        )
        payloads.append(payload)
    assert "".join(decode_payload(p, encoded.data_coding) for p in payloads) == text
    # never fewer parts than the text costs (more where a part ends early rather than
    # cut an escape sequence or a surrogate pair)
    assert len(encoded.parts) >= sms_size(text).segments


@settings(max_examples=200, deadline=None)
@given(text=st.text(ALPHABET, min_size=1, max_size=500))
def test_numbered_parts_fit_one_sms_each_and_join_back(text: str) -> None:
    encoded = encode_text(text, reference=0, number_parts=True)
    texts = [decode_payload(p, encoded.data_coding) for p in encoded.parts]
    assert all(sms_size(t).segments == 1 for t in texts)
    if len(texts) == 1:
        assert texts == [text]
    else:
        total = len(texts)
        prefixes = [f"{n}/{total} " for n in range(1, total + 1)]
        assert [t[: len(p)] for t, p in zip(texts, prefixes, strict=True)] == prefixes
        assert "".join(t[len(p) :] for t, p in zip(texts, prefixes, strict=True)) == text
