"""The secret ballot against an attacker who has a copy of the database (file, WAL, a
dump's order, PostgreSQL's system columns), every export and every staff command, but not
``BALLOT_KEY`` — on SQLite and PostgreSQL.

The strongest check plays two worlds: the same residents vote at the same moments through
the real SMS webhook (and on paper), but who chose what is swapped between them. Whatever
the attacker reads (every row of every table in stored order, SQLite rowids, PostgreSQL
``ctid`` and ``xmin``, the inbound record, the staff's outputs while the poll is open)
must be the same in both worlds, sealed values compared by length only: then no way of
reading it (order, time, transaction ids, hashes, replies) can tell who voted how.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from twilio.request_validator import RequestValidator

from bot.app import http_app
from bot.channels.twilio.webhook import NAME as TWILIO
from bot.channels.twilio.webhook import TwilioChannel
from bot.core.rendering.templates import Renderer
from bot.core.services import demo_data, poll_io, poll_results
from bot.core.services.errors import ServiceError
from bot.core.services.poll_results import suppressed
from bot.core.services.polls import OptionSpec, create_poll
from bot.runtime.web import WebContext
from handlers.text import handle_text
from storage.db import Database, connect
from storage.migrate import migrate
from storage.models import Municipality, Poll
from storage.repos import Repos
from storage.sealing import is_sealed
from tests.conftest import FakeClock, run_cli, run_sync, table_snapshot
from tests.fakes.webhooks import DEFAULT_AUTH_TOKEN, twilio_inbound_form, twilio_signed_headers
from tests.processes import TEST_BALLOT_KEY
from tests.test_migrations import old_ballot

PUBLIC = "https://bot.example.kg"
OUR_NUMBER = "+15005550006"
#: labels of very different lengths: a receipt's length must not tell them apart
LABELS = ["Park", "Roads and bridges of Kachybek, seven of them, with the excavator", "Club"]


# ------------------------------------------------------------------------------ plumbing


@dataclass
class Town:
    """One database with the demo municipality, an open poll and the SMS webhook."""

    repos: Repos
    demo: Municipality
    poll: Poll
    clock: FakeClock
    post: Callable[[str, str, str], Any]


@contextlib.asynccontextmanager
async def town(url: str, *, key: str | None = TEST_BALLOT_KEY) -> AsyncIterator[Town]:
    clock = FakeClock()
    async with connect(url) as db:
        await migrate(db)
        repos = Repos(db, key)
        demo, _ = await demo_data.ensure_demo(repos, now=clock.now())
        poll = await create_poll(
            repos,
            demo,
            title="Priorities",
            ballot_type="approval",
            options=[OptionSpec(label) for label in LABELS],
            max_choices=2,
            opens_at=clock.now() - timedelta(hours=1),
            closes_at=clock.now() + timedelta(days=7),
            now=clock.now(),
        )
        ctx = WebContext(
            repos=repos,
            renderer=Renderer("Asia/Bishkek"),
            clock=clock,
            municipality=demo,
            channels={TWILIO: TwilioChannel(RequestValidator(DEFAULT_AUTH_TOKEN))},
            public_base_url=PUBLIC,
        )
        server = TestServer(http_app(ctx), host="127.0.0.1")
        await server.start_server()
        async with aiohttp.ClientSession() as http:

            async def post(phone: str, body: str, sid: str) -> str:
                """An SMS through the real webhook, signed as Twilio signs; the TwiML."""
                form = twilio_inbound_form(phone, OUR_NUMBER, body, message_sid=sid)
                headers = twilio_signed_headers(DEFAULT_AUTH_TOKEN, PUBLIC + "/sms/twilio", form)
                url = str(server.make_url("/sms/twilio"))
                async with http.post(url, data=form, headers=headers) as response:
                    assert response.status == 200
                    return await response.text()

            yield Town(repos, demo, poll, clock, post)
        await server.close()


async def attacker_view(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table in the order the engine stores it (what a copy of the file
    or a dump shows), with SQLite's rowid, or PostgreSQL's ``ctid`` and ``xmin`` (as its
    rank: the order of the transactions). A sealed value is seen as its length only."""
    if db.dialect.name == "sqlite":
        names = await db.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
            " AND name NOT LIKE 'sqlite_%' AND name != 'schema_version'"
        )
        select = "SELECT rowid, * FROM {}"
    else:
        names = await db.fetchall(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_name != 'schema_version'"
        )
        select = "SELECT xmin::text::bigint, ctid::text, * FROM {}"
    view = {}
    for name in sorted(row[0] for row in names):
        rows = await db.fetchall(select.format(name))
        view[name] = [
            tuple(("sealed", len(v)) if isinstance(v, str) and is_sealed(v) else v for v in row)
            for row in rows
        ]
    if db.dialect.name == "postgresql":
        transactions = sorted({row[0] for rows in view.values() for row in rows})
        rank = {xmin: n for n, xmin in enumerate(transactions)}
        view = {name: [(rank[r[0]], *r[1:]) for r in rows] for name, rows in view.items()}
    return view


async def staff_outputs(t: Town) -> list[str]:
    """What staff see of the open poll: results, the CSV export, the .pb refused."""
    results = await poll_results.compute(t.repos, t.poll, now=t.clock.now())
    shown = [repr(results), await poll_io.results_csv(t.repos, t.poll, now=t.clock.now())]
    with pytest.raises(ServiceError) as refused:
        await poll_io.export_pb(t.repos, t.demo, t.poll, now=t.clock.now())
    return [*shown, str(refused.value)]


def phone(n: int) -> str:
    return f"+99670000{n:04d}"


# ------------------------------------------------------------------------------ two worlds

#: (voter, what they send, in order); world B swaps the choices of voters 10 and 11, and
#: the two ballots of voter 12 (the later one counts)
WORLD_A = [(10, "V 1 2"), (11, "V 3"), (12, "V 2"), (13, "V 1"), (12, "V 3")]
WORLD_B = [(10, "V 3"), (11, "V 1 2"), (12, "V 3"), (13, "V 1"), (12, "V 2")]
PAPER_A = "phone,choices\n0700000020,1\n0700000021,2 3\n"
PAPER_B = "phone,choices\n0700000020,2 3\n0700000021,1\n"


async def play(url: str, votes: list[tuple[int, str]], paper: str) -> tuple[Any, ...]:
    async with town(url) as t:
        receipts = []
        for n, (voter, text) in enumerate(votes):
            t.clock.advance(minutes=7)
            receipts.append(await t.post(phone(voter), text, f"SM{n:032x}"))
        await poll_io.import_paper_ballots(
            t.repos, t.demo, t.poll, paper.encode(), now=t.clock.now()
        )
        view = await attacker_view(t.repos.db)
        outputs = await staff_outputs(t)
        t.clock.advance(days=8)  # closed: the count is right in both worlds
        results = await poll_results.compute(t.repos, t.poll, now=t.clock.now())
        totals = {r.option.position: r.votes for r in results.options}
        return view, outputs, totals, receipts


async def test_nothing_an_attacker_holds_depends_on_who_chose_what(
    new_db_url: Callable[[], str],
) -> None:
    view_a, outputs_a, totals_a, receipts_a = await play(new_db_url(), WORLD_A, PAPER_A)
    view_b, outputs_b, totals_b, receipts_b = await play(new_db_url(), WORLD_B, PAPER_B)
    # the voters were told what was recorded, and the worlds really differ
    assert "1) Park, 2) Roads and bridges" in receipts_a[0] and "3) Club" in receipts_b[0]
    assert (totals_a, totals_b) == ({1: 3, 2: 2, 3: 3}, {1: 3, 2: 3, 3: 2})  # counted right
    assert view_a["turnout"] and view_a["inbound"] and view_a["box_ballots"]
    for table in view_a:
        assert view_a[table] == view_b[table], f"{table} tells the worlds apart"
    assert outputs_a == outputs_b


async def test_no_plaintext_choice_nor_key_is_stored(db_url: str) -> None:
    """The ways that linked every ballot before: the key in the database (HMAC of poll and
    resident), plaintext ballot rows in turnout order, the reply beside the resident."""
    async with town(db_url) as t:
        for n, text in enumerate(["V 1", "V 2", "V 3"]):
            await t.post(phone(10 + n), text, f"SM{n:032x}")
        assert await table_snapshot(t.repos, "ballots", "ballot_choices", "secrets") == {
            "ballots": [],
            "ballot_choices": [],
            "secrets": [],
        }
        stored = await t.repos.db.fetchall("SELECT ballot FROM turnout")
        replies = await t.repos.db.fetchall("SELECT reply FROM inbound")
        values = [row[0] for row in [*stored, *replies]]
        assert len(values) == 6 and all(is_sealed(value) for value in values)
        assert len({len(row[0]) for row in stored}) == 1
        assert len({len(row[0]) for row in replies}) == 1


async def test_a_repeated_delivery_is_answered_from_a_sealed_record(db_url: str) -> None:
    async with town(db_url) as t:
        first = await t.post(phone(10), "V 2", "SM" + "a" * 32)
        again = await t.post(phone(10), "V 2", "SM" + "a" * 32)
        assert first == again and "Roads and bridges" in first
        (reply,) = await t.repos.db.fetchall("SELECT reply FROM inbound")
        assert is_sealed(reply[0]) and "Roads" not in reply[0]
        assert await t.repos.polls.turnout_count(t.poll.id) == 1


# ------------------------------------------------------------------------------ staff views


async def test_running_results_twice_while_open_shows_where_no_vote_went(db_url: str) -> None:
    async with town(db_url) as t:
        for n in range(10, 15):
            await t.post(phone(n), "V 1", f"SM{n:032x}")
        before = await poll_results.compute(t.repos, t.poll, now=t.clock.now())
        csv_before = await poll_io.results_csv(t.repos, t.poll, now=t.clock.now())
        await t.post(phone(15), "V 3", f"SM{15:032x}")
        after = await poll_results.compute(t.repos, t.poll, now=t.clock.now())
        csv_after = await poll_io.results_csv(t.repos, t.poll, now=t.clock.now())
        assert before.sealed and after.sealed
        assert (before.options, before.breakdown) == (after.options, after.breakdown) == ([], {})
        assert (before.ballots, after.ballots) == (5, 6)  # turnout is shown
        assert csv_before.replace("all,5,", "all,6,") == csv_after
        assert "Club" not in csv_after and "Park" not in csv_after


def test_small_groups_and_what_the_total_would_give_away_are_suppressed() -> None:
    assert suppressed({"a": 10, "b": 7, "c": 1}, 5) == {"c", "b"}  # c = total - a - b
    assert suppressed({"a": 10, "b": 7, "c": 6}, 5) == set()
    assert suppressed({"a": 3, "b": 3, "c": 10}, 5) == {"a", "b"}  # 6 together: enough
    assert suppressed({"a": 4}, 5) == {"a"}


async def test_a_breakdown_shows_no_figures_for_a_group_of_one(db_url: str) -> None:
    async with town(db_url) as t:
        rows = await t.repos.db.fetchall(
            "SELECT r.phone, v.name FROM residents r JOIN villages v ON v.id = r.village_id"
            " WHERE r.birth_year <= 2000 ORDER BY r.id"
        )
        ak_chiy = [p for p, village in rows if village == "Ak-Chiy"][:6]
        lonely = next(p for p, village in rows if village == "Kachybek")
        for n, voter in enumerate(ak_chiy):
            await t.post(voter, "V 1", f"SM{n:032x}")
        await t.post(lonely, "V 3", f"SM{99:032x}")
        t.clock.advance(days=8)
        results = await poll_results.compute(t.repos, t.poll, now=t.clock.now())
        village = results.breakdown["village"]
        assert village["Kachybek"] == (1, None)
        assert village["Ak-Chiy"] == (6, None)  # or the total minus Ak-Chiy is Kachybek
        assert {r.option.position: r.votes for r in results.options}[3] == 1  # the outcome
        rows_csv = (await poll_io.results_csv(t.repos, t.poll, now=t.clock.now())).splitlines()
        assert "village,Kachybek,1,,,,,," in rows_csv
        assert not [row for row in rows_csv if row.startswith("village,") and "Club" in row]
        bigger = await poll_results.compute(t.repos, t.poll, now=t.clock.now(), small_group_min=1)
        assert bigger.breakdown["village"]["Kachybek"] == (1, {1: 0, 2: 0, 3: 1})


async def test_a_pb_export_has_no_order_nor_voter_attributes(
    new_db_url: Callable[[], str],
) -> None:
    """The same ballots cast in another order export the same file; voter ids are 1..n."""
    votes = list(enumerate(["V 3", "V 1 2", "V 1", "V 3", "V 2"], start=10))
    exports = []
    for order in (votes, votes[::-1]):
        async with town(new_db_url()) as t:
            for n, (voter, text) in enumerate(order):
                t.clock.advance(minutes=1)
                await t.post(phone(voter), text, f"SM{n:032x}")
            t.clock.advance(days=8)
            exports.append(await poll_io.export_pb(t.repos, t.demo, t.poll, now=t.clock.now()))
    assert exports[0] == exports[1]
    lines = exports[0].split("VOTES\n")[1].splitlines()
    assert lines[0] == "voter_id;vote"
    assert [line.split(";")[0] for line in lines[1:]] == ["1", "2", "3", "4", "5"]


# ------------------------------------------------------------------------------ the key


async def test_without_the_key_no_poll_opens_and_voting_is_politely_unavailable(
    new_db_url: Callable[[], str], renderer: Renderer
) -> None:
    url = new_db_url()
    async with town(url) as t:  # a poll made while the key was set
        poll_id = t.poll.id
    clock = FakeClock()
    async with connect(url) as db:
        repos = Repos(db)  # the key is not set
        demo, _ = await demo_data.ensure_demo(repos, now=clock.now())
        with pytest.raises(ServiceError, match="BALLOT_KEY is not set"):
            await create_poll(
                repos, demo, title="X", ballot_type="choose1",
                options=[OptionSpec("a"), OptionSpec("b")], opens_at=clock.now(),
                closes_at=clock.now() + timedelta(days=1), now=clock.now(),
            )  # fmt: skip
        before = await table_snapshot(repos, "turnout", "box_ballots")
        for text in ("LANG EN", f"V{poll_id} 1", f"VOTED {poll_id}"):
            handled = await handle_text(
                repos, renderer, municipality=demo, phone=phone(10), text=text,
                channel="sms", now=clock.now(),
            )  # fmt: skip
        assert handled.text == "Voting is not available right now. Please try again later."
        assert await table_snapshot(repos, "turnout", "box_ballots") == before


def test_the_cli_refuses_a_poll_without_the_key_in_one_line(tmp_path: Any) -> None:
    assert run_cli("init", "--demo", cwd=tmp_path).returncode == 0
    create = ("poll", "create", "--title", "X", "--type", "choose1", "--option", "a",
              "--option", "b", "--closes", "2099-01-01 18:00")  # fmt: skip
    refused = run_cli(*create, cwd=tmp_path, env={"BALLOT_KEY": ""})
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        "civic-bot: BALLOT_KEY is not set: a secret ballot needs it (how to make one: .env.example)"
    ]
    short = run_cli(*create, cwd=tmp_path, env={"BALLOT_KEY": "too-short"})
    assert short.returncode == 2 and "BALLOT_KEY: must be at least 32 characters" in short.stderr
    assert "too-short" not in short.stderr


def test_the_demo_keeps_its_own_key_beside_the_database(tmp_path: Any) -> None:
    """Out of the box: no BALLOT_KEY, the demo makes one in a file of its own (0600), not
    in the database; staff use it to open a poll the demo then votes in."""
    assert run_cli("demo", cwd=tmp_path, env={"BALLOT_KEY": ""}, stdin="ME\n").returncode == 0
    key_file = tmp_path / "civic-bot.db.ballot-key"
    key = key_file.read_text(encoding="utf-8").strip()
    assert len(key) == 64 and key_file.stat().st_mode & 0o777 == 0o600
    created = run_cli(
        "poll", "create", "--title", "X", "--type", "choose1", "--option", "Park",
        "--option", "Club", "--closes", "2099-01-01 18:00", cwd=tmp_path,
        env={"BALLOT_KEY": key},
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    voted = run_cli("demo", cwd=tmp_path, env={"BALLOT_KEY": ""}, stdin="LANG EN\nV 2\nVOTED\n")
    assert "Vote in poll 1 received: 2) Club" in voted.stdout
    assert "Your ballot in poll 1 is counted: 2) Club" in voted.stdout
    for name in ("civic-bot.db", "civic-bot.db-wal"):
        path = tmp_path / name
        assert not path.exists() or key.encode() not in path.read_bytes()


# ------------------------------------------------------------------------------ receipts


async def test_voted_tells_the_resident_alone_what_their_ballot_says(
    db_url: str, renderer: Renderer
) -> None:
    async with town(db_url) as t:

        async def say(text: str, voter: int = 10) -> str:
            handled = await handle_text(
                t.repos, renderer, municipality=t.demo, phone=phone(voter), text=text,
                channel="sms", now=t.clock.now(),
            )  # fmt: skip
            return handled.text

        await say("LANG EN")
        assert await say("VOTED") == f"You have not voted in poll {t.poll.id}."
        await say("V 3 1")
        before = await table_snapshot(t.repos, "turnout", "box_ballots", "outbox")
        expected = f"Your ballot in poll {t.poll.id} is counted: 1) Park, 3) Club"
        assert await say("VOTED") == expected
        assert await say(f"voted{t.poll.id}") == expected
        assert await say(f"VOTED #{t.poll.id}") == expected
        assert await table_snapshot(t.repos, "turnout", "box_ballots", "outbox") == before
        await say("LANG RU")
        assert (
            await say(f"ЧЕК {t.poll.id}")
            == f"Ваш голос в опросе №{t.poll.id} учтён: 1) Park, 3) Club"
        )
        await say("LANG KY")
        assert (await say("ДОБУШУМ")).startswith(
            f"№{t.poll.id} добуш берүүдөгү добушуңуз эсептелди"
        )
        await poll_io.import_paper_ballots(
            t.repos, t.demo, t.poll, b"phone,choices\n0700000011,2\n", now=t.clock.now()
        )
        await say("LANG EN", voter=11)
        assert (await say("VOTED", voter=11)).startswith(f"You voted in poll {t.poll.id} on paper.")


# ------------------------------------------------------------------------------ logs


async def test_logs_never_put_an_answer_beside_a_resident(
    db_url: str, renderer: Renderer, caplog: pytest.LogCaptureFixture
) -> None:
    async with town(db_url) as t:
        caplog.set_level(logging.DEBUG)
        for n, text in enumerate(("V 3", "YES", "NO", "MAYBE", "R 1 4", "VOTED")):
            await t.post(phone(10), text, f"SM{n:032x}")
        texts = [record.getMessage() for record in caplog.records]
        assert any("resident=" in text for text in texts)
        for text in texts:
            if "resident=" in text:
                for answer in ("command=yes", "command=no", "answer=", "score=", "Club"):
                    assert answer not in text, text


def test_init_seals_an_earlier_versions_ballots_once_the_key_is_set(tmp_path: Any) -> None:
    """Upgrading: without BALLOT_KEY every command refuses in one line; with it, init
    seals the ballots and deletes the stored key."""
    url = f"sqlite:///{tmp_path / 'civic-bot.db'}"

    async def earlier_version() -> None:
        clock = FakeClock()
        async with connect(url) as db:  # as migration 0013 leaves ballots of before
            await migrate(db)
            old = Repos(db)
            demo, _ = await demo_data.ensure_demo(old, now=clock.now())
            await db.execute("INSERT INTO secrets (name, value) VALUES ('ballot-key', 'old')")
            poll_id = await old.polls.create(
                municipality_id=demo.id, title="Old", ballot_type="choose1", max_choices=1,
                village_id=None, min_age=18, opens_at="2026-01-01", closes_at="2026-02-01",
                budget=None, rule="totals", changeable=True, now="2026-01-01",
            )  # fmt: skip
            await old.polls.add_options(poll_id, [("A", None, None), ("B", None, None)])
            await old_ballot(db, poll_id, "pb:1", (await old.polls.options(poll_id))[0].id)

    run_sync(earlier_version())
    refused = run_cli("poll", "list", cwd=tmp_path, env={"BALLOT_KEY": ""})
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        "civic-bot: the database holds 1 ballot(s) of an earlier version, not yet sealed:"
        " set BALLOT_KEY (see .env.example) and run civic-bot init"
    )
    sealed = run_cli("init", cwd=tmp_path)
    assert sealed.returncode == 0, sealed.stderr
    assert "1 ballot(s) of an earlier version sealed under BALLOT_KEY" in sealed.stdout
    assert run_cli("poll", "list", cwd=tmp_path, env={"BALLOT_KEY": ""}).returncode == 0
