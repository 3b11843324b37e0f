"""A municipality's provider secrets, sealed (see migration 0019 and storage/sealing.py).

Each value is sealed under the ``SECRETS_KEY`` setting for the purpose :data:`PURPOSE`,
bound to its municipality and name, so that a value copied into another municipality's
row does not open. Only :meth:`MunicipalitySecretRepo.values` ever opens them.
"""

from __future__ import annotations

from storage.db import Database
from storage.sealing import SealBroken, Sealer

#: the sealing purpose of municipality secrets
PURPOSE = "municipality-secret"


class SecretsLocked(Exception):
    """No ``SECRETS_KEY``, or a value does not open with it (another key)."""


def _bound_to(municipality_id: int, name: str) -> str:
    return f"{municipality_id}:{name}"


class MunicipalitySecretRepo:
    def __init__(self, db: Database, sealer: Sealer | None) -> None:
        self.db = db
        self._sealer = sealer

    def _require_sealer(self) -> Sealer:
        if self._sealer is None:
            raise SecretsLocked("SECRETS_KEY is not set")
        return self._sealer

    async def put(self, municipality_id: int, name: str, value: str, *, now: str) -> None:
        """Set (or replace) the value of ``name``, sealed."""
        sealed = self._require_sealer().seal(
            PURPOSE, value.encode(), bound_to=_bound_to(municipality_id, name)
        )
        await self.db.execute(
            "INSERT INTO municipality_secrets (municipality_id, name, value, updated_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (municipality_id, name)"
            " DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            (municipality_id, name, sealed, now),
        )

    async def remove(self, municipality_id: int, name: str) -> int:
        return await self.db.execute(
            "DELETE FROM municipality_secrets WHERE municipality_id = ? AND name = ?",
            (municipality_id, name),
        )

    async def names(self, municipality_id: int) -> list[tuple[str, str]]:
        """The names set for a municipality and when each was last set (never a value)."""
        rows = await self.db.fetchall(
            "SELECT name, updated_at FROM municipality_secrets WHERE municipality_id = ?"
            " ORDER BY name",
            (municipality_id,),
        )
        return [(row[0], row[1]) for row in rows]

    async def reseal(self, old: Sealer, *, now: str) -> int:
        """Seal every value, opened with ``old`` (the previous ``SECRETS_KEY``), under this
        key instead, all or none; return how many. :class:`SecretsLocked` if one does not
        open with ``old``: then nothing changed."""
        sealer = self._require_sealer()
        async with self.db.transaction():
            rows = await self.db.fetchall(
                "SELECT municipality_id, name, value FROM municipality_secrets"
                " ORDER BY municipality_id, name"
            )
            for municipality_id, name, value in rows:
                bound_to = _bound_to(municipality_id, name)
                plain = _open(old, value, municipality_id, name)
                await self.db.execute(
                    "UPDATE municipality_secrets SET value = ?, updated_at = ?"
                    " WHERE municipality_id = ? AND name = ?",
                    (sealer.seal(PURPOSE, plain, bound_to=bound_to), now, municipality_id, name),
                )
        return len(rows)

    async def values(self, municipality_id: int) -> dict[str, str]:
        """Every secret of a municipality in clear; :class:`SecretsLocked` if one does not
        open (the key is missing or another)."""
        sealer = self._require_sealer()
        rows = await self.db.fetchall(
            "SELECT name, value FROM municipality_secrets WHERE municipality_id = ?",
            (municipality_id,),
        )
        return {name: _open(sealer, value, municipality_id, name).decode() for name, value in rows}


def _open(sealer: Sealer, value: str, municipality_id: int, name: str) -> bytes:
    try:
        return sealer.open(PURPOSE, value, bound_to=_bound_to(municipality_id, name))
    except SealBroken:
        raise SecretsLocked(
            f"a secret of municipality {municipality_id} does not open with this"
            " SECRETS_KEY (was it made with another key?)"
        ) from None
