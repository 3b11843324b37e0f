"""Delivery receipts (deliver_sm with esm_class bit 0x04) and their outbox statuses.

The receipt's text has the de-facto format of SMPP 3.4 appendix B::

    id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm
    stat:DDDDDDD err:E text:...

(one line).

Where the SMSC also sends the ``receipted_message_id`` and ``message_state`` TLVs they win:
some SMSCs print the id in the text in another base than in ``submit_sm_resp``.
"""

from __future__ import annotations

import re

#: esm_class message type bits of a deliver_sm that is a delivery receipt
ESM_DELIVERY_RECEIPT = 0x04
#: an intermediate notification (SMPP 3.4, 5.2.12)
ESM_INTERMEDIATE = 0x20

#: receipt ``stat:`` values → the outbox's statuses (``None``: nothing to record)
RECEIPT_STATUS: dict[str, str | None] = {
    "ENROUTE": "sent",
    "ACCEPTD": "sent",
    "DELIVRD": "delivered",
    "UNDELIV": "undelivered",
    "EXPIRED": "failed",
    "DELETED": "failed",
    "REJECTD": "failed",
    "UNKNOWN": None,
}
#: the ``message_state`` TLV (SMPP 3.4, 5.3.2.35) → the receipt's ``stat:`` word
MESSAGE_STATE = {
    1: "ENROUTE",
    2: "DELIVRD",
    3: "EXPIRED",
    4: "DELETED",
    5: "UNDELIV",
    6: "ACCEPTD",
    7: "UNKNOWN",
    8: "REJECTD",
}

_ID = re.compile(r"\bid:(\S+)", re.IGNORECASE)
_STAT = re.compile(r"\bstat:(\w+)", re.IGNORECASE)
_ERR = re.compile(r"\berr:(\w+)", re.IGNORECASE)


def is_receipt(esm_class: int) -> bool:
    return bool(esm_class & (ESM_DELIVERY_RECEIPT | ESM_INTERMEDIATE))


def parse_receipt(
    text: str, *, receipted_message_id: str = "", message_state: int | None = None
) -> tuple[str, str, str] | None:
    """``(message_id, stat, err)`` of a receipt; ``None`` when it names no message."""
    found_id = _ID.search(text)
    message_id = receipted_message_id or (found_id.group(1) if found_id else "")
    found_stat = _STAT.search(text)
    stat = MESSAGE_STATE.get(message_state or 0) or (
        found_stat.group(1).upper() if found_stat else "UNKNOWN"
    )
    found_err = _ERR.search(text)
    if not message_id:
        return None
    return message_id, stat, found_err.group(1) if found_err else ""
