"""Monitoring acts: appended by members of the monitoring group, never changed."""

from __future__ import annotations

from collections.abc import Sequence

from storage.db import Database
from storage.models import MonitoringAct


class ActRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(
        self, *, municipality_id: int, project_id: int, author_id: int, kind: str, body: str,
        photos: Sequence[str], now: str,
    ) -> int:  # fmt: skip
        act_id = await self.db.insert(
            "INSERT INTO monitoring_acts (municipality_id, project_id, author_id, kind, body,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (municipality_id, project_id, author_id, kind, body, now),
        )
        await self.db.insert_many(
            "act_photos (act_id, position, telegram_file_id)",
            [(act_id, n, file_id) for n, file_id in enumerate(photos, start=1)],
        )
        return act_id

    async def for_project(self, project_id: int) -> list[MonitoringAct]:
        rows = await self.db.fetchall(
            "SELECT a.id, a.project_id, r.name, a.kind, a.body, a.created_at"
            " FROM monitoring_acts a JOIN residents r ON r.id = a.author_id"
            " WHERE a.project_id = ? ORDER BY a.created_at DESC, a.id DESC",
            (project_id,),
        )
        acts = []
        for row in rows:
            photos = await self.db.fetchall(
                "SELECT telegram_file_id FROM act_photos WHERE act_id = ? ORDER BY position",
                (row[0],),
            )
            acts.append(MonitoringAct(*row, tuple(p[0] for p in photos)))
        return acts
