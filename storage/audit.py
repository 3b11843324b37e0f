"""The audit trail of staff actions: appended, never changed (triggers refuse it)."""

from __future__ import annotations

from storage.db import Database
from storage.models import AuditEntry


class AuditRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def append(
        self, *, municipality_id: int, at: str, actor_id: int | None, via: str, action: str,
        object_kind: str, object_id: int | None, detail: str,
    ) -> None:  # fmt: skip
        await self.db.execute(
            "INSERT INTO audit_log (municipality_id, at, actor_id, via, action, object_kind,"
            " object_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (municipality_id, at, actor_id, via, action, object_kind, object_id, detail),
        )

    async def entries(
        self, *, municipality_id: int | None = None, since: str | None = None
    ) -> list[AuditEntry]:
        """Oldest first; of one municipality or of all, from ``since`` (UTC ISO) on."""
        rows = await self.db.fetchall(
            "SELECT a.id, a.municipality_id, m.slug, a.at, a.actor_id, a.via, a.action,"
            " a.object_kind, a.object_id, a.detail"
            " FROM audit_log a JOIN municipalities m ON m.id = a.municipality_id"
            " WHERE (CAST(? AS BIGINT) IS NULL OR a.municipality_id = ?)"
            " AND (CAST(? AS TEXT) IS NULL OR a.at >= ?)"
            " ORDER BY a.id",
            (municipality_id, municipality_id, since, since),
        )
        return [AuditEntry(*row) for row in rows]

    async def page(
        self, *, municipality_id: int, since: str | None, until: str | None,
        before_id: int | None, limit: int,
    ) -> list[AuditEntry]:  # fmt: skip
        """Newest first, at most ``limit``: of one municipality, from ``since`` (UTC ISO) on
        and before ``until``, with an id below ``before_id`` (the next page)."""
        rows = await self.db.fetchall(
            "SELECT a.id, a.municipality_id, m.slug, a.at, a.actor_id, a.via, a.action,"
            " a.object_kind, a.object_id, a.detail"
            " FROM audit_log a JOIN municipalities m ON m.id = a.municipality_id"
            " WHERE a.municipality_id = ? AND (CAST(? AS TEXT) IS NULL OR a.at >= ?)"
            " AND (CAST(? AS TEXT) IS NULL OR a.at < ?)"
            " AND (CAST(? AS BIGINT) IS NULL OR a.id < ?)"
            " ORDER BY a.id DESC LIMIT ?",
            (municipality_id, since, since, until, until, before_id, before_id, limit),
        )
        return [AuditEntry(*row) for row in rows]
