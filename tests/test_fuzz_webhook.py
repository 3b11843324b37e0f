"""Fuzz: 10,000 random SMS through the real, signed Twilio webhook.

A real aiohttp server on 127.0.0.1 with the production app (``bot.app.http_app``), signature
checks against ``PUBLIC_BASE_URL`` on, the demo municipality behind it. The bodies come
from a seeded ``random.Random``, so every run sends the same 10,000 messages: empty,
blank, 10 kB, emoji, mixed Kyrgyz/Russian/Latin, control characters, SQL fragments,
commands with garbage arguments and valid commands, from registered residents (staff,
deputies, monitors, residents) and from unknown numbers and non-numbers.

Afterwards every table is compared with its state before the run. What may change is
worked out by replaying the recorded inbound messages, in the order the server handled
them (the ``inbound`` ids), through a small model of what each command does; anything
else that changed, or anything the model expects that is missing, fails the test.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from twilio.request_validator import RequestValidator

from bot.app import http_app
from bot.channels.twilio.webhook import NAME as TWILIO
from bot.channels.twilio.webhook import TwilioChannel
from bot.core.clock import iso
from bot.core.phones import InvalidPhone, normalize_phone
from bot.core.rendering.sms import sms_size
from bot.core.rendering.templates import Renderer
from bot.core.services import demo_data, hearings, monitoring, polls, problems, ratings, roles
from bot.core.services.ballot_text import BallotSyntaxError, parse_ballot_text
from bot.core.services.voting import Refused, age_group, eligible, poll_state, validate
from bot.runtime.web import WebContext
from handlers.budget_commands import _number
from handlers.commands import Parsed, parse, parse_act_kind, parse_answer, parse_language
from handlers.hearing_commands import _NUMBERED
from storage.models import Municipality, Resident, StoredBallot
from storage.repos import Repos
from tests.conftest import FakeClock
from tests.fakes.webhooks import DEFAULT_AUTH_TOKEN, twilio_inbound_form, twilio_signed_headers

SEED = 20_261_125
MESSAGES = 10_000
REPLAYS = 200
#: requests in flight at once (the server handles one SMS at a time: SQLite has one writer)
CONCURRENCY = 8

PUBLIC = "https://bot.example.kg"
PATH = "/sms/twilio"
OUR_NUMBER = "+15005550006"
OTHER_TOKEN = "0123456789abcdef" * 2


# ------------------------------------------------------------------------------ the world


@dataclass(frozen=True)
class World:
    """What the run is set up with (before the "before" snapshot)."""

    demo: Municipality
    open_poll: int
    scheduled_poll: int
    hearing: int
    projects: list[int]
    approved_problems: list[int]
    registered: list[str]
    staff: list[str]
    unknown: list[str]


async def make_world(repos: Repos, demo: Municipality, clock: FakeClock) -> World:
    now = clock.now()
    labels = ["Kindergarten", "Bridge", "Street lighting", "Water pipe"]
    open_poll = await polls.create_poll(
        repos, demo, title="Priorities 2027", ballot_type="approval", max_choices=2,
        options=[polls.OptionSpec(label) for label in labels],
        opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=7), now=now,
    )  # fmt: skip
    scheduled = await polls.create_poll(
        repos, demo, title="Later", ballot_type="cumulative", max_choices=5,
        options=[polls.OptionSpec(label) for label in labels[:3]],
        opens_at=now + timedelta(days=3), closes_at=now + timedelta(days=9), now=now,
    )  # fmt: skip
    hearing = await hearings.create_hearing(
        repos, demo, kind="formation", starts_at=now + timedelta(days=10),
        place="Club, Ak-Chiy", now=now,
    )  # fmt: skip
    # published, but only a few invited (publishing to all 3,728 is another test's job)
    await repos.hearings.set_status(hearing.id, "published")
    people = await repos.residents.by_phones(demo.id)
    invited = [demo_data.RESIDENT_PHONE, demo_data.DEPUTY_PHONES[0], demo_data.MONITOR_PHONES[4]]
    await repos.hearings.invite_many(hearing.id, [people[p].id for p in invited], now=iso(now))
    await ratings.open_round(repos, demo, "Services 2026", ["Water", "Roads", "Clinic"], now=now)

    rng = random.Random(SEED + 1)
    _, generated = demo_data.generate()
    ordinary = [p.phone for p in generated if p.phone not in demo_data.ROLE_HOLDERS]
    russian = [p.phone for p in generated if p.language == "ru"]
    registered = sorted(
        {
            demo_data.RESIDENT_PHONE,
            demo_data.ADMIN_PHONE,  # staff and admin
            demo_data.STAFF_PHONES[3],
            demo_data.DEPUTY_PHONES[0],  # deputy and monitor
            demo_data.DEPUTY_PHONES[5],
            demo_data.MONITOR_PHONES[4],  # monitor
            *rng.sample(ordinary, 14),
            *rng.sample(russian, 4),
        }
    )
    ids = "SELECT id FROM {} WHERE municipality_id = ? {} ORDER BY id"
    project_ids = [
        int(r[0]) for r in await repos.db.fetchall(ids.format("projects", ""), (demo.id,))
    ]
    approved = [
        int(r[0])
        for r in await repos.db.fetchall(
            ids.format("problems", "AND status = 'approved'"), (demo.id,)
        )
    ]
    staff = [p for p in registered if p in demo_data.STAFF_PHONES]
    unknown = [
        demo_data.UNKNOWN_PHONE,
        "+996555000000",
        "+79161234567",
        "+15005550009",
        "Twilio",  # an alphanumeric sender
        "",
        " ",
        "'; DROP TABLE residents; --",
        "+996700000001\x00",
        "Twilio\x00",  # not a number, and a NUL for the database
        "0700000001",  # a registered number in national format
        "٠٧٠٠٠٠٠٠٠٢",  # ... in Arabic-Indic digits
        "+９９６７００００００００３",  # ... in full-width digits
        "+" + "9" * 40,
        "😀",
    ]
    return World(
        demo, open_poll.id, scheduled.id, hearing.id, project_ids, approved, registered,
        staff, unknown,
    )  # fmt: skip


# ------------------------------------------------------------------------------ messages

WHITESPACE = " \t\n\r\u00a0\u2000\u2003\u3000\u2028\u2029\u0085\u180e\u200b\ufeff"
CONTROL = [chr(c) for c in range(0x20)] + ["\x7f", "\u202e", "\u202d", "\u2066", "\u2069"]
ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u2060", "\ufeff"]
EMOJI = [
    "😀", "👍", "🇰🇬", "👨‍👩‍👧‍👦", "👍🏽", "❤️", "🏳️‍🌈", "🤷‍♀️", "🔥", "🙏", "🐎", "🏔️", "1️⃣",
    "\U0001f9d1\u200d\U0001f33e", "\U000e0067", "🀄", "🫠",
]  # fmt: skip
WORDS = [
    # Kyrgyz
    "салам", "кандайсыз", "жол", "көпүрө", "суу", "мектеп", "ооба", "жок", "рахмат", "өкмөт",
    "Үй-бүлө", "Ңң", "Өө", "Үү", "айыл", "бюджет", "добуш", "көйгөй",
    # Russian
    "привет", "дорога", "свет", "вода", "школа", "спасибо", "нет", "да", "голос", "Ёлка",
    "проблема", "бюджет", "ЩЁЖ", "ъ",
    # Latin, and look-alike hybrids
    "hello", "road", "water", "Vote", "HELP", "НЕLР", "MEH", "ДA", "СТOП", "P12", "#3",
    "Ak-Chiy", "ИЙЕ", "OOБA",
]  # fmt: skip
SQL = [
    "'; DROP TABLE residents; --",
    "' OR '1'='1",
    "1; DELETE FROM ballots",
    '"; UPDATE residents SET opted_out = 1; --',
    "Robert'); DROP TABLE inbound;--",
    "' UNION SELECT phone, name FROM residents --",
    "%' AND 1=0 UNION ALL SELECT sqlite_version() --",
    "1' ORDER BY 1--+",
    "admin'--",
    "'; ATTACH DATABASE '/tmp/x.db' AS x; --",
    "\\'; SELECT pg_sleep(10); --",
    "?%_*\\",
]
#: digits that are digits to ``str.isdigit`` but not all to ``int``
ODD_DIGITS = [
    "²", "³", "¹", "٣", "１２", "߁", "೫", "𝟓", "⑤", "Ⅻ", "½", "-1", "+2", "0", "00", "1e3",
    "9" * 12, "99999", "1.5", "0x1F",
]  # fmt: skip
VALID = [
    "ME", "me", "Мен", "Я", "HELP", "?", "/help", "/start@civic_bot", "ЖАРДАМ", "помощь",
    "LANG RU", "LANG EN", "LANG KY", "ТИЛ ру", "ЯЗЫК en", "lang kyrgyz", "LANG xx", "LANG",
    "STOP", "START", "stop", "СТОП", "СТАРТ", "ТОКТОТ", "БАШТА",
    "V 1", "V 1 2", "V 2 1", "V 1 1", "V 1 2 3", "V 9", "V 1:3", "V{poll} 3", "V #{poll} 4",
    "Д 2", "ГОЛОС 1,2", "V{scheduled} 1:5", "V99 1", "V", "vote 4;3", "V 0", "V 1=2",
    "POLLS", "POLLS {poll}", "ОПРОСЫ", "PROBLEMS", "КӨЙГӨЙЛӨР",
    "PROPOSE Road to school is broken", "СУНУШ Көпүрө керек", "ПРЕДЛОЖИТЬ Нужен свет", "PROPOSE",
    "HEARINGS", "YES", "NO", "MAYBE", "ДА", "ЖОК", "ооба", "H{hearing} YES", "H{hearing} no",
    "У{hearing} ооба", "С{hearing} да", "H1 YES", "H{hearing} PERHAPS", "H{hearing}",
    "BUDGET", "PROJECT {project}", "PROJECT 999", "ПРОЕКТ {project}", "JOIN {problem}",
    "JOIN 999", "ACTS {project}", "ACT {project} PURCHASE Cement delivered",
    "ACT {project} закупка 20 мешков", "ACT {project} USE", "ACT 999 TENDER x", "ACT",
    "R", "R 1 4", "R 2 5", "R Water 3", "R 1 9", "R 1", "R 3 1", "ОЦЕНКА 2 2",
    "BROADCAST Water off tomorrow",
]  # fmt: skip
KEYWORD_HEADS = [
    "V", "V 1", "V{poll}", "LANG", "PROPOSE", "СУНУШ", "H{hearing}", "R", "R 1", "JOIN",
    "PROJECT", "ACTS", "ACT {project}", "ACT", "POLLS", "ME", "YES", "BROADCAST", "HELP",
]  # fmt: skip


@dataclass(frozen=True)
class Message:
    sid: str
    sender: str
    body: str
    #: None: a well-formed, signed inbound SMS; else how it is malformed on purpose
    malformed: str | None = None


def _fill(template: str, world: World, rng: random.Random) -> str:
    return template.format(
        poll=world.open_poll,
        scheduled=world.scheduled_poll,
        hearing=world.hearing,
        project=rng.choice(world.projects),
        problem=rng.choice(world.approved_problems),
    )


def _mixed_words(rng: random.Random, count: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(count))


def _random_unicode(rng: random.Random, count: int) -> str:
    out = []
    for _ in range(count):
        plane = rng.random()
        top = 0x7F if plane < 0.2 else 0xFFFF if plane < 0.85 else 0x10FFFF
        code = rng.randint(0, top)
        if 0xD800 <= code <= 0xDFFF:  # surrogates are not text (nor UTF-8)
            code -= 0x800
        out.append(chr(code))
    return "".join(out)


def _ten_kilobytes(rng: random.Random) -> str:
    alphabet = rng.choice(
        [
            lambda: rng.choice("abcdefghijklmnopqrstuvwxyz .,"),
            lambda: rng.choice("абвгдеёжзийклмнөоңпрстуүфхцчшщъыьэюя "),
            lambda: rng.choice(EMOJI),
            lambda: rng.choice(WORDS) + " ",
            lambda: _random_unicode(rng, 1),
        ]
    )
    parts: list[str] = [rng.choice(["", "PROPOSE ", "V ", "BROADCAST ", "LANG ", "HELP "])]
    size = 0
    while size < 10_000:
        piece = alphabet()
        parts.append(piece)
        size += len(piece.encode())
    return "".join(parts)


def _sprinkle(rng: random.Random, text: str, chars: list[str], count: int) -> str:
    chars_list = list(text)
    for _ in range(count):
        chars_list.insert(rng.randint(0, len(chars_list)), rng.choice(chars))
    return "".join(chars_list)


def make_body(rng: random.Random, world: World) -> str:
    kind = rng.choices(
        ["empty", "blank", "huge", "emoji", "mixed", "control", "sql", "valid", "near", "unicode"],
        weights=[3, 3, 2, 6, 10, 10, 6, 35, 15, 10],
    )[0]
    if kind == "empty":
        return ""
    if kind == "blank":
        return "".join(rng.choice(WHITESPACE) for _ in range(rng.randint(1, 40)))
    if kind == "huge":
        return _ten_kilobytes(rng)
    if kind == "emoji":
        text = "".join(rng.choice(EMOJI) for _ in range(rng.randint(1, 200)))
        return rng.choice(["", "V ", "PROPOSE ", "HELP ", "R 1 "]) + text
    if kind == "mixed":
        return _mixed_words(rng, rng.randint(1, 30))
    if kind == "control":
        base = rng.choice([_fill(rng.choice(VALID), world, rng), _mixed_words(rng, 3), ""])
        return _sprinkle(rng, base, CONTROL + ZERO_WIDTH, rng.randint(1, 8))
    if kind == "sql":
        fragment = rng.choice(SQL)
        return rng.choice(["", "PROPOSE ", "LANG ", "V ", "R ", "JOIN ", "H1 ", "ACT 1 USE "]) + (
            fragment
        )
    if kind == "valid":
        text = _fill(rng.choice(VALID), world, rng)
        variant = rng.random()
        if variant < 0.15:
            text = text.lower()
        elif variant < 0.25:
            text = f"  {text}\n"
        elif variant < 0.3:
            text = _sprinkle(rng, text, ZERO_WIDTH, 1)
        return text
    if kind == "near":
        head = _fill(rng.choice(KEYWORD_HEADS), world, rng)
        tail = rng.choice(
            [
                lambda: rng.choice(ODD_DIGITS),
                lambda: " ".join(rng.choice(ODD_DIGITS) for _ in range(rng.randint(1, 4))),
                lambda: _random_unicode(rng, rng.randint(1, 20)),
                lambda: rng.choice(SQL),
                lambda: _sprinkle(rng, "1 2", CONTROL, 2),
                lambda: rng.choice(EMOJI) * rng.randint(1, 40),
                lambda: "x" * rng.randint(1500, 1700),
                lambda: rng.choice(WORDS),
            ]
        )()
        return f"{head} {tail}"
    return _random_unicode(rng, rng.randint(1, 400))


def make_messages(world: World) -> list[Message]:
    rng = random.Random(SEED)
    staff = set(world.staff)
    messages: list[Message] = []
    well_formed = 0
    while well_formed < MESSAGES:
        sender = rng.choice(world.registered if rng.random() < 0.75 else world.unknown)
        body = make_body(rng, world)
        if sender_phone(sender) in staff and parse(body).name == "broadcast":
            # a broadcast queues ~3,700 outbox rows: two explicit ones below are enough
            sender = demo_data.RESIDENT_PHONE
        messages.append(Message(f"SM{rng.getrandbits(128):032x}", sender, body))
        well_formed += 1
        if rng.random() < 0.01:  # and now and then a forged or incomplete request
            how = rng.choice(["wrong_token", "local_url", "unsigned", "no_sid", "no_from"])
            messages.append(Message(f"SM{rng.getrandbits(128):032x}", sender, body, how))
    for at, body in ((MESSAGES // 3, "BROADCAST Water off tomorrow 9-12"), (-40, "ЖАРЫЯ Жыйын")):
        asked = Message(f"SM{rng.getrandbits(128):032x}", world.staff[0], body)
        messages.insert(at, asked)
        # confirmed a little later (not in the same burst of concurrent requests)
        yes = Message(f"SM{rng.getrandbits(128):032x}", world.staff[0], "ИЙЕ")
        messages.insert(messages.index(asked) + CONCURRENCY + 1, yes)
    return messages


def form_of(message: Message) -> dict[str, str]:
    form = twilio_inbound_form(message.sender, OUR_NUMBER, message.body, message.sid)
    if message.malformed == "no_sid":
        for key in ("MessageSid", "SmsSid", "SmsMessageSid"):
            form.pop(key)
    elif message.malformed == "no_from":
        form.pop("From")
    return form


# ------------------------------------------------------------------------------ the server


@dataclass
class Web:
    server: TestServer
    http: aiohttp.ClientSession

    async def send(self, message: Message) -> tuple[int, str, str]:
        """POST the message as Twilio does (or malformed as it says): status, type, text."""
        form = form_of(message)
        url = PUBLIC + PATH
        token = DEFAULT_AUTH_TOKEN
        if message.malformed == "local_url":
            url = str(self.server.make_url(PATH))
        elif message.malformed == "wrong_token":
            token = OTHER_TOKEN
        headers = twilio_signed_headers(token, url, form)
        if message.malformed == "unsigned":
            headers.pop("X-Twilio-Signature")
        async with self.http.post(self.server.make_url(PATH), data=form, headers=headers) as resp:
            return resp.status, resp.content_type, await resp.text()


@pytest.fixture
async def web(
    repos: Repos, demo: Municipality, clock: FakeClock, renderer: Renderer
) -> AsyncIterator[Web]:
    ctx = WebContext(
        repos=repos,
        renderer=renderer,
        clock=clock,
        municipality=demo,
        channels={TWILIO: TwilioChannel(RequestValidator(DEFAULT_AUTH_TOKEN))},
        public_base_url=PUBLIC,
    )
    server = TestServer(http_app(ctx), host="127.0.0.1")
    await server.start_server()
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as http:
        yield Web(server, http)
    await server.close()


async def send_all(web: Web, messages: list[Message]) -> dict[str, tuple[int, str, str]]:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(message: Message) -> tuple[str, tuple[int, str, str]]:
        async with gate:
            return message.sid, await web.send(message)

    return dict(await asyncio.gather(*(one(m) for m in messages)))


#: characters outside XML 1.0 (Char production): they cannot be sent in TwiML at all
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def twiml_message(text: str) -> str | None:
    """The <Message> of a TwiML answer (None for an empty <Response/>); fails on bad XML."""
    root = ET.fromstring(text)
    assert root.tag == "Response", text
    messages = root.findall("Message")
    assert len(messages) <= 1 and len(root) == len(messages), text
    return (messages[0].text or "") if messages else None


# ------------------------------------------------------------------------------ snapshots

Snapshot = dict[str, tuple[tuple[str, ...], list[tuple[Any, ...]]]]


async def snapshot(repos: Repos) -> Snapshot:
    """Every table: its columns and all its rows."""
    if repos.db.dialect.name == "sqlite":
        names = [
            r[0]
            for r in await repos.db.fetchall(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        columns = {
            name: tuple(r[1] for r in await repos.db.fetchall(f"PRAGMA table_info({name})"))
            for name in names
        }
    else:
        rows = await repos.db.fetchall(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
        )
        columns = {}
        for table, column in rows:
            columns[table] = (*columns.get(table, ()), column)
    result: Snapshot = {}
    for name, cols in columns.items():
        rows = await repos.db.fetchall(f"SELECT {', '.join(cols)} FROM {name}")
        result[name] = (cols, sorted((tuple(r) for r in rows), key=repr))
    return result


def as_dicts(snap: Snapshot, table: str) -> list[dict[str, Any]]:
    cols, rows = snap[table]
    return [dict(zip(cols, row, strict=True)) for row in rows]


def keyed(snap: Snapshot, table: str, *key: str) -> dict[Any, dict[str, Any]]:
    out = {}
    for row in as_dicts(snap, table):
        k = tuple(row[c] for c in key)
        out[k[0] if len(k) == 1 else k] = row
    return out


# ------------------------------------------------------------------------------ the model


def sender_phone(raw: str) -> str:
    """What the server makes of ``From`` (``bot.runtime.web``): E.164, or the text as it is."""
    try:
        return normalize_phone(raw)
    except InvalidPhone:
        return raw


@dataclass
class Model:
    """What each handled command should have changed, replayed in the server's order."""

    world: World
    moment: datetime
    residents: dict[int, dict[str, Any]]
    resident_objs: dict[int, Resident]
    roles: dict[int, set[str]]
    polls: dict[int, Any]
    options: dict[int, list[Any]]
    hearings: dict[int, dict[str, Any]]
    invitations: dict[tuple[int, int], str]
    services: list[tuple[int, int, str]]  # (id, position, name)
    now: str = field(init=False)
    language: dict[int, str] = field(init=False)
    opted_out: dict[int, bool] = field(init=False)
    touched: set[int] = field(default_factory=set)
    problems: list[tuple[int | None, str, int]] = field(default_factory=list)
    ballots: dict[int, dict[int, int]] = field(default_factory=dict)
    rsvps: dict[tuple[int, int], str] = field(default_factory=dict)
    joins: set[tuple[int, int]] = field(default_factory=set)
    acts: list[tuple[int, int, str, str]] = field(default_factory=list)
    ratings: dict[tuple[int, int], int] = field(default_factory=dict)
    broadcasts: list[tuple[int, str, set[int]]] = field(default_factory=list)
    #: a staff member's BROADCAST awaiting their YES (any other command drops it)
    drafts: dict[int, str] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.now = iso(self.moment)
        self.language = {rid: r["language"] for rid, r in self.residents.items()}
        self.opted_out = {rid: bool(r["opted_out"]) for rid, r in self.residents.items()}

    def apply(self, rid: int, parsed: Parsed) -> None:
        name, args = parsed.name, parsed.args
        draft = self.drafts.pop(rid, None)
        if draft is not None and name == "yes" and not args:
            audience = {r for r, out in self.opted_out.items() if not out}
            self.broadcasts.append((rid, draft, audience))
            return
        if name == "lang":
            language = parse_language(args) if args else None
            if language:
                self.language[rid] = language
                self.touched.add(rid)
                self.counts["lang"] += 1
        elif name in ("stop", "start"):
            if self.opted_out[rid] != (name == "stop"):
                self.opted_out[rid] = name == "stop"
                self.touched.add(rid)
                self.counts[name] += 1
        elif name == "propose":
            body = " ".join(args.split())
            if body and len(body) <= problems.MAX_PROBLEM:
                self.problems.append((self.residents[rid]["village_id"], body, rid))
        elif name == "vote":
            self._vote(rid, args)
        elif name in ("yes", "no", "maybe"):
            ahead = [
                (invited_at, h)
                for (h, r), invited_at in self.invitations.items()
                if r == rid
                and self.hearings[h]["status"] == "published"
                and self.hearings[h]["starts_at"] > self.now
            ]
            if ahead:
                self._rsvp(rid, max(ahead)[1], name)
        elif name == "hearing":
            match = _NUMBERED.match(args.strip())
            answer = parse_answer(match[2]) if match else None
            if match and answer and int(match[1]) in self.hearings:
                hearing = self.hearings[int(match[1])]
                if hearing["status"] == "published" and hearing["starts_at"] > self.now:
                    self._rsvp(rid, hearing["id"], answer)
        elif name == "join":
            number = _number(args)
            if number in self.world.approved_problems:
                self.joins.add((number, rid))
        elif name == "act":
            parts = args.split(maxsplit=2)
            number = _number(parts[0]) if parts else None
            kind = parse_act_kind(parts[1]) if len(parts) > 1 else None
            text = " ".join(parts[2].split()) if len(parts) > 2 else ""
            if (
                number in self.world.projects
                and kind
                and "monitor" in self.roles[rid]
                and text
                and len(text) <= monitoring.MAX_ACT
            ):
                self.acts.append((number, rid, kind, text))
        elif name == "rate":
            parts = args.split()
            if len(parts) == 2:
                service = next(
                    (
                        sid
                        for sid, position, label in self.services
                        if parts[0] == str(position) or parts[0].casefold() == label.casefold()
                    ),
                    None,
                )
                score = parts[1]
                if service and score.isdecimal() and 1 <= int(score) <= 5:
                    self.ratings[service, rid] = int(score)
        elif name == "broadcast" and self.roles[rid] & roles.STAFF_ROLES and args:
            self.drafts[rid] = args

    def _vote(self, rid: int, args: str) -> None:
        resident = self.resident_objs[rid]
        now = self.moment
        try:
            ballot = parse_ballot_text(args)
        except BallotSyntaxError:
            return
        if ballot.poll_number is None:
            poll = self.polls[self.world.open_poll]
            if not eligible(poll, resident, now):
                return
        else:
            poll = self.polls.get(ballot.poll_number)
            if poll is None:
                return
        if poll_state(poll, now) != "open" or not eligible(poll, resident, now):
            return
        try:
            chosen = validate(poll, self.options[poll.id], ballot.entries)
        except Refused:
            return
        self.ballots[rid] = {option.id: weight for option, weight in chosen}

    def _rsvp(self, rid: int, hearing_id: int, answer: str) -> None:
        hearing = self.hearings[hearing_id]
        village = hearing["village_id"]
        if village is not None and village != self.residents[rid]["village_id"]:
            return
        self.rsvps[hearing_id, rid] = answer
        self.invitations.setdefault((hearing_id, rid), self.now)


# ------------------------------------------------------------------------------ the test


async def test_ten_thousand_random_sms_through_the_signed_webhook(
    web: Web, repos: Repos, demo: Municipality, clock: FakeClock
) -> None:
    world = await make_world(repos, demo, clock)
    messages = make_messages(world)
    assert len({m.sid for m in messages}) == len(messages)
    assert sum(m.malformed is None for m in messages) == MESSAGES + 4  # 2 broadcasts, each YES
    before = await snapshot(repos)

    started = time.perf_counter()
    answers = await send_all(web, messages)
    elapsed = time.perf_counter() - started
    print(f"\n{len(messages)} requests through the webhook in {elapsed:.1f} s"
          f" ({len(messages) / elapsed:.0f}/s, {CONCURRENCY} in flight)")  # fmt: skip

    # --- every answer: 200 with TwiML of at most two segments; 4xx only when meant
    failures: list[str] = []
    replies: dict[str, str] = {}
    for message in messages:
        status, content_type, text = answers[message.sid]
        where = f"{message.sid} from {message.sender!r}: {message.body[:80]!r}"
        if message.malformed:
            expected = 400 if message.malformed in ("no_sid", "no_from") else 403
            if status != expected:
                failures.append(f"{status} (wanted {expected}, {message.malformed}) {where}")
            continue
        if status != 200 or content_type != "application/xml":
            failures.append(f"{status} {content_type} {where}: {text[:200]!r}")
            continue
        try:
            reply = twiml_message(text)
        except ET.ParseError as exc:
            failures.append(f"bad TwiML ({exc}) {where}: {text[:200]!r}")
            continue
        if not reply:
            failures.append(f"empty reply {where}")
            continue
        size = sms_size(reply)
        if size.segments > 2:
            failures.append(f"{size.segments} segments ({size.encoding}) {where}: {reply!r}")
        replies[message.sid] = reply
    assert not failures, f"{len(failures)} bad answers, e.g.:\n" + "\n".join(failures[:15])

    after = await snapshot(repos)
    model = await check_changes(repos, world, messages, replies, before, after, clock)
    print(f"commands handled: {dict(model.counts.most_common())}")
    print(
        f"changes: {len(model.touched)} residents, {len(model.problems)} problems,"
        f" {len(model.ballots)} ballots, {len(model.rsvps)} answers, {len(model.joins)} joins,"
        f" {len(model.acts)} acts, {len(model.ratings)} ratings,"
        f" {len(model.broadcasts)} broadcasts"
    )

    # --- Twilio delivers 200 of them again: the same answer, and nothing changes
    rng = random.Random(SEED + 2)
    again = rng.sample([m for m in messages if m.malformed is None], REPLAYS)
    repeated = await send_all(web, again)
    for message in again:
        status, _, text = repeated[message.sid]
        assert status == 200, (message, text)
        assert text == answers[message.sid][2], message
    assert await snapshot(repos) == after


async def check_changes(
    repos: Repos,
    world: World,
    messages: list[Message],
    replies: dict[str, str],
    before: Snapshot,
    after: Snapshot,
    clock: FakeClock,
) -> Model:
    now = iso(clock.now())
    demo = world.demo
    assert before.keys() == after.keys()
    allowed = {
        "inbound", "residents", "problems", "problem_proposers", "turnout", "rsvps",
        "invitations", "initiative_members",
        "monitoring_acts", "ratings", "broadcasts", "broadcast_drafts", "outbox", "audit_log",
    }  # fmt: skip
    for table in sorted(before.keys() - allowed):
        assert after[table] == before[table], f"{table} changed"

    residents = keyed(before, "residents", "id")
    by_phone = {r["phone"]: rid for rid, r in residents.items()}
    roles: dict[int, set[str]] = {rid: set() for rid in residents}
    for row in as_dicts(before, "roles"):
        roles[row["resident_id"]].add(row["role"])
    sent = {m.sid: m for m in messages if m.malformed is None}

    # --- inbound: exactly one row per well-formed message, recording what was answered
    old_inbound = keyed(before, "inbound", "id")
    new_inbound = {k: v for k, v in keyed(after, "inbound", "id").items() if k not in old_inbound}
    assert all(keyed(after, "inbound", "id")[k] == v for k, v in old_inbound.items())
    assert sorted(r["provider_id"] for r in new_inbound.values()) == sorted(sent)
    order: list[tuple[int | None, Parsed]] = []
    for _, row in sorted(new_inbound.items()):
        message = sent[row["provider_id"]]
        parsed = parse(message.body)
        rid = by_phone.get(sender_phone(message.sender))
        assert (row["municipality_id"], row["channel"], row["received_at"]) == (demo.id, "sms", now)
        assert row["resident_id"] == rid, message
        assert row["command"] == (parsed.name or parsed.problem), message
        # what was answered, less what XML cannot carry (a control character echoed back)
        reply = await repos.inbound.reply_to(
            municipality_id=demo.id, channel="sms", provider_id=row["provider_id"]
        )
        assert reply is not None and NOT_XML.sub("", reply) == replies[message.sid], message
        order.append((rid, parsed))

    model = Model(
        world=world,
        moment=clock.now(),
        residents=residents,
        resident_objs={rid: await repos.residents.by_id(rid) for rid in set(by_phone.values())},
        roles=roles,
        polls={p: await repos.polls.get(demo.id, p) for p in (world.open_poll,
                                                               world.scheduled_poll)},
        options={p: await repos.polls.options(p) for p in (world.open_poll, world.scheduled_poll)},
        hearings=keyed(before, "hearings", "id"),
        invitations={
            (r["hearing_id"], r["resident_id"]): r["invited_at"]
            for r in as_dicts(before, "invitations")
        },
        services=[  # the open round's (the demo's own round of 2015 is closed)
            (r["id"], r["position"], r["name"])
            for r in as_dicts(before, "rating_services")
            if r["round_id"] == max(x["round_id"] for x in as_dicts(before, "rating_services"))
        ],
    )  # fmt: skip
    for rid, parsed in order:
        model.counts[parsed.name or parsed.problem or "?"] += 1
        if rid is not None and parsed.name is not None:
            model.apply(rid, parsed)
        elif rid is not None:
            model.drafts.pop(rid, None)  # a text the bot does not know drops a draft too

    # --- residents: only language / opted_out (and updated_at) of those who asked
    after_residents = keyed(after, "residents", "id")
    assert after_residents.keys() == residents.keys()
    for rid, old in residents.items():
        new = after_residents[rid]
        fixed = {k for k in old if k not in ("language", "opted_out", "updated_at")}
        assert {k: new[k] for k in fixed} == {k: old[k] for k in fixed}, rid
        assert new["language"] == model.language[rid], rid
        assert bool(new["opted_out"]) == model.opted_out[rid], rid
        if new["updated_at"] != old["updated_at"]:
            assert rid in model.touched and new["updated_at"] == now, rid

    # --- problems proposed, in the order handled, each with its proposer
    old_problems = keyed(before, "problems", "id")
    after_problems = keyed(after, "problems", "id")
    assert all(after_problems[k] == v for k, v in old_problems.items())
    created = [after_problems[k] for k in sorted(after_problems.keys() - old_problems.keys())]
    assert [(p["village_id"], p["body"]) for p in created] == [
        (village, body) for village, body, _ in model.problems
    ]
    for p in created:
        assert (p["municipality_id"], p["status"], p["reason"], p["merged_into"]) == (
            demo.id, "pending", None, None,
        )  # fmt: skip
        assert (p["created_at"], p["decided_at"]) == (now, None)
    proposers = set(after["problem_proposers"][1]) - set(before["problem_proposers"][1])
    assert set(before["problem_proposers"][1]) <= set(after["problem_proposers"][1])
    assert proposers == {
        (p["id"], rid) for p, (_, _, rid) in zip(created, model.problems, strict=True)
    }

    # --- votes: turnout, each row with its voter's ballot sealed into it
    poll = world.open_poll
    assert {row[:4] for row in after["turnout"][1]} == {row[:4] for row in before["turnout"][1]} | {
        (poll, rid, "sms", now) for rid in model.ballots
    }
    expected_ballots = {}
    for rid, choices in model.ballots.items():
        resident = model.resident_objs[rid]
        demography = (resident.village_id, resident.gender,
                      age_group(resident.birth_year, clock.now().year))  # fmt: skip
        expected_ballots[rid] = ("sms", StoredBallot(*demography, choices))
    assert {
        rid: await repos.polls.own_ballot(poll, rid) for rid in model.ballots
    } == expected_ballots

    # --- hearing answers, and the invitation an answer implies
    old_rsvps = keyed(before, "rsvps", "hearing_id", "resident_id")
    rsvps = keyed(after, "rsvps", "hearing_id", "resident_id")
    assert {k: r["answer"] for k, r in rsvps.items()} == {
        **{k: r["answer"] for k, r in old_rsvps.items()},
        **model.rsvps,
    }
    for k, r in rsvps.items():
        if k in old_rsvps:
            assert r["code"] == old_rsvps[k]["code"]
        else:
            assert r["code"] and r["answered_at"] == now
    assert {
        (r["hearing_id"], r["resident_id"]): r["invited_at"] for r in as_dicts(after, "invitations")
    } == model.invitations

    # --- initiative groups, monitoring acts, ratings
    assert set(after["initiative_members"][1]) == set(before["initiative_members"][1]) | {
        (problem, rid, now) for problem, rid in model.joins
    }
    old_acts = keyed(before, "monitoring_acts", "id")
    acts = keyed(after, "monitoring_acts", "id")
    assert all(acts[k] == v for k, v in old_acts.items())
    assert [
        (a["municipality_id"], a["project_id"], a["author_id"], a["kind"], a["body"],
         a["created_at"])
        for k, a in sorted(acts.items()) if k not in old_acts
    ] == [(demo.id, *act, now) for act in model.acts]  # fmt: skip
    old_ratings = keyed(before, "ratings", "service_id", "resident_id")
    new_ratings = keyed(after, "ratings", "service_id", "resident_id")
    assert {k: r["score"] for k, r in new_ratings.items()} == {
        **{k: r["score"] for k, r in old_ratings.items()},
        **model.ratings,
    }
    for k, r in new_ratings.items():
        if k in model.ratings:
            assert (r["village_id"], r["rated_at"]) == (residents[k[1]]["village_id"], now)
        else:
            assert r == old_ratings[k]

    # --- broadcasts by staff, and the outbox rows they queued (nothing else is queued)
    old_broadcasts = keyed(before, "broadcasts", "id")
    broadcasts = keyed(after, "broadcasts", "id")
    assert all(broadcasts[k] == v for k, v in old_broadcasts.items())
    new_broadcasts = [broadcasts[k] for k in sorted(broadcasts.keys() - old_broadcasts.keys())]
    assert [(b["author_id"], b["body"], b["recipients"]) for b in new_broadcasts] == [
        (author, body, len(audience)) for author, body, audience in model.broadcasts
    ]
    old_outbox = keyed(before, "outbox", "id")
    outbox = keyed(after, "outbox", "id")
    assert all(outbox[k] == v for k, v in old_outbox.items())
    queued: dict[int, set[int]] = {b["id"]: set() for b in new_broadcasts}
    for k in outbox.keys() - old_outbox.keys():
        row = outbox[k]
        assert row["broadcast_id"] in queued, row
        assert (row["status"], row["channel"]) == ("queued", "sms"), row
        assert row["address"] == residents[row["resident_id"]]["phone"]
        queued[row["broadcast_id"]].add(row["resident_id"])
    assert [queued[b["id"]] for b in new_broadcasts] == [a for _, _, a in model.broadcasts]
    assert len(new_broadcasts) == 2, "both staff broadcasts went out"
    # --- the audit trail: the broadcasts, each by its staff member by SMS, nothing else
    old_audit = keyed(before, "audit_log", "id")
    audit_rows = keyed(after, "audit_log", "id")
    assert all(audit_rows[k] == v for k, v in old_audit.items())
    new_audit = [audit_rows[k] for k in sorted(audit_rows.keys() - old_audit.keys())]
    assert [(a["actor_id"], a["via"], a["action"], a["object_id"]) for a in new_audit] == [
        (b["author_id"], "sms", "broadcast", b["id"]) for b in new_broadcasts
    ]
    return model
