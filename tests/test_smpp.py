"""The SMPP channel against an SMSC simulator speaking real SMPP PDUs on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from bot.channels.events import Event, InboundSms, StatusEvent
from bot.channels.smpp import SmppChannel, pdu
from bot.channels.smpp.text import decode_payload, split_udh
from bot.outbox.channel import PermanentFailure, TemporaryFailure
from tests.fakes.smsc import FakeSMSC

PHONE = "+996555123456"
CYRILLIC = "Салам! Айылдык бюджет боюнча жыйын эртең саат 10до болот. Келиңиз. "

Connect = Callable[..., Awaitable[SmppChannel]]


@pytest.fixture
async def smsc() -> AsyncIterator[FakeSMSC]:
    async with FakeSMSC() as fake:
        yield fake


@pytest.fixture
def events() -> list[Event]:
    return []


@pytest.fixture
async def connect(smsc: FakeSMSC, events: list[Event]) -> AsyncIterator[Connect]:
    """Start a channel bound to the simulator (``bound=False``: do not wait for the bind)."""
    channels: list[SmppChannel] = []

    async def record(event: Event) -> None:
        events.append(event)

    async def start(bound: bool = True, **overrides: Any) -> SmppChannel:
        channel = SmppChannel(smsc.config(**overrides), on_event=record)
        channels.append(channel)
        channel.start()
        if bound:
            assert await channel.wait_bound(5)
        return channel

    yield start
    for channel in channels:
        await channel.close()


def joined_text(parts: list[bytes], data_coding: int) -> str:
    return "".join(decode_payload(split_udh(p)[1], data_coding) for p in parts)


async def test_binds_with_system_id_and_password(smsc: FakeSMSC, connect: Connect) -> None:
    await connect()
    assert smsc.binds == [("civic", "secret", True)]


async def test_a_refused_bind_fails_the_send_for_a_retry(smsc: FakeSMSC, connect: Connect) -> None:
    channel = await connect(bound=False, password="wrong", connect_timeout=0.3)
    with pytest.raises(TemporaryFailure, match="bind refused: 0x0E"):
        await channel.send(PHONE, "hello")
    assert smsc.binds[0] == ("civic", "wrong", False)
    assert smsc.submits == []


async def test_short_latin_text_goes_as_gsm7(smsc: FakeSMSC, connect: Connect) -> None:
    channel = await connect()
    message_id = await channel.send(PHONE, "Vote: reply 1 {road} or 2 €")
    [submit] = smsc.submits
    assert message_id == submit.message_id != ""
    assert (submit.data_coding, submit.esm_class) == (0x00, 0)
    # GSM 03.38: letters as themselves, "{" "}" "€" behind the escape 0x1B
    assert submit.short_message == b"Vote: reply 1 \x1b(road\x1b) or 2 \x1be"
    assert (submit.destination_addr, submit.dest_addr_ton) == ("996555123456", 1)
    assert submit.source_addr == "AyilBudget"
    assert submit.registered_delivery == 1


async def test_short_cyrillic_text_goes_as_ucs2(smsc: FakeSMSC, connect: Connect) -> None:
    channel = await connect()
    await channel.send(PHONE, "Салам, Өмүр!")
    [submit] = smsc.submits
    assert (submit.data_coding, submit.esm_class) == (0x08, 0)
    assert submit.short_message == "Салам, Өмүр!".encode("utf-16-be")


async def test_long_cyrillic_text_goes_in_parts_of_67_with_a_udh(
    smsc: FakeSMSC, connect: Connect
) -> None:
    channel = await connect()
    text = (CYRILLIC * 3)[:150]
    message_id = await channel.send(PHONE, text)
    parts = [s.short_message for s in smsc.submits]
    assert len(parts) == 3
    reference = parts[0][3]
    for number, part in enumerate(parts, start=1):
        assert part[:6] == bytes((0x05, 0x00, 0x03, reference, 3, number))
    assert [len(p) - 6 for p in parts] == [134, 134, 32]  # 67 + 67 + 16 UCS-2 characters
    assert {(s.data_coding, s.esm_class) for s in smsc.submits} == {(0x08, 0x40)}
    assert joined_text(parts, 0x08) == text
    assert message_id == smsc.submits[0].message_id


async def test_long_latin_text_goes_in_parts_of_153(smsc: FakeSMSC, connect: Connect) -> None:
    channel = await connect()
    text = "Budget hearing tomorrow at 10. " * 13  # 403 characters
    await channel.send(PHONE, text)
    parts = [s.short_message for s in smsc.submits]
    assert [len(p) - 6 for p in parts] == [153, 153, 97]
    assert joined_text(parts, 0x00) == text


async def test_numbered_parts_are_separate_messages(smsc: FakeSMSC, connect: Connect) -> None:
    channel = await connect(number_parts=True)
    text = (CYRILLIC * 3)[:150]
    await channel.send(PHONE, text)
    texts = [decode_payload(s.short_message, s.data_coding) for s in smsc.submits]
    assert [t[:4] for t in texts] == ["1/3 ", "2/3 ", "3/3 "]
    assert all(len(t) <= 70 for t in texts)
    assert {s.esm_class for s in smsc.submits} == {0}  # no UDH
    assert "".join(t[4:] for t in texts) == text


async def test_delivery_receipts_map_to_outbox_statuses(
    smsc: FakeSMSC, connect: Connect, events: list[Event]
) -> None:
    channel = await connect()
    delivered = await channel.send(PHONE, "one")
    undelivered = await channel.send(PHONE, "two")
    assert delivered and undelivered
    assert await smsc.deliver_receipt(delivered) == pdu.ESME_ROK
    # no receipted_message_id TLV: the id comes from the receipt's text
    assert await smsc.deliver_receipt(undelivered, "UNDELIV", "011", tlv=False) == pdu.ESME_ROK
    assert events == [
        StatusEvent(delivered, "DELIVRD", "delivered", None, f"smpp:dlr:{delivered}:DELIVRD"),
        StatusEvent(
            undelivered,
            "UNDELIV",
            "undelivered",
            "smpp UNDELIV err:011",
            f"smpp:dlr:{undelivered}:UNDELIV",
        ),
    ]


async def test_a_later_parts_receipt_is_reported_under_the_messages_id(
    smsc: FakeSMSC, connect: Connect, events: list[Event]
) -> None:
    channel = await connect()
    message_id = await channel.send(PHONE, CYRILLIC * 2)
    last_part = smsc.submits[-1].message_id
    assert last_part != message_id
    await smsc.deliver_receipt(last_part, "EXPIRED")
    [event] = events
    assert isinstance(event, StatusEvent)
    assert (event.provider_id, event.status) == (message_id, "failed")


async def test_inbound_sms_reaches_the_handler(
    smsc: FakeSMSC, connect: Connect, events: list[Event]
) -> None:
    await connect()
    assert await smsc.deliver_sms(PHONE, "1 3 5") == [pdu.ESME_ROK]
    [event] = events
    assert isinstance(event, InboundSms)
    assert (event.sender, event.text, event.to) == (PHONE, "1 3 5", "7070")


async def test_inbound_parts_are_joined_into_one_message(
    smsc: FakeSMSC, connect: Connect, events: list[Event]
) -> None:
    await connect()
    text = CYRILLIC * 3  # 201 characters: 3 parts of 67
    assert await smsc.deliver_sms(PHONE, text) == [pdu.ESME_ROK] * 3
    assert events == [InboundSms(PHONE, text, "7070", events[0].dedupe_key, keyed_by_content=True)]


async def test_an_event_the_handler_did_not_record_is_redelivered(
    smsc: FakeSMSC, events: list[Event]
) -> None:
    failing = [True]

    async def record(event: Event) -> None:
        if failing.pop():
            raise RuntimeError("database is locked")
        events.append(event)

    channel = SmppChannel(smsc.config(), on_event=record)
    channel.start()
    try:
        assert await channel.wait_bound(5)
        # the first try is answered "temporary application error": the SMSC keeps it
        assert await smsc.deliver_sms(PHONE, "2") == [pdu.ESME_RX_T_APPN]
        assert events == []
        failing.append(False)
        assert await smsc.deliver_sms(PHONE, "2") == [pdu.ESME_ROK]
        assert [e.text for e in events if isinstance(e, InboundSms)] == ["2"]
    finally:
        await channel.close()


@pytest.mark.parametrize("status", [pdu.ESME_RTHROTTLED, pdu.ESME_RMSGQFUL])
async def test_throttling_is_a_temporary_failure_with_retry_after(
    smsc: FakeSMSC, connect: Connect, status: int
) -> None:
    channel = await connect(throttle_retry_after=0.2)
    smsc.refuse_next(1, status)
    with pytest.raises(TemporaryFailure) as failure:
        await channel.send(PHONE, "hello")
    assert failure.value.retry_after == 0.2
    assert not failure.value.unknown_outcome
    assert await channel.send(PHONE, "hello")
    assert len(smsc.accepted) == 1


async def test_an_invalid_destination_is_a_permanent_failure(
    smsc: FakeSMSC, connect: Connect
) -> None:
    channel = await connect()
    with pytest.raises(PermanentFailure, match="invalid number"):
        await channel.send("+12", "hello")


async def test_a_dropped_connection_reconnects_and_nothing_is_lost(
    smsc: FakeSMSC, connect: Connect
) -> None:
    """As the outbox does: a temporary failure is sent again; every message arrives."""
    channel = await connect()
    bodies = [f"message {n}" for n in range(6)]
    lost_answers = 0
    for number, body in enumerate(bodies):
        if number == 2:
            smsc.drop_on_next_submit()
        while True:
            try:
                await channel.send(PHONE, body)
                break
            except TemporaryFailure as exc:
                assert exc.unknown_outcome  # the submit went out, its answer did not come
                lost_answers += 1
    assert lost_answers == 1
    assert smsc.connections == 2
    assert [ok for *_, ok in smsc.binds] == [True, True]
    assert [decode_payload(s.short_message, 0) for s in smsc.accepted] == bodies


async def test_the_smsc_dropping_every_link_is_survived(smsc: FakeSMSC, connect: Connect) -> None:
    channel = await connect()
    smsc.drop()
    await smsc.wait_bound(2)
    assert await channel.send(PHONE, "after")


async def test_enquire_link_keeps_the_link_and_a_silent_link_is_replaced(
    smsc: FakeSMSC, connect: Connect
) -> None:
    await connect(enquire_link_interval=0.02, response_timeout=1.0)
    await smsc.until(lambda: smsc.enquire_links >= 3)
    assert smsc.connections == 1
    smsc.silent = True  # the link is open but nobody answers
    await smsc.until(lambda: smsc.connections == 2)


async def test_at_most_window_submits_wait_for_their_answer(
    smsc: FakeSMSC, connect: Connect
) -> None:
    channel = await connect(window=3)
    smsc.answer_delay = 0.02
    await asyncio.gather(*(channel.send(PHONE, f"m{n}") for n in range(10)))
    assert smsc.max_outstanding == 3
    assert len(smsc.accepted) == 10


async def test_the_throughput_limit_keeps_the_smsc_from_throttling(
    smsc: FakeSMSC, connect: Connect
) -> None:
    """Set under the operator's limit (here 20 a second where the SMSC allows 25)."""
    smsc.tps_limit = 25
    channel = await connect(tps=20, window=50)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.gather(*(channel.send(PHONE, f"m{n}") for n in range(30)))
    assert len(smsc.accepted) == 30  # none throttled
    assert loop.time() - started >= 29 / 20


async def test_without_the_limit_the_same_smsc_throttles(smsc: FakeSMSC, connect: Connect) -> None:
    """The control of the test above: the SMSC's limit does bite."""
    smsc.tps_limit = 25
    channel = await connect(tps=1000, window=50)
    outcomes = await asyncio.gather(
        *(channel.send(PHONE, f"m{n}") for n in range(30)), return_exceptions=True
    )
    assert any(isinstance(o, TemporaryFailure) for o in outcomes)


async def test_find_sent_cannot_tell(connect: Connect) -> None:
    from datetime import UTC, datetime

    channel = await connect()
    assert await channel.find_sent(PHONE, "hello", datetime.now(UTC)) == []


async def test_inbound_parts_by_sar_tlvs_are_joined(
    smsc: FakeSMSC, connect: Connect, events: list[Event]
) -> None:
    await connect()
    for number, piece in enumerate(["Бюджет: ", "2 жана 5"], start=1):
        await smsc.deliver(
            source_addr_ton=1,
            source_addr="996555123456",
            destination_addr="7070",
            data_coding=0x08,
            short_message=piece.encode("utf-16-be"),
            sar_msg_ref_num=300,
            sar_total_segments=2,
            sar_segment_seqnum=number,
        )
    assert [(e.sender, e.text) for e in events if isinstance(e, InboundSms)] == [
        (PHONE, "Бюджет: 2 жана 5")
    ]


async def test_a_receipt_with_only_the_message_state_tlv(
    smsc: FakeSMSC, connect: Connect, events: list[Event]
) -> None:
    channel = await connect()
    message_id = await channel.send(PHONE, "hi")
    await smsc.deliver(
        esm_class=0x04,
        source_addr="996555123456",
        destination_addr="AyilBudget",
        short_message=b"",
        receipted_message_id=message_id,
        message_state=8,  # REJECTED
    )
    [event] = events
    assert isinstance(event, StatusEvent)
    assert (event.provider_id, event.provider_status, event.status) == (
        message_id,
        "REJECTD",
        "failed",
    )


async def test_the_smscs_enquire_link_and_unbind_are_answered(
    smsc: FakeSMSC, connect: Connect
) -> None:
    channel = await connect()
    assert await smsc.request("enquire_link") == pdu.ESME_ROK
    assert await smsc.request("unbind") == pdu.ESME_ROK
    # the SMSC ended the session: the channel binds again and sends
    await smsc.until(lambda: sum(ok for *_, ok in smsc.binds) == 2)
    assert await channel.send(PHONE, "after unbind")


async def test_a_slow_handler_holds_up_neither_sends_nor_the_link(smsc: FakeSMSC) -> None:
    release = asyncio.Event()
    recorded: list[Event] = []

    async def record(event: Event) -> None:
        await release.wait()  # the database is busy
        recorded.append(event)

    channel = SmppChannel(
        smsc.config(enquire_link_interval=0.02, response_timeout=1.0), on_event=record
    )
    channel.start()
    try:
        assert await channel.wait_bound(5)
        delivering = asyncio.create_task(smsc.deliver_sms(PHONE, "3"))
        await smsc.until(lambda: smsc.enquire_links >= 1)
        assert await channel.send(PHONE, "meanwhile")  # its answer is read all the same
        links = smsc.enquire_links
        await smsc.until(lambda: smsc.enquire_links >= links + 3)
        assert not delivering.done() and recorded == []
        release.set()
        assert await delivering == [pdu.ESME_ROK]
        assert [e.text for e in recorded if isinstance(e, InboundSms)] == ["3"]
        assert smsc.connections == 1
    finally:
        await channel.close()
