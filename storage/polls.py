"""Polls, their options, who voted (turnout) and the anonymous ballots."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

from storage.db import Database, Row
from storage.models import Poll, PollOption, StoredBallot

_COLUMNS = (
    "id, municipality_id, title, ballot_type, max_choices, village_id, min_age, opens_at,"
    " closes_at, budget, rule, changeable, results_published, completion, satisfaction,"
    " threshold"
)


def _poll(row: Row) -> Poll:
    values = list(row)
    values[11], values[12] = bool(values[11]), bool(values[12])
    return Poll(*values)


class PollRepo:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._secrets: dict[str, str] = {}

    async def create(
        self,
        *,
        municipality_id: int,
        title: str,
        ballot_type: str,
        max_choices: int,
        village_id: int | None,
        min_age: int,
        opens_at: str,
        closes_at: str,
        budget: int | None,
        rule: str,
        changeable: bool,
        now: str,
        completion: str = "add1",
        satisfaction: str = "cost",
        threshold: int = 0,
    ) -> int:
        return await self.db.execute(
            "INSERT INTO polls (municipality_id, title, ballot_type, max_choices, village_id,"
            " min_age, opens_at, closes_at, budget, rule, changeable, created_at, completion,"
            " satisfaction, threshold) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                municipality_id,
                title,
                ballot_type,
                max_choices,
                village_id,
                min_age,
                opens_at,
                closes_at,
                budget,
                rule,
                changeable,
                now,
                completion,
                satisfaction,
                threshold,
            ),
        )

    async def add_options(
        self, poll_id: int, options: Sequence[tuple[str, int | None, int | None]]
    ) -> None:
        """Options ``(label, problem_id, cost)`` numbered 1.. in the given order."""
        await self.db.executemany(
            "INSERT INTO poll_options (poll_id, position, label, problem_id, cost)"
            " VALUES (?, ?, ?, ?, ?)",
            [(poll_id, n, *option) for n, option in enumerate(options, start=1)],
        )

    async def get(self, municipality_id: int, poll_id: int) -> Poll | None:
        row = await self.db.fetchone(
            f"SELECT {_COLUMNS} FROM polls WHERE municipality_id = ? AND id = ?",
            (municipality_id, poll_id),
        )
        return None if row is None else _poll(row)

    async def open_at(self, municipality_id: int, now: str) -> list[Poll]:
        rows = await self.db.fetchall(
            f"SELECT {_COLUMNS} FROM polls WHERE municipality_id = ? AND opens_at <= ?"
            " AND closes_at > ? ORDER BY id",
            (municipality_id, now, now),
        )
        return [_poll(row) for row in rows]

    async def all(self, municipality_id: int) -> list[Poll]:
        rows = await self.db.fetchall(
            f"SELECT {_COLUMNS} FROM polls WHERE municipality_id = ? ORDER BY id",
            (municipality_id,),
        )
        return [_poll(row) for row in rows]

    async def needing_jobs(self, now: str) -> list[Poll]:
        """Polls still open or ahead, or closed with results not yet published (all
        municipalities): the scheduler derives its jobs from them."""
        rows = await self.db.fetchall(
            f"SELECT {_COLUMNS} FROM polls WHERE closes_at > ? OR results_published = FALSE"
            " ORDER BY id",
            (now,),
        )
        return [_poll(row) for row in rows]

    async def mark_results_published(self, poll_id: int) -> None:
        await self.db.execute("UPDATE polls SET results_published = TRUE WHERE id = ?", (poll_id,))

    async def options(self, poll_id: int) -> list[PollOption]:
        rows = await self.db.fetchall(
            "SELECT id, poll_id, position, label, problem_id, cost FROM poll_options"
            " WHERE poll_id = ? ORDER BY position",
            (poll_id,),
        )
        return [PollOption(*row) for row in rows]

    async def turnout_channel(self, poll_id: int, resident_id: int) -> str | None:
        return await self.db.fetchval(
            "SELECT channel FROM turnout WHERE poll_id = ? AND resident_id = ?",
            (poll_id, resident_id),
        )

    async def record_turnout(
        self, poll_id: int, resident_id: int, channel: str, *, now: str
    ) -> None:
        await self.db.execute(
            "INSERT INTO turnout (poll_id, resident_id, channel, cast_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (poll_id, resident_id) DO UPDATE SET cast_at = excluded.cast_at",
            (poll_id, resident_id, channel, now),
        )

    async def replace_ballot(
        self,
        poll_id: int,
        voter_key: str,
        *,
        village_id: int | None,
        gender: str | None,
        age_group: str | None,
        choices: dict[int, int],
    ) -> None:
        """Store a ballot, replacing the voter's previous one (the last ballot counts)."""
        await self.db.execute(
            "DELETE FROM ballots WHERE poll_id = ? AND voter_key = ?", (poll_id, voter_key)
        )
        ballot_id = await self.db.execute(
            "INSERT INTO ballots (poll_id, voter_key, village_id, gender, age_group)"
            " VALUES (?, ?, ?, ?, ?)",
            (poll_id, voter_key, village_id, gender, age_group),
        )
        await self.db.executemany(
            "INSERT INTO ballot_choices (ballot_id, option_id, weight) VALUES (?, ?, ?)",
            [(ballot_id, option_id, weight) for option_id, weight in choices.items()],
        )

    async def ballots(self, poll_id: int) -> list[StoredBallot]:
        rows = await self.db.fetchall(
            "SELECT b.id, b.village_id, b.gender, b.age_group, c.option_id, c.weight"
            " FROM ballots b JOIN ballot_choices c ON c.ballot_id = b.id"
            " WHERE b.poll_id = ? ORDER BY b.id",
            (poll_id,),
        )
        grouped: dict[int, StoredBallot] = {}
        choices: dict[int, dict[int, int]] = defaultdict(dict)
        for ballot_id, village_id, gender, age_group, option_id, weight in rows:
            if ballot_id not in grouped:
                grouped[ballot_id] = StoredBallot(village_id, gender, age_group, choices[ballot_id])
            choices[ballot_id][option_id] = weight
        return list(grouped.values())

    async def turnout_count(self, poll_id: int) -> int:
        return int(
            await self.db.fetchval("SELECT COUNT(*) FROM turnout WHERE poll_id = ?", (poll_id,))
        )

    async def eligible_count(self, poll: Poll, *, born_before_or_in: int) -> int:
        return int(
            await self.db.fetchval(
                "SELECT COUNT(*) FROM residents WHERE municipality_id = ?"
                " AND (? IS NULL OR village_id = ?) AND birth_year IS NOT NULL"
                " AND birth_year <= ?",
                (poll.municipality_id, poll.village_id, poll.village_id, born_before_or_in),
            )
        )

    async def electorate_page(
        self,
        poll: Poll,
        *,
        born_before_or_in: int,
        after_id: int,
        limit: int,
        not_voted: bool = False,
    ) -> list[Row]:
        """Opted-in eligible residents, page by page (for announcements and reminders)."""
        return await self.db.fetchall(
            "SELECT id, phone, telegram_user_id, telegram_blocked, language FROM residents r"
            " WHERE municipality_id = ? AND opted_out = FALSE AND id > ?"
            " AND (? IS NULL OR village_id = ?) AND birth_year IS NOT NULL AND birth_year <= ?"
            " AND (? = FALSE OR NOT EXISTS"
            "  (SELECT 1 FROM turnout t WHERE t.poll_id = ? AND t.resident_id = r.id))"
            " ORDER BY id LIMIT ?",
            (
                poll.municipality_id,
                after_id,
                poll.village_id,
                poll.village_id,
                born_before_or_in,
                not_voted,
                poll.id,
                limit,
            ),
        )

    async def secret(self, name: str, make: Callable[[], str]) -> str:
        """A stored deployment secret, created with ``make()`` if missing. One that was
        there already (the migrations make the ballot key) was committed and never
        changes: it is kept once read. One made here may yet be rolled back with the
        caller's transaction: it is read again next time."""
        known = self._secrets.get(name)
        if known is not None:
            return known
        stored = await self.db.fetchval("SELECT value FROM secrets WHERE name = ?", (name,))
        if stored is not None:
            self._secrets[name] = str(stored)
            return str(stored)
        await self.db.execute(
            "INSERT INTO secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
            (name, make()),
        )
        return str(await self.db.fetchval("SELECT value FROM secrets WHERE name = ?", (name,)))
