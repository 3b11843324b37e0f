"""Municipalities and their villages."""

from __future__ import annotations

from storage.db import Database, Row
from storage.models import Municipality, Texts, Village

_COLUMNS = "id, slug, name, default_language"


def _municipality(row: Row) -> Municipality:
    return Municipality(row["id"], row["slug"], row["name"], row["default_language"])


class MunicipalityRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, *, slug: str, name: str, default_language: str, now: str) -> int:
        return await self.db.insert(
            "INSERT INTO municipalities (slug, name, default_language, created_at)"
            " VALUES (?, ?, ?, ?) RETURNING id",
            (slug, name, default_language, now),
        )

    async def by_slug(self, slug: str) -> Municipality | None:
        row = await self.db.fetchone(
            f"SELECT {_COLUMNS} FROM municipalities WHERE slug = ?", (slug,)
        )
        return None if row is None else _municipality(row)

    async def by_id(self, municipality_id: int) -> Municipality | None:
        row = await self.db.fetchone(
            f"SELECT {_COLUMNS} FROM municipalities WHERE id = ?", (municipality_id,)
        )
        return None if row is None else _municipality(row)

    async def all(self) -> list[Municipality]:
        rows = await self.db.fetchall(f"SELECT {_COLUMNS} FROM municipalities ORDER BY slug")
        return [_municipality(row) for row in rows]

    async def add_village(self, *, municipality_id: int, name: str) -> int:
        """``name`` may be :class:`Texts` (its versions are stored too)."""
        return await self.db.insert(
            "INSERT INTO villages (municipality_id, name, name_ky, name_ru, name_en)"
            " VALUES (?, ?, ?, ?, ?) RETURNING id",
            (municipality_id, name, *Texts.stored(name)),
        )

    async def villages(self, municipality_id: int) -> list[Village]:
        rows = await self.db.fetchall(
            f"SELECT id, municipality_id, {Texts.columns('name')} FROM villages"
            " WHERE municipality_id = ? ORDER BY name",
            (municipality_id,),
        )
        return [Village(row[0], row[1], Texts.read(row, 2)) for row in rows]
