"""The database connection: the one place that knows which SQL engine is underneath.

Repositories write portable SQL with ``?`` placeholders and call the small
:class:`Database` API; this module opens SQLite (WAL, foreign keys on) and manages
transactions explicitly, so that a change and the outbound messages it causes can
commit together.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite

Row = aiosqlite.Row
Params = Sequence[Any]


@dataclass(frozen=True)
class Dialect:
    """What differs between engines, in one place."""

    name: str
    #: column definition of an auto-numbered primary key
    identity_pk: str


SQLITE = Dialect(name="sqlite", identity_pk="INTEGER PRIMARY KEY")


def sqlite_path(url: str) -> str:
    """``sqlite:///civic-bot.db`` → ``civic-bot.db``; ``sqlite:////abs/x.db`` → ``/abs/x.db``."""
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        raise ValueError(f"not a sqlite URL: {url!r}")
    return url[len(prefix) :]


class Database:
    """A connection with fetch helpers and explicit transactions."""

    dialect = SQLITE

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self._depth = 0

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        async with self._conn.execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        async with self._conn.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; return the new row id of an INSERT (else the rows changed)."""
        async with self._conn.execute(sql, params) as cursor:
            if sql.lstrip()[:6].upper() == "INSERT":
                return int(cursor.lastrowid or 0)
            return cursor.rowcount

    async def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        """Run one statement per row; return the rows changed in all."""
        async with self._conn.executemany(sql, rows) as cursor:
            return max(cursor.rowcount, 0)

    async def executescript(self, script: str) -> None:
        await self._conn.executescript(script)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Database]:
        """All or nothing. Nested use joins the outer transaction."""
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        await self._conn.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield self
        except BaseException:
            self._depth = 0
            await self._conn.rollback()
            raise
        self._depth = 0
        await self._conn.commit()

    async def close(self) -> None:
        await self._conn.close()


async def open_database(url: str) -> Database:
    """Open (creating the file if needed) a database by URL."""
    path = sqlite_path(url)
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = await aiosqlite.connect(path, isolation_level=None)
    conn.row_factory = aiosqlite.Row
    await conn.execute("PRAGMA journal_mode=WAL")
    await conn.execute("PRAGMA foreign_keys=ON")
    await conn.execute("PRAGMA busy_timeout=10000")
    await conn.execute("PRAGMA synchronous=NORMAL")
    return Database(conn)


@contextlib.asynccontextmanager
async def connect(url: str) -> AsyncIterator[Database]:
    db = await open_database(url)
    try:
        yield db
    finally:
        await db.close()
