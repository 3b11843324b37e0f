"""``civic-bot run`` with each SMS gateway beside Twilio, end to end: a real subprocess
configured by the environment only, against the fake Android phone, the SMSC simulator and
a fake aggregator API on 127.0.0.1 (the fixtures are those of ``tests/test_run.py``).

A resident's SMS reaches the bot through the gateway, is handled once and answered through
the outbox; a delivery report moves the reply's row; a forged or replayed request changes
nothing; texting STOP (ТОКТОТ, СТОП) opts the resident out.
"""

# the fixtures imported from tests/test_run.py are parameters here, by design
# ruff: noqa: F811

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sqlite3
import time
from pathlib import Path

import aiohttp

from bot.channels.android.webhook import sign
from bot.channels.smpp import pdu
from bot.channels.smpp.text import ESM_UDHI, decode_payload, split_udh
from bot.core.services import demo_data
from tests.fakes.android_gateway import FakeAndroidGateway
from tests.fakes.http_gateway import FakeHttpGateway
from tests.fakes.smsc import FakeSMSC
from tests.test_run import (  # noqa: F401 (fixtures)
    Civic,
    Launch,
    http,
    launch,
    wait_until,
    workdir,
)

PHONE = demo_data.RESIDENT_PHONE
WITHIN = 20.0
INBOUND_SECRET = "aggregator-secret-0123456789"


def query(workdir: Path, sql: str, *args: object) -> list[tuple[object, ...]]:
    with contextlib.closing(sqlite3.connect(workdir / "civic-bot.db")) as db:
        return db.execute(sql, args).fetchall()


def resident_name(workdir: Path) -> str:
    [(name,)] = query(workdir, "SELECT name FROM residents WHERE phone = ?", PHONE)
    return str(name)


def opted_out(workdir: Path) -> bool:
    [(flag,)] = query(workdir, "SELECT opted_out FROM residents WHERE phone = ?", PHONE)
    return bool(flag)


def footprint(workdir: Path) -> tuple[object, ...]:
    """What an inbound SMS would change: the inbound records and the outbox."""
    [row] = query(
        workdir,
        "SELECT (SELECT COUNT(*) FROM inbound),"
        " (SELECT COUNT(*) FROM outbox), (SELECT COUNT(*) FROM outbox WHERE status = 'queued')",
    )
    return row


def reply_status(workdir: Path, provider_id: str) -> str | None:
    rows = query(workdir, "SELECT status FROM outbox WHERE provider_id = ?", provider_id)
    return str(rows[0][0]) if rows else None


async def stop_cleanly(civic: Civic) -> None:
    code, _ = await civic.stop(signal.SIGTERM)
    assert code == 0, civic.output()
    # personal data never in logs in clear
    assert PHONE not in civic.output()


# -- Android -----------------------------------------------------------------------------


async def test_run_with_an_android_phone(
    launch: Launch, workdir: Path, http: aiohttp.ClientSession
) -> None:
    async with FakeAndroidGateway(
        clock=time.monotonic, wall_clock=time.time, per_minute=600
    ) as phone:
        civic = await launch(
            {
                "SMS_GATEWAY": "android",
                "ANDROID_GATEWAY_PHONES": f"http://{phone.login}:{phone.password}"
                f"@127.0.0.1:{phone.port}",
                "ANDROID_GATEWAY_PER_MINUTE": "600",
                "ANDROID_GATEWAY_SIGNING_KEYS": f"old-key,{phone.signing_key}",
            }
        )
        health = await civic.wait_healthy(http)
        assert health["sms"] is True
        phone.webhook_url = f"{civic.base_url}/sms/android"

        # a resident's SMS: answered through the phone
        assert await phone.receive(PHONE, "ME") == 204
        await wait_until(lambda: len(phone.messages) == 1, WITHIN, "the reply", civic)
        [reply] = phone.messages
        assert reply.phone_numbers == [PHONE]
        assert resident_name(workdir) in reply.text

        # its delivery report moves the row forward, and a late "sent" does not move it back
        assert await phone.report(reply.id, "sms:delivered") == 204
        assert reply_status(workdir, reply.id) == "delivered"
        assert await phone.report(reply.id, "sms:sent") == 204
        assert reply_status(workdir, reply.id) == "delivered"

        # forged, stale, unsigned: refused, nothing changes
        before = footprint(workdir)
        body = phone.envelope(
            "sms:received", {"messageId": "x", "message": "STOP", "phoneNumber": PHONE}
        )
        assert await phone.post(body, phone.signed_headers(body, key="not-the-key")) == 401
        stale = str(int(time.time()) - 3600)
        replayed = {"X-Signature": sign(body, stale, phone.signing_key), "X-Timestamp": stale}
        assert await phone.post(body, replayed) == 401
        assert await phone.post(body, {"Content-Type": "application/json"}) == 401
        assert await phone.post(b"{", phone.signed_headers(b"{")) == 400
        # the same signed request again (a replay within its minutes): handled once only
        headers = phone.signed_headers(body)
        assert await phone.post(body, headers) == 204
        assert await phone.post(body, headers) == 204
        await wait_until(lambda: len(phone.messages) == 2, WITHIN, "the STOP reply", civic)
        await asyncio.sleep(1.5)  # a second reply would be out by now
        assert len(phone.messages) == 2
        assert footprint(workdir)[0] == before[0] + 1
        assert opted_out(workdir)
        await stop_cleanly(civic)


# -- SMPP --------------------------------------------------------------------------------


def text_to(smsc: FakeSMSC, phone: str) -> list[tuple[str, str]]:
    """(first part's id, whole text) of each message the SMSC accepted for ``phone``."""
    messages: list[tuple[str, str]] = []
    for submit in smsc.accepted:
        if submit.destination_addr != phone.lstrip("+"):
            continue
        udh = bool(submit.esm_class & ESM_UDHI)
        concat, payload = split_udh(submit.short_message) if udh else (None, submit.short_message)
        text = decode_payload(payload, submit.data_coding)
        if concat is None or concat.number == 1:
            messages.append((submit.message_id, text))
        else:
            messages[-1] = (messages[-1][0], messages[-1][1] + text)
    return messages


async def test_run_with_smpp(launch: Launch, workdir: Path, http: aiohttp.ClientSession) -> None:
    async with FakeSMSC() as smsc:
        civic = await launch(
            {
                "SMS_GATEWAY": "smpp",
                "SMPP_HOST": "127.0.0.1",
                "SMPP_PORT": str(smsc.port),
                "SMPP_SYSTEM_ID": smsc.system_id,
                "SMPP_PASSWORD": smsc.password,
                "SMPP_SOURCE_ADDR": "AyilBudget",
            }
        )
        await civic.wait_healthy(http)
        await smsc.wait_bound()
        assert smsc.binds[-1] == (smsc.system_id, smsc.password, True)
        await sms_health(civic, http, True)

        # deliver_sm from a resident → submit_sm with the reply
        assert await smsc.deliver_sms(PHONE, "ME") == [pdu.ESME_ROK]
        await wait_until(lambda: len(text_to(smsc, PHONE)) == 1, WITHIN, "the reply", civic)
        [(message_id, text)] = text_to(smsc, PHONE)
        assert resident_name(workdir) in text

        # its receipt moves the row to delivered
        assert await smsc.deliver_receipt(message_id) == pdu.ESME_ROK
        assert reply_status(workdir, message_id) == "delivered"

        # the SMSC redelivers the same deliver_sm (its answer lost): handled once
        before = footprint(workdir)
        assert await smsc.deliver_sms(PHONE, "ME") == [pdu.ESME_ROK]
        assert footprint(workdir) == before

        # the link drops: civic-bot binds again and the next SMS goes through
        smsc.drop()
        await smsc.wait_bound(2)
        assert await smsc.deliver_sms(PHONE, "СТОП") == [pdu.ESME_ROK]
        await wait_until(lambda: len(text_to(smsc, PHONE)) == 2, WITHIN, "the STOP reply", civic)
        assert opted_out(workdir)

        # stopping unbinds
        await stop_cleanly(civic)
        await smsc.until(lambda: smsc.bound_links == 0)


async def sms_health(civic: Civic, http: aiohttp.ClientSession, expected: bool) -> None:
    """Until ``/healthz`` says ``"sms": expected`` (at most :data:`WITHIN` seconds)."""
    deadline = time.monotonic() + WITHIN
    while (await civic.wait_healthy(http))["sms"] is not expected:
        assert time.monotonic() < deadline, f"/healthz never said sms: {expected}"
        await asyncio.sleep(0.1)


async def test_healthz_says_no_sms_while_smpp_is_not_bound(
    launch: Launch, http: aiohttp.ClientSession
) -> None:
    async with FakeSMSC() as smsc:
        civic = await launch(
            {
                "SMS_GATEWAY": "smpp",
                "SMPP_HOST": "127.0.0.1",
                "SMPP_PORT": str(smsc.port),
                "SMPP_SYSTEM_ID": smsc.system_id,
                "SMPP_PASSWORD": "wrong",  # (SMPP: at most 8 characters)
                "SMPP_SOURCE_ADDR": "AyilBudget",
            }
        )
        await civic.wait_healthy(http)
        await smsc.until(lambda: len(smsc.binds) >= 1, WITHIN)  # refused: ESME_RINVPASWD
        assert (await civic.wait_healthy(http))["sms"] is False
        smsc.password = "wrong"  # the operator corrects the account
        await smsc.until(lambda: smsc.bound_links > 0, WITHIN)  # at the next retry
        await sms_health(civic, http, True)
        smsc.password = "changed"  # the link drops and cannot bind again
        smsc.drop()
        await sms_health(civic, http, False)
        await stop_cleanly(civic)


# -- a generic HTTP gateway --------------------------------------------------------------


async def test_run_with_an_http_gateway(
    launch: Launch, workdir: Path, http: aiohttp.ClientSession
) -> None:
    async with FakeHttpGateway() as aggregator:
        civic = await launch(
            {
                "SMS_GATEWAY": "http",
                "HTTP_GATEWAY_SEND_URL": f"{aggregator.base_url}/api/send",
                "HTTP_GATEWAY_BODY": '{"to": {{to_no_plus}}, "text": {{text}}}',
                "HTTP_GATEWAY_ID_PATH": "data.0.id",
                "HTTP_GATEWAY_INBOUND_SECRET": INBOUND_SECRET,
            }
        )
        assert (await civic.wait_healthy(http))["sms"] is True
        url = f"{civic.base_url}/sms/http"

        async def post(secret: str, fields: dict[str, str]) -> int:
            async with http.post(url, json=fields, headers={"X-Gateway-Secret": secret}) as r:
                return r.status

        sms = {"id": "mo-1", "from": PHONE, "text": "ME", "to": "7070"}
        assert await post(INBOUND_SECRET, sms) == 204
        await wait_until(lambda: len(aggregator.requests) == 1, WITHIN, "the reply", civic)
        sent = json.loads(aggregator.requests[0].body)
        assert sent["to"] == PHONE.lstrip("+")
        assert resident_name(workdir) in sent["text"]
        assert reply_status(workdir, "msg-1") == "sent"

        # delivery reports, one URL per outcome: forward only
        async with http.post(
            f"{url}/status/delivered",
            data={"id": "msg-1"},
            headers={"X-Gateway-Secret": INBOUND_SECRET},
        ) as answer:
            assert answer.status == 204
        assert reply_status(workdir, "msg-1") == "delivered"
        async with http.post(
            f"{url}/status/failed", data={"id": "msg-1"}, headers={"X-Gateway-Secret": "wrong"}
        ) as answer:
            assert answer.status == 401
        assert reply_status(workdir, "msg-1") == "delivered"

        before = footprint(workdir)
        assert await post("wrong", {**sms, "id": "mo-2", "text": "STOP"}) == 401
        assert await post(INBOUND_SECRET, {"text": "STOP"}) == 400
        assert await post(INBOUND_SECRET, sms) == 204  # the same id again
        assert footprint(workdir) == before

        assert await post(INBOUND_SECRET, {**sms, "id": "mo-3", "text": "ТОКТОТ"}) == 204
        await wait_until(lambda: len(aggregator.requests) == 2, WITHIN, "the STOP reply", civic)
        assert opted_out(workdir)
        await stop_cleanly(civic)
