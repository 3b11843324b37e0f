"""Role grants (staff, admin, deputy, monitor)."""

from __future__ import annotations

from storage.db import Database
from storage.models import RoleHolder


class RoleRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def grant(self, *, municipality_id: int, resident_id: int, role: str, now: str) -> bool:
        """Grant a role; False when the resident already had it."""
        exists = await self.db.fetchval(
            "SELECT 1 FROM roles WHERE resident_id = ? AND role = ?", (resident_id, role)
        )
        if exists:
            return False
        await self.db.execute(
            "INSERT INTO roles (municipality_id, resident_id, role, granted_at)"
            " VALUES (?, ?, ?, ?)",
            (municipality_id, resident_id, role, now),
        )
        return True

    async def revoke(self, *, resident_id: int, role: str) -> bool:
        """Revoke a role; False when the resident did not have it."""
        return (
            await self.db.execute(
                "DELETE FROM roles WHERE resident_id = ? AND role = ?", (resident_id, role)
            )
            > 0
        )

    async def of(self, resident_id: int) -> set[str]:
        rows = await self.db.fetchall(
            "SELECT role FROM roles WHERE resident_id = ?", (resident_id,)
        )
        return {row["role"] for row in rows}

    async def holders(self, municipality_id: int, role: str | None = None) -> list[RoleHolder]:
        rows = await self.db.fetchall(
            "SELECT r.phone, r.name, g.role, g.granted_at FROM roles g"
            " JOIN residents r ON r.id = g.resident_id"
            " WHERE g.municipality_id = ? AND (CAST(? AS TEXT) IS NULL OR g.role = ?)"
            " ORDER BY g.role, r.name",
            (municipality_id, role, role),
        )
        return [RoleHolder(*row) for row in rows]
