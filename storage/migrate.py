"""Numbered SQL migrations, applied in order and recorded in ``schema_version``.

A migration is ``storage/migrations/NNNN_name.sql``: portable SQL statements ending
in ``;``, with placeholders for what differs between engines (``IDENTITY_PK``,
``RANDOM_HEX``, and the statement ``APPEND_ONLY table;``: triggers that refuse UPDATE and
DELETE of the table's rows, see ``Dialect.append_only``). Each is applied in its own
transaction, so a failure leaves the database at the previous version. Applying when up
to date changes nothing. Processes that start together may all migrate: each migration
is checked again inside its transaction (and on PostgreSQL they take turns under a
lock), so each is applied once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from storage.db import Database

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
#: ``APPEND_ONLY table``: the dialect's triggers that refuse UPDATE and DELETE
_APPEND_ONLY = re.compile(r"^APPEND_ONLY ([a-z_]+)$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    def statements(self, db: Database) -> list[str]:
        text = self.path.read_text(encoding="utf-8")
        text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
        text = text.replace("IDENTITY_PK", db.dialect.identity_pk)
        text = text.replace("RANDOM_HEX", db.dialect.random_hex)
        statements = []
        for stmt in (s.strip() for s in text.split(";")):
            if match := _APPEND_ONLY.match(stmt):
                statements += [t.format(table=match[1]) for t in db.dialect.append_only]
            elif stmt:
                statements.append(stmt)
        return statements


def available() -> list[Migration]:
    found = []
    for path in sorted(MIGRATIONS_DIR.iterdir()):
        match = _NAME.match(path.name)
        if match:
            found.append(Migration(int(match[1]), match[2], path))
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..n without gaps, found {versions}")
    return found


def latest_version() -> int:
    return len(available())


async def current_version(db: Database) -> int:
    await db.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    return await _version(db)


async def _version(db: Database) -> int:
    return int(await db.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_version"))


#: the session lock that lets one process at a time migrate (several may start at once)
MIGRATION_LOCK = 0x63697669632D6D  # "civic-m"


async def migrate(db: Database, target: int | None = None) -> list[Migration]:
    """Bring the schema up to ``target`` (default: latest); return what was applied."""
    dialect = db.dialect
    if dialect.hold_lock is None or dialect.release_lock is None:
        return await _migrate(db, target)
    await db.execute(dialect.hold_lock, (MIGRATION_LOCK,))
    try:
        return await _migrate(db, target)
    finally:
        await db.execute(dialect.release_lock, (MIGRATION_LOCK,))


async def _migrate(db: Database, target: int | None) -> list[Migration]:
    have = await current_version(db)
    applied = []
    for migration in available():
        if migration.version <= have or (target is not None and migration.version > target):
            continue
        async with db.transaction():
            if migration.version <= await _version(db):
                continue  # another process applied it meanwhile
            for statement in migration.statements(db):
                await db.execute(statement)
            await db.execute(
                "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.name, datetime.now(UTC).isoformat()),
            )
        applied.append(migration)
    return applied
