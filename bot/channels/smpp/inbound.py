"""What a ``deliver_sm`` says: a resident's SMS (its parts joined) or a delivery receipt.

A resident's long SMS arrives in parts, joined by a UDH (IEI 0x00 or 0x08) or by the
``sar_*`` TLVs; the parts wait here until the last is in. SMPP 3.4 gives a resident's
SMS no id, so its ``dedupe_key`` is the sender and a digest of the text: the runtime
should treat such keys as duplicates only within minutes (an SMSC redelivers a
``deliver_sm`` whose answer it missed soon after), not forever — a resident may well
send the same "1" twice a week apart.

Receipts name the SMSC's id of the part they are about; the ids of a long message's
later parts are remembered, so that their receipts are reported under the message's
(first part's) id.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

from bot.channels.events import InboundSms, StatusEvent
from bot.channels.smpp import pdu
from bot.channels.smpp.receipts import RECEIPT_STATUS, is_receipt, parse_receipt
from bot.channels.smpp.text import ESM_UDHI, Concat, decode_payload, split_udh

#: first parts' ids kept to report later parts' receipts under them
PART_IDS_KEPT = 10_000
#: parts of residents' long SMS waiting for the rest
PARTIAL_KEPT = 1_000


class Inbound:
    """One channel's inbound state: parts of long SMS waiting, later parts' ids."""

    def __init__(self, optout_codes: frozenset[str] = frozenset()) -> None:
        #: receipts' ``err:`` codes (lower case) that say the recipient refuses our SMS
        self._optout_codes = optout_codes
        self._first_part: OrderedDict[str, str] = OrderedDict()
        self._partial: OrderedDict[tuple[str, int, int], dict[int, str]] = OrderedDict()

    def remember_part(self, part_id: str, first_id: str) -> None:
        self._first_part[part_id] = first_id
        while len(self._first_part) > PART_IDS_KEPT:
            self._first_part.popitem(last=False)

    def event_of(self, received: pdu.Pdu) -> InboundSms | StatusEvent | None:
        """The event of a ``deliver_sm``; ``None`` for a part still waiting for others
        (or a receipt that names no message)."""
        esm_class = received.esm_class or 0
        data_coding = received.data_coding or 0
        raw = received.short_message or received.message_payload or b""
        if is_receipt(esm_class):
            found = parse_receipt(
                decode_payload(raw, data_coding),
                receipted_message_id=pdu.text_field(received.receipted_message_id),
                message_state=received.message_state,
            )
            if found is None:
                return None
            part_id, stat, err = found
            message_id = self._first_part.get(part_id, part_id)
            return StatusEvent(
                provider_id=message_id,
                provider_status=stat,
                status=RECEIPT_STATUS.get(stat),
                error=f"smpp {stat} err:{err}" if stat != "DELIVRD" and err else None,
                dedupe_key=f"smpp:dlr:{part_id}:{stat}",
                unsubscribed=stat != "DELIVRD" and err.lower() in self._optout_codes,
            )
        sender = pdu.text_field(received.source_addr)
        if received.source_addr_ton == 1 and sender.isdigit():
            sender = "+" + sender
        concat, payload = split_udh(raw) if esm_class & ESM_UDHI else (None, raw)
        if concat is None and received.sar_msg_ref_num is not None:
            concat = _sar(received)
        text = decode_payload(payload, data_coding)
        digest = hashlib.sha256(raw).hexdigest()[:16]
        if concat is not None and concat.total > 1:
            joined = self._join(sender, concat, text)
            if joined is None:
                return None
            text = joined
            digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        return InboundSms(
            sender=sender,
            text=text,
            to=pdu.text_field(received.destination_addr),
            dedupe_key=f"smpp:mo:{sender}:{digest}",
            keyed_by_content=True,
        )

    def _join(self, sender: str, concat: Concat, text: str) -> str | None:
        """The whole text once every part of it is in; ``None`` until then."""
        key = (sender, concat.reference, concat.total)
        parts = self._partial.setdefault(key, {})
        parts[concat.number] = text
        if len(self._partial) > PARTIAL_KEPT:
            self._partial.popitem(last=False)
        if len(parts) < concat.total:
            return None
        del self._partial[key]
        return "".join(parts[number] for number in sorted(parts))


def _sar(received: pdu.Pdu) -> Concat:
    """Concatenation given by the ``sar_*`` TLVs instead of a UDH."""
    return Concat(
        received.sar_msg_ref_num, received.sar_total_segments or 1, received.sar_segment_seqnum or 1
    )
