"""SQLite through aiosqlite's public API: one file, WAL, foreign keys on, one writer.

aiosqlite runs the statements of a connection one after another on its own thread, in
the order they were given: statements are *pipelined* (``storage/db.py``). Every sqlite3
cursor is closed on that thread (``async with``: aiosqlite's ``Cursor.close``), never freed
on the event loop's: sqlite3 shares a prepared statement among the cursors that run the
same SQL, and a cursor freed on another thread resets its statement there while the
database thread may be running it for a pipelined caller ("bad parameter or other API
misuse"). Fetches use ``execute_fetchall``, which makes and drops its cursor on the thread.
"""

from __future__ import annotations

from pathlib import Path

import aiosqlite

from storage.db import Database, Dialect, Params, Row

SQLITE = Dialect(
    name="sqlite",
    identity_pk="INTEGER PRIMARY KEY",
    for_update="",
    skip_locked="",
    concurrent_writers=False,
    pipelined=True,
    random_hex="lower(hex(randomblob(32)))",
    append_only=tuple(
        f"CREATE TRIGGER {{table}}_no_{verb.lower()} BEFORE {verb} ON {{table}}"
        f" BEGIN SELECT RAISE(ABORT, '{{table}} is append-only'); END"
        for verb in ("UPDATE", "DELETE")
    ),
)


class SQLiteDatabase(Database):
    """SQLite through aiosqlite (``isolation_level=None``: transactions are explicit)."""

    dialect = SQLITE

    def __init__(self, conn: aiosqlite.Connection) -> None:
        super().__init__()
        self._conn = conn

    async def _fetchone(self, sql: str, params: Params) -> Row | None:
        rows = await self._conn.execute_fetchall(sql, params)
        return next(iter(rows), None)

    async def _fetchall(self, sql: str, params: Params) -> list[Row]:
        return list(await self._conn.execute_fetchall(sql, params))

    async def _execute(self, sql: str, params: Params) -> int:
        async with self._conn.execute(sql, params) as cursor:
            return max(cursor.rowcount, 0)

    async def _executemany(self, sql: str, rows: list[Params]) -> None:
        async with self._conn.executemany(sql, rows):
            pass

    async def _insert_many(self, into: str, rows: list[Params], on_conflict: str) -> int:
        marks = ", ".join("?" * len(rows[0]))
        sql = f"INSERT INTO {into} VALUES ({marks}) {on_conflict}"
        async with self._conn.executemany(sql, rows) as cursor:
            return max(cursor.rowcount, 0)

    async def _executescript(self, script: str) -> None:
        async with self._conn.executescript(script):
            pass

    async def _begin(self) -> None:
        async with self._conn.execute("BEGIN IMMEDIATE"):
            pass

    async def _commit(self) -> None:
        await self._conn.commit()

    async def _rollback(self) -> None:
        await self._conn.rollback()

    async def close(self) -> None:
        await self._conn.close()


async def open_sqlite(path: str) -> SQLiteDatabase:
    """Open (creating if needed) the SQLite file at ``path`` (or ``:memory:``)."""
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = await aiosqlite.connect(path, isolation_level=None)
    conn.row_factory = aiosqlite.Row
    for pragma in (
        "journal_mode=WAL",
        "foreign_keys=ON",
        "busy_timeout=10000",
        "synchronous=NORMAL",
    ):
        async with conn.execute(f"PRAGMA {pragma}"):
            pass
    return SQLiteDatabase(conn)
