"""The Telegram FSM storage in the database (bot/channels/telegram/fsm_storage.py over
storage/fsm.py), on every backend: state and data per key, keys kept apart, clearing, JSON
only, the caller's transaction, another connection (a restart, another process), and the cleanup."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import StorageKey

from bot.channels.telegram.fsm_storage import DatabaseStorage, forget_stale
from bot.core.clock import iso
from handlers.telegram.hearing_form import HearingForm
from storage.db import connect
from storage.models import Municipality
from storage.repos import Repos
from tests.conftest import FakeClock

KEY = StorageKey(bot_id=123456, chat_id=6_000_001, user_id=6_000_001)
#: each differs from KEY in one part of aiogram's key
OTHER_KEYS = [
    replace(KEY, bot_id=654321),
    replace(KEY, chat_id=-1001234567890),
    replace(KEY, user_id=6_000_002),
    replace(KEY, thread_id=5),
    replace(KEY, business_connection_id="bc-1"),
    replace(KEY, destiny="other"),
]
DRAFT = {
    "ballots": {"12": [[3, None], [1, 2]]},
    "hearing_form": {"kind": "formation", "date": "2026-12-04", "village": None},
    "act_form": {"project": 3, "text": ["Бетон сапатсыз"], "photos": [], "group": None},
    "ratings": {"7": 4},
}


async def add_municipality(repos: Repos, clock: FakeClock, slug: str) -> Municipality:
    number = await repos.municipalities.create(
        slug=slug, name=slug.title(), default_language="ky", now=iso(clock.now())
    )
    found = await repos.municipalities.by_id(number)
    assert found is not None
    return found


def storage_of(repos: Repos, municipality: Municipality, clock: FakeClock) -> DatabaseStorage:
    async def serves() -> Municipality:
        return municipality

    return DatabaseStorage(repos.fsm, serves, clock)


@pytest.fixture
async def municipality(repos: Repos, clock: FakeClock) -> Municipality:
    return await add_municipality(repos, clock, "ak-chiy")


@pytest.fixture
def storage(repos: Repos, municipality: Municipality, clock: FakeClock) -> DatabaseStorage:
    return storage_of(repos, municipality, clock)


async def test_state_and_data_round_trip(storage: DatabaseStorage) -> None:
    assert await storage.get_state(KEY) is None
    assert await storage.get_data(KEY) == {}

    await storage.set_state(KEY, HearingForm.place)
    await storage.set_data(KEY, DRAFT)
    assert await storage.get_state(KEY) == "HearingForm:place"
    assert await storage.get_data(KEY) == DRAFT

    # As the handlers use it; what they get is theirs to change.
    state = FSMContext(storage, KEY)
    got = await state.get_data()
    got["ballots"]["12"].append([5, None])
    assert await state.get_data() == DRAFT
    assert await state.update_data(ratings={"7": 5}) == {**DRAFT, "ratings": {"7": 5}}
    await state.set_state("HearingForm:agenda")
    assert await state.get_state() == "HearingForm:agenda"
    assert (await state.get_data())["hearing_form"] == DRAFT["hearing_form"]


async def test_keys_do_not_collide(storage: DatabaseStorage) -> None:
    keys = [KEY, *OTHER_KEYS]
    for n, key in enumerate(keys):
        await storage.set_state(key, f"Form:step{n}")
        await storage.set_data(key, {"n": n})
    for n, key in enumerate(keys):
        assert await storage.get_state(key) == f"Form:step{n}", key
        assert await storage.get_data(key) == {"n": n}, key


async def test_the_same_key_in_another_municipality_is_another_row(
    repos: Repos, storage: DatabaseStorage, clock: FakeClock
) -> None:
    other = storage_of(repos, await add_municipality(repos, clock, "kara-suu"), clock)
    await storage.set_state(KEY, "HearingForm:date")
    await storage.set_data(KEY, {"hearing_form": {"kind": "formation"}})
    assert await other.get_state(KEY) is None
    assert await other.get_data(KEY) == {}

    await other.set_data(KEY, {"ratings": {"1": 2}})
    assert await storage.get_data(KEY) == {"hearing_form": {"kind": "formation"}}


async def test_clearing_forgets_state_and_data(storage: DatabaseStorage) -> None:
    state = FSMContext(storage, KEY)
    await state.set_state(HearingForm.kind)
    await state.set_data(DRAFT)
    await state.set_state(None)  # the state alone
    assert await state.get_state() is None
    assert await state.get_data() == DRAFT

    await state.set_state(HearingForm.kind)
    await state.clear()
    assert await state.get_state() is None
    assert await state.get_data() == {}


@pytest.mark.parametrize(
    "data",
    [
        {"ballots": {"12": [(3, None)]}},  # a tuple would come back a list
        {"ratings": {7: 4}},  # an int key would come back a str
        {"photos": {"a", "b"}},  # a set is not JSON at all
        {"score": float("nan")},
    ],
    ids=["tuple", "int-key", "set", "nan"],
)
async def test_data_json_would_change_is_refused_and_nothing_is_written(
    storage: DatabaseStorage, data: dict
) -> None:
    await storage.set_data(KEY, DRAFT)
    with pytest.raises((ValueError, TypeError)):
        await storage.set_data(KEY, data)
    assert await storage.get_data(KEY) == DRAFT


async def test_another_connection_sees_the_state(
    db_url: str, storage: DatabaseStorage, municipality: Municipality, clock: FakeClock
) -> None:
    """A restarted process, or another process on the same database."""
    await storage.set_state(KEY, HearingForm.time)
    await storage.set_data(KEY, DRAFT)
    async with connect(db_url) as db:
        again = storage_of(Repos(db), municipality, clock)
        assert await again.get_state(KEY) == "HearingForm:time"
        assert await again.get_data(KEY) == DRAFT
        await again.update_data(KEY, {"ratings": {}})
    assert (await storage.get_data(KEY))["ratings"] == {}


async def test_inside_a_transaction_it_joins_it(repos: Repos, storage: DatabaseStorage) -> None:
    """A handler may hold a transaction: the storage's statements join it (waiting for it
    to end would never end) and roll back with it."""

    async def in_a_failed_transaction() -> None:
        async with repos.db.transaction():
            await storage.set_state(KEY, "ActForm:content")
            await storage.update_data(KEY, {"act_form": {"project": 3}})
            assert await storage.get_state(KEY) == "ActForm:content"
            raise RuntimeError("the handler failed")

    with pytest.raises(RuntimeError, match="handler failed"):
        await asyncio.wait_for(in_a_failed_transaction(), timeout=10)
    assert await storage.get_state(KEY) is None
    assert await storage.get_data(KEY) == {}


async def test_rows_untouched_for_days_are_deleted(
    repos: Repos, storage: DatabaseStorage, municipality: Municipality, clock: FakeClock
) -> None:
    elsewhere = await add_municipality(repos, clock, "kara-suu")
    other = storage_of(repos, elsewhere, clock)
    stale, touched, fresh = KEY, OTHER_KEYS[1], OTHER_KEYS[2]
    for key in (stale, touched):
        await storage.set_state(key, "HearingForm:place")
    await other.set_state(stale, "HearingForm:place")  # another bot's municipality
    clock.advance(days=20)
    await storage.update_data(touched, {"hearing_form": {"place": "Club"}})
    await storage.set_data(fresh, DRAFT)
    clock.advance(days=11)

    assert await forget_stale(repos.fsm, municipality, clock, days=30) == 1
    assert await storage.get_state(stale) is None
    assert await storage.get_state(touched) == "HearingForm:place"
    assert await storage.get_data(fresh) == DRAFT
    assert await other.get_state(stale) == "HearingForm:place"
    assert await forget_stale(repos.fsm, municipality, clock, days=30) == 0
