"""Residents of the register: lookup by phone, profile, preferences."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from storage.db import Database, Row
from storage.models import Resident, ResidentCard, Texts

_COLUMNS = (
    "id, municipality_id, phone, name, gender, birth_year, village_id, household_id,"
    " language, opted_out, telegram_user_id, telegram_blocked"
)

#: the columns an import may set, in the order of :meth:`ResidentRepo.insert_many` rows
IMPORT_FIELDS = ("phone", "name", "gender", "birth_year", "village_id", "household_id")


def _resident(row: Row) -> Resident:
    values = dict(row)
    values["opted_out"] = bool(values["opted_out"])
    values["telegram_blocked"] = bool(values["telegram_blocked"])
    return Resident(**values)


class ResidentRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def by_phone(self, municipality_id: int, phone: str) -> Resident | None:
        row = await self.db.fetchone(
            f"SELECT {_COLUMNS} FROM residents WHERE municipality_id = ? AND phone = ?",
            (municipality_id, phone),
        )
        return None if row is None else _resident(row)

    async def by_id(self, resident_id: int) -> Resident | None:
        row = await self.db.fetchone(
            f"SELECT {_COLUMNS} FROM residents WHERE id = ?", (resident_id,)
        )
        return None if row is None else _resident(row)

    async def by_phones(self, municipality_id: int) -> dict[str, Resident]:
        """All residents of a municipality keyed by phone (used by imports)."""
        rows = await self.db.fetchall(
            f"SELECT {_COLUMNS} FROM residents WHERE municipality_id = ?", (municipality_id,)
        )
        return {row["phone"]: _resident(row) for row in rows}

    async def insert_many(
        self, municipality_id: int, rows: Iterable[tuple[Any, ...]], *, now: str
    ) -> None:
        """Insert rows of :data:`IMPORT_FIELDS` followed by the language."""
        await self.db.insert_many(
            "residents (municipality_id, phone, name, gender, birth_year,"
            " village_id, household_id, language, created_at, updated_at)",
            [(municipality_id, *row, now, now) for row in rows],
        )

    async def update_many(
        self, municipality_id: int, rows: Iterable[tuple[Any, ...]], *, now: str
    ) -> None:
        """Update rows of :data:`IMPORT_FIELDS` in place, found by phone."""
        await self.db.executemany(
            "UPDATE residents SET name = ?, gender = ?, birth_year = ?, village_id = ?,"
            " household_id = ?, updated_at = ? WHERE municipality_id = ? AND phone = ?",
            [(*row[1:], now, municipality_id, row[0]) for row in rows],
        )

    async def set_language(self, resident_id: int, language: str, *, now: str) -> None:
        await self.db.execute(
            "UPDATE residents SET language = ?, updated_at = ? WHERE id = ?",
            (language, now, resident_id),
        )

    async def set_opted_out(self, resident_id: int, opted_out: bool, *, now: str) -> None:
        await self.db.execute(
            "UPDATE residents SET opted_out = ?, updated_at = ? WHERE id = ?",
            (opted_out, now, resident_id),
        )

    async def set_telegram_blocked(self, resident_id: int, blocked: bool, *, now: str) -> None:
        await self.db.execute(
            "UPDATE residents SET telegram_blocked = ?, updated_at = ? WHERE id = ?",
            (blocked, now, resident_id),
        )

    async def link_telegram(self, resident_id: int, telegram_user_id: int, *, now: str) -> None:
        """Link a Telegram account (unlinking it from anyone who had it before)."""
        await self.db.execute(
            "UPDATE residents SET telegram_user_id = NULL WHERE municipality_id ="
            " (SELECT municipality_id FROM residents WHERE id = ?) AND telegram_user_id = ?",
            (resident_id, telegram_user_id),
        )
        await self.db.execute(
            "UPDATE residents SET telegram_user_id = ?, telegram_blocked = FALSE, updated_at = ?"
            " WHERE id = ?",
            (telegram_user_id, now, resident_id),
        )

    async def by_telegram(self, municipality_id: int, telegram_user_id: int) -> Resident | None:
        row = await self.db.fetchone(
            f"SELECT {_COLUMNS} FROM residents WHERE municipality_id = ? AND telegram_user_id = ?",
            (municipality_id, telegram_user_id),
        )
        return None if row is None else _resident(row)

    async def card(self, resident_id: int) -> ResidentCard | None:
        row = await self.db.fetchone(
            "SELECT r.name, r.phone, v.name AS village, v.name_ky, v.name_ru, v.name_en,"
            " h.code, h.address, r.language,"
            " r.opted_out,"
            " (SELECT COUNT(*) FROM residents m WHERE m.household_id = r.household_id) AS size"
            " FROM residents r"
            " JOIN villages v ON v.id = r.village_id"
            " JOIN households h ON h.id = r.household_id"
            " WHERE r.id = ?",
            (resident_id,),
        )
        if row is None:
            return None
        roles = await self.db.fetchall(
            "SELECT role FROM roles WHERE resident_id = ? ORDER BY role", (resident_id,)
        )
        return ResidentCard(
            name=row["name"],
            phone=row["phone"],
            village=Texts.read(row, 2),
            household_code=row["code"],
            household_address=row["address"],
            household_size=row["size"],
            language=row["language"],
            opted_out=bool(row["opted_out"]),
            roles=tuple(r["role"] for r in roles),
        )

    async def household_size(self, household_id: int) -> int:
        return int(
            await self.db.fetchval(
                "SELECT COUNT(*) FROM residents WHERE household_id = ?", (household_id,)
            )
        )

    async def household_contacts(self, municipality_id: int) -> list[Resident]:
        """One opted-in member per household: Telegram-linked first, then the lowest id."""
        rows = await self.db.fetchall(
            f"SELECT {_COLUMNS} FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY household_id"
            " ORDER BY (telegram_user_id IS NOT NULL AND telegram_blocked = FALSE) DESC, id)"
            " AS n FROM residents WHERE municipality_id = ? AND opted_out = FALSE) AS ranked"
            " WHERE n = 1 ORDER BY household_id",
            (municipality_id,),
        )
        return [_resident(row) for row in rows]

    async def count(self, municipality_id: int) -> int:
        return int(
            await self.db.fetchval(
                "SELECT COUNT(*) FROM residents WHERE municipality_id = ?", (municipality_id,)
            )
        )

    async def search(
        self, municipality_id: int, patterns: Iterable[str], *, limit: int
    ) -> list[Resident]:
        """The first ``limit`` residents (in register order: the scan stops there, rather
        than sorting every match of a common name) whose name is LIKE one of ``patterns``
        (``\\`` escapes), by name."""
        patterns = list(patterns)
        where = " OR ".join("name LIKE ? ESCAPE '\\'" for _ in patterns)
        rows = await self.db.fetchall(
            f"SELECT {_COLUMNS} FROM (SELECT {_COLUMNS} FROM residents"
            f" WHERE municipality_id = ? AND ({where}) ORDER BY id LIMIT ?) AS first"
            " ORDER BY name, id",
            (municipality_id, *patterns, limit),
        )
        return [_resident(row) for row in rows]

    async def correct(
        self, resident_id: int, *, name: str, gender: str, birth_year: int | None, now: str
    ) -> None:
        await self.db.execute(
            "UPDATE residents SET name = ?, gender = ?, birth_year = ?, updated_at = ?"
            " WHERE id = ?",
            (name, gender, birth_year, now, resident_id),
        )
