"""Polls, their options, who voted (turnout) and the sealed ballots."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence

from storage.broadcasts import Recipient
from storage.db import Database, Row
from storage.models import Poll, PollOption, StoredBallot, Texts, TurnoutEntry
from storage.sealing import SealBroken, Sealer

#: the sealing purpose of ballots (storage/sealing.py)
BALLOT = "ballot"

_COLUMNS = (
    "id, municipality_id, title, ballot_type, max_choices, village_id, min_age, opens_at,"
    " closes_at, budget, rule, changeable, results_published, completion, satisfaction,"
    " threshold, ties, title_ky, title_ru, title_en"
)


def _poll(row: Row) -> Poll:
    values = list(row)[:17]
    values[2] = Texts.of(row[2], row[17:20])
    values[11], values[12] = bool(values[11]), bool(values[12])
    values[16] = tuple(values[16].split(","))
    return Poll(*values)


def _own(poll_id: int, resident_id: int) -> str:
    """What a phone ballot is bound to: its voter's turnout row."""
    return f"turnout:{poll_id}:{resident_id}"


def _box(poll_id: int) -> str:
    return f"box:{poll_id}"


def _ballot_bytes(ballot: StoredBallot) -> bytes:
    return json.dumps(
        {
            "v": ballot.village_id,
            "g": ballot.gender,
            "a": ballot.age_group,
            "c": sorted(ballot.choices.items()),
        },
        separators=(",", ":"),
    ).encode()


def _ballot_of(data: bytes) -> StoredBallot:
    raw = json.loads(data)
    return StoredBallot(raw["v"], raw["g"], raw["a"], {int(o): int(w) for o, w in raw["c"]})


def _canonical(ballot: StoredBallot) -> tuple[object, ...]:
    return (
        ballot.village_id or 0,
        ballot.gender or "",
        ballot.age_group or "",
        sorted(ballot.choices.items()),
    )


class PollRepo:
    """Polls and their ballots. A ballot is sealed (storage/sealing.py) into its voter's
    own turnout row: no plaintext ballot row exists whose order (SQLite rowid, PostgreSQL
    heap order or ``xmin``) could be matched with turnout; see :mod:`bot.core.services.voting`."""

    def __init__(self, db: Database, sealer: Sealer | None = None) -> None:
        self.db = db
        self._sealer = sealer

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
        ties: Sequence[str] = ("cost", "id"),
    ) -> int:
        return await self.db.insert(
            "INSERT INTO polls (municipality_id, title, ballot_type, max_choices, village_id,"
            " min_age, opens_at, closes_at, budget, rule, changeable, created_at, completion,"
            " satisfaction, threshold, ties, title_ky, title_ru, title_en)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
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
                ",".join(ties),
                *Texts.stored(title),
            ),
        )

    async def add_options(
        self, poll_id: int, options: Sequence[tuple[str, int | None, int | None]]
    ) -> None:
        """Options ``(label, problem_id, cost)`` numbered 1.. in the given order."""
        await self.db.insert_many(
            "poll_options (poll_id, position, label, problem_id, cost, label_ky, label_ru,"
            " label_en)",
            [
                (poll_id, n, *option, *Texts.stored(option[0]))
                for n, option in enumerate(options, start=1)
            ],
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

    async def set_times(self, poll_id: int, *, opens_at: str, closes_at: str) -> None:
        """Open now or close early (the staff console)."""
        await self.db.execute(
            "UPDATE polls SET opens_at = ?, closes_at = ? WHERE id = ?",
            (opens_at, closes_at, poll_id),
        )

    async def mark_results_published(self, poll_id: int) -> None:
        await self.db.execute("UPDATE polls SET results_published = TRUE WHERE id = ?", (poll_id,))

    async def options(self, poll_id: int) -> list[PollOption]:
        rows = await self.db.fetchall(
            f"SELECT id, poll_id, position, problem_id, cost, {Texts.columns('label')}"
            " FROM poll_options WHERE poll_id = ? ORDER BY position",
            (poll_id,),
        )
        return [PollOption(r[0], r[1], r[2], Texts.read(r, 5), r[3], r[4]) for r in rows]

    async def turnout_channel(self, poll_id: int, resident_id: int) -> str | None:
        return await self.db.fetchval(
            "SELECT channel FROM turnout WHERE poll_id = ? AND resident_id = ?",
            (poll_id, resident_id),
        )

    async def record_vote(
        self,
        poll_id: int,
        resident_id: int,
        channel: str,
        ballot: StoredBallot | None,
        *,
        now: str,
        replace: bool = False,
    ) -> None:
        """The resident voted: their turnout row, with their ballot sealed into it.
        ``replace``: they had voted, and the sealed value is replaced in place. Otherwise
        the row is new: a second one made meanwhile by the same resident in the same
        transaction (two ballots at once in one group commit) fails, and the work is
        then done again one at a time. ``None`` for a paper vote, whose ballot goes into
        the box unlinked (:meth:`add_box_ballots`)."""
        sealed = None if ballot is None else self._seal(_own(poll_id, resident_id), ballot)
        if replace:
            await self.db.execute(
                "UPDATE turnout SET channel = ?, cast_at = ?, ballot = ?"
                " WHERE poll_id = ? AND resident_id = ?",
                (channel, now, sealed, poll_id, resident_id),
            )
            return
        await self.db.execute(
            "INSERT INTO turnout (poll_id, resident_id, channel, cast_at, ballot)"
            " VALUES (?, ?, ?, ?, ?)",
            (poll_id, resident_id, channel, now, sealed),
        )

    async def add_box_ballots(self, poll_id: int, ballots: Sequence[StoredBallot]) -> None:
        """Ballots linked to nobody (paper ballots from the box, an imported election),
        sealed and stored in random order."""
        shuffled = list(ballots)
        random.SystemRandom().shuffle(shuffled)
        await self.db.insert_many(
            "box_ballots (poll_id, ballot)",
            [(poll_id, self._seal(_box(poll_id), ballot)) for ballot in shuffled],
        )

    async def ballots(self, poll_id: int) -> list[StoredBallot]:
        """Every ballot of the poll, opened, in a canonical order that tells nothing of
        who cast which or when (needs the ballot key)."""
        rows = await self.db.fetchall(
            "SELECT resident_id, ballot FROM turnout WHERE poll_id = ? AND ballot IS NOT NULL",
            (poll_id,),
        )
        opened = [self._open(_own(poll_id, resident_id), value) for resident_id, value in rows]
        boxed = await self.db.fetchall(
            "SELECT ballot FROM box_ballots WHERE poll_id = ?", (poll_id,)
        )
        opened += [self._open(_box(poll_id), value) for (value,) in boxed]
        return sorted(opened, key=_canonical)

    async def own_ballot(
        self, poll_id: int, resident_id: int
    ) -> tuple[str, StoredBallot | None] | None:
        """How the resident voted (channel) and their ballot, opened (None for paper: it
        is in the box, linked to nobody); None if they have not voted."""
        row = await self.db.fetchone(
            "SELECT channel, ballot FROM turnout WHERE poll_id = ? AND resident_id = ?",
            (poll_id, resident_id),
        )
        if row is None:
            return None
        channel, value = row
        return channel, None if value is None else self._open(_own(poll_id, resident_id), value)

    async def box_count(self, poll_id: int) -> int:
        return int(
            await self.db.fetchval("SELECT COUNT(*) FROM box_ballots WHERE poll_id = ?", (poll_id,))
        )

    async def paper_turnout_count(self, poll_id: int) -> int:
        return int(
            await self.db.fetchval(
                "SELECT COUNT(*) FROM turnout WHERE poll_id = ? AND channel = 'paper'", (poll_id,)
            )
        )

    @property
    def sealing(self) -> bool:
        """Ballots can be sealed and opened (the ballot key is set)."""
        return self._sealer is not None

    def _seal(self, bound_to: str, ballot: StoredBallot) -> str:
        if self._sealer is None:
            raise SealBroken("no ballot key")
        return self._sealer.seal(BALLOT, _ballot_bytes(ballot), bound_to=bound_to)

    def _open(self, bound_to: str, value: str) -> StoredBallot:
        if self._sealer is None:
            raise SealBroken("no ballot key")
        return _ballot_of(self._sealer.open(BALLOT, value, bound_to=bound_to))

    # --- ballots of before sealing (migration 0013): read once to seal them -------------

    async def legacy_key(self) -> str | None:
        """The ballot key migration 0012 stored in the database, if still there."""
        value = await self.db.fetchval("SELECT value FROM secrets WHERE name = 'ballot-key'")
        return None if value is None else str(value)

    async def legacy_ballots(self) -> list[tuple[int, str, StoredBallot]]:
        """``(poll id, voter key, ballot)`` of every ballot stored unsealed."""
        rows = await self.db.fetchall(
            "SELECT b.id, b.poll_id, b.voter_key, b.village_id, b.gender, b.age_group,"
            " c.option_id, c.weight FROM ballots b JOIN ballot_choices c ON c.ballot_id = b.id"
            " ORDER BY b.id"
        )
        found: dict[int, tuple[int, str, StoredBallot]] = {}
        for ballot_id, poll_id, voter_key, village_id, gender, age, option_id, weight in rows:
            if ballot_id not in found:
                found[ballot_id] = (poll_id, voter_key, StoredBallot(village_id, gender, age, {}))
            found[ballot_id][2].choices[option_id] = weight
        return list(found.values())

    async def turnout_of(self, poll_id: int) -> list[TurnoutEntry]:
        """Everyone who voted in the poll: how and when."""
        rows = await self.db.fetchall(
            "SELECT resident_id, channel, cast_at FROM turnout WHERE poll_id = ?", (poll_id,)
        )
        return [TurnoutEntry(*row) for row in rows]

    async def drop_legacy(self) -> None:
        """Delete the unsealed ballots and the stored key (all sealed by now)."""
        await self.db.execute("DELETE FROM ballot_choices")
        await self.db.execute("DELETE FROM ballots")
        await self.db.execute("DELETE FROM secrets WHERE name = 'ballot-key'")

    async def compact(self) -> None:
        """Rewrite the files of the tables :meth:`drop_legacy` emptied, so that deleted
        plaintext does not linger in free pages (outside any transaction)."""
        if self.db.dialect.name == "sqlite":
            await self.db.execute("VACUUM")
            await self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # and out of the WAL
        else:
            await self.db.execute("VACUUM FULL ballots, ballot_choices, secrets")

    async def turnout_count(self, poll_id: int) -> int:
        return int(
            await self.db.fetchval("SELECT COUNT(*) FROM turnout WHERE poll_id = ?", (poll_id,))
        )

    async def eligible_count(self, poll: Poll, *, born_before_or_in: int) -> int:
        return int(
            await self.db.fetchval(
                "SELECT COUNT(*) FROM residents WHERE municipality_id = ?"
                " AND (CAST(? AS BIGINT) IS NULL OR village_id = ?) AND birth_year IS NOT NULL"
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
    ) -> list[Recipient]:
        """Opted-in eligible residents, page by page (for announcements and reminders)."""
        rows = await self.db.fetchall(
            "SELECT id, phone, telegram_user_id, telegram_blocked, language FROM residents r"
            " WHERE municipality_id = ? AND opted_out = FALSE AND id > ?"
            " AND (CAST(? AS BIGINT) IS NULL OR village_id = ?)"
            " AND birth_year IS NOT NULL AND birth_year <= ?"
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
        return [Recipient(row[0], row[1], row[2], bool(row[3]), row[4]) for row in rows]
