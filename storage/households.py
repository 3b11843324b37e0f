"""Households of the register."""

from __future__ import annotations

from collections.abc import Iterable

from storage.db import Database
from storage.models import Household


class HouseholdRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def by_code(self, municipality_id: int) -> dict[str, Household]:
        """All households of a municipality keyed by register code (used by imports)."""
        rows = await self.db.fetchall(
            "SELECT id, municipality_id, code, village_id, address FROM households"
            " WHERE municipality_id = ?",
            (municipality_id,),
        )
        return {row["code"]: Household(*row) for row in rows}

    async def insert_many(self, municipality_id: int, rows: Iterable[tuple[str, int, str]]) -> None:
        """Insert ``(code, village_id, address)`` rows."""
        await self.db.insert_many(
            "households (municipality_id, code, village_id, address)",
            [(municipality_id, *row) for row in rows],
        )

    async def update_many(self, rows: Iterable[tuple[int, str, int]]) -> None:
        """Update ``(village_id, address, household_id)`` rows in place."""
        rows = list(rows)
        await self.db.executemany(
            "UPDATE households SET village_id = ?, address = ? WHERE id = ?", rows
        )
        # Residents live in their household's village.
        await self.db.executemany(
            "UPDATE residents SET village_id = ? WHERE household_id = ?",
            [(village_id, household_id) for village_id, _, household_id in rows],
        )

    async def count(self, municipality_id: int) -> int:
        return int(
            await self.db.fetchval(
                "SELECT COUNT(*) FROM households WHERE municipality_id = ?", (municipality_id,)
            )
        )
