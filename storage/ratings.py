"""Service rating rounds: services rated 1-5 by residents, the last rating counts."""

from __future__ import annotations

from collections.abc import Sequence

from storage.db import Database
from storage.models import RatingGroup, RatingService, Texts


class RatingRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def open_round(
        self, municipality_id: int, name: str, services: Sequence[str], *, now: str
    ) -> int:
        round_id = await self.db.insert(
            "INSERT INTO rating_rounds (municipality_id, name, opened_at, name_ky, name_ru,"
            " name_en) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (municipality_id, name, now, *Texts.stored(name)),
        )
        await self.db.insert_many(
            "rating_services (round_id, position, name, name_ky, name_ru, name_en)",
            [
                (round_id, n, service, *Texts.stored(service))
                for n, service in enumerate(services, start=1)
            ],
        )
        return round_id

    async def close_round(self, round_id: int, *, now: str) -> None:
        await self.db.execute(
            "UPDATE rating_rounds SET closed_at = ? WHERE id = ? AND closed_at IS NULL",
            (now, round_id),
        )

    async def current_round(self, municipality_id: int) -> int | None:
        return await self.db.fetchval(
            "SELECT MAX(id) FROM rating_rounds WHERE municipality_id = ? AND closed_at IS NULL",
            (municipality_id,),
        )

    async def services(self, round_id: int) -> list[RatingService]:
        rows = await self.db.fetchall(
            f"SELECT id, round_id, position, {Texts.columns('name')} FROM rating_services"
            " WHERE round_id = ? ORDER BY position",
            (round_id,),
        )
        return [RatingService(row[0], row[1], row[2], Texts.read(row, 3)) for row in rows]

    async def rate(
        self, service_id: int, resident_id: int, village_id: int, score: int, *, now: str
    ) -> None:
        await self.db.execute(
            "INSERT INTO ratings (service_id, resident_id, village_id, score, rated_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (service_id, resident_id)"
            " DO UPDATE SET score = excluded.score, rated_at = excluded.rated_at",
            (service_id, resident_id, village_id, score, now),
        )

    async def scores_of(self, resident_id: int, service_ids: list[int]) -> dict[int, int]:
        """The resident's own scores of these services: service id -> score."""
        if not service_ids:
            return {}
        marks = ", ".join("?" for _ in service_ids)
        rows = await self.db.fetchall(
            f"SELECT service_id, score FROM ratings WHERE resident_id = ?"
            f" AND service_id IN ({marks})",
            (resident_id, *service_ids),
        )
        return {int(row[0]): int(row[1]) for row in rows}

    async def summary(self, municipality_id: int) -> list[RatingGroup]:
        """The ratings of every service by village, round by round."""
        names = ", ".join(Texts.columns(c) for c in ("rr.name", "s.name", "v.name"))
        rows = await self.db.fetchall(
            f"SELECT rr.id, {names}, COUNT(*), SUM(r.score)"
            " FROM ratings r JOIN rating_services s ON s.id = r.service_id"
            " JOIN rating_rounds rr ON rr.id = s.round_id"
            " LEFT JOIN villages v ON v.id = r.village_id"
            f" WHERE rr.municipality_id = ? GROUP BY rr.id, s.position, {names}"
            " ORDER BY rr.id, s.position, v.name",
            (municipality_id,),
        )
        return [
            RatingGroup(
                row[0],
                Texts.read(row, 1),
                Texts.read(row, 5),
                None if row[9] is None else Texts.read(row, 9),
                int(row[13]),
                int(row[14]),
            )
            for row in rows
        ]
