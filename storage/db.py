"""The database connection: repositories call the small :class:`Database` API with SQL
written once, in a form both engines take; ``DATABASE_URL`` picks the engine:

- ``sqlite:///PATH`` (the embedded default): one file, WAL, foreign keys on, one writer;
- ``postgresql://user:pass@host/db`` (or ``postgres://``): PostgreSQL through asyncpg, for a
  deployment that outgrows one file and runs several ``civic-bot run`` processes on one outbox.

The SQL repositories write: ``?`` placeholders; a new row's id by ``INSERT ... RETURNING id``
through :meth:`Database.insert`; many rows by :meth:`Database.insert_many`; a parameter
whose type nothing else tells (``? IS NULL``) in an explicit ``CAST(? AS BIGINT)``. What truly
differs between the engines is in one small module each, ``storage/dialects/sqlite.py`` and
``storage/dialects/postgres.py``: their :class:`Dialect` (the few SQL fragments that differ)
and their :class:`Database` (driver calls, ``$n`` placeholders, many-row INSERTs, row counts,
transactions). Transactions are explicit, so that a change and the outbound messages it
causes commit together.

A :class:`Database` is one connection. Tasks may share it: a transaction has the connection
to itself until it ends (another task's statements wait for it instead of slipping into it),
and nested use of :meth:`Database.transaction` joins the outer transaction, as do the tasks
it starts. Where the engine's driver queues statements (aiosqlite runs them one after
another on its thread, in the order they were given), a statement does not wait for the
one before it to come back: the statements of many tasks (or of the tasks of one
transaction) are *pipelined*, and the thread runs them back to back instead of waiting a
turn of the event loop between each. asyncpg takes one statement at a time per connection,
so there a statement waits for the one in hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

Params = Sequence[Any]


class Row(Protocol):
    """A result row as both engines return it (``aiosqlite.Row``, ``asyncpg.Record``):
    ``row[0]``, ``row["name"]``, ``tuple(row)``, ``dict(row)``."""

    def __getitem__(self, key: int | str, /) -> Any: ...
    def __iter__(self) -> Iterator[Any]: ...
    def __len__(self) -> int: ...
    def keys(self) -> Any: ...


@dataclass(frozen=True)
class Dialect:
    """What differs between engines, in one place."""

    name: str
    #: column definition of an auto-numbered primary key
    identity_pk: str
    #: appended to a SELECT whose rows the transaction is about to change: other
    #: processes wait for them ("" where there is only one writer)
    for_update: str
    #: appended to a SELECT that claims rows for one worker: rows another process has
    #: locked are skipped, not waited for ("" where there is only one writer)
    skip_locked: str
    #: several processes may write at once (and share the outbox and its rate limits)
    concurrent_writers: bool
    #: the driver queues statements on the connection in order: a task need not wait for
    #: another's statement to come back before giving its own
    pipelined: bool
    #: session locks by number (``?``: a BIGINT), held until released or disconnected;
    #: None where there is one writer and nothing to lock
    hold_lock: str | None = None
    release_lock: str | None = None
    #: the numbers of the session locks held now, by any connection
    held_locks: str | None = None
    #: an expression for 64 random hexadecimal digits from the server's secure source
    random_hex: str = ""
    #: statements that make the table ``{table}`` refuse every change but INSERT
    #: (``APPEND_ONLY name;`` in a migration)
    append_only: tuple[str, ...] = ()


_POSTGRES_SCHEMES = ("postgresql://", "postgres://")


class DatabaseUnavailable(OSError):
    """The database server cannot be reached or refuses the connection (one-line reason)."""


def sqlite_path(url: str) -> str:
    """``sqlite:///civic-bot.db`` → ``civic-bot.db``; ``sqlite:////abs/x.db`` → ``/abs/x.db``."""
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        raise ValueError(f"not a sqlite URL: {url!r}")
    return url[len(prefix) :]


def is_postgres_url(url: str) -> bool:
    return url.startswith(_POSTGRES_SCHEMES)


def redact_url(url: str) -> str:
    """The URL fit for output and logs: a password becomes ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rpartition("@")
    user = netloc[0].partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[2]}"))


class Database:
    """A connection with fetch helpers and explicit transactions (see the module doc)."""

    dialect: Dialect

    def __init__(self) -> None:
        #: held by a transaction from BEGIN to COMMIT/ROLLBACK
        self._txn_lock = asyncio.Lock()
        #: set while no transaction is open (pipelined statements outside one wait on it)
        self._no_txn = asyncio.Event()
        self._no_txn.set()
        #: held for one statement where the driver takes one at a time (not pipelined)
        self._op_lock: contextlib.AbstractAsyncContextManager[Any] = (
            contextlib.nullcontext() if self.dialect.pipelined else asyncio.Lock()
        )
        #: the open transaction, if any, and the tasks (context) taking part in it
        self._txn: object | None = None
        self._txn_var: contextvars.ContextVar[object | None] = contextvars.ContextVar(
            f"storage-db-{id(self)}", default=None
        )

    # -- the API the repositories use

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        async with self._turn():
            return await self._fetchone(sql, params)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        async with self._turn():
            return await self._fetchall(sql, params)

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; return the rows it changed (an ``INSERT ... ON CONFLICT DO
        NOTHING`` that met a conflict: 0). A new row's id: ``fetchval`` of ``INSERT ...
        RETURNING id``."""
        async with self._turn():
            return await self._execute(sql, params)

    async def insert(self, sql: str, params: Params = ()) -> int:
        """Run an ``INSERT ... RETURNING id`` (both engines take it); return the new id."""
        return int(await self.fetchval(sql, params))

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        """Run one statement (an UPDATE or DELETE) per row, all or none. Many INSERTs:
        :meth:`insert_many`."""
        rows = list(rows)
        if len(rows) <= 1:  # one statement is all or nothing by itself
            if rows:
                await self.execute(sql, rows[0])
            return
        async with self.transaction(), self._turn():
            await self._executemany(sql, rows)

    async def insert_many(self, into: str, rows: Iterable[Params], *, on_conflict: str = "") -> int:
        """Insert ``rows`` all or none, into ``into``: a table and its columns, ``"t (a, b)"``
        (each row a value per column); ``on_conflict``: ``"ON CONFLICT (a) DO NOTHING"`` or
        nothing. Return how many rows were inserted (those a conflict skipped not counted)."""
        rows = list(rows)
        if not rows:
            return 0
        async with self.transaction(), self._turn():
            return await self._insert_many(into, rows, on_conflict)

    async def executescript(self, script: str) -> None:
        async with self._turn():
            await self._executescript(script)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Database]:
        """All or nothing. Nested use joins the outer transaction."""
        if self._joined():
            yield self
            return
        async with self._txn_lock:
            marker = object()
            self._txn = marker
            self._no_txn.clear()
            token = self._txn_var.set(marker)
            try:
                async with self._op_lock:
                    await self._begin()
                try:
                    yield self
                except BaseException:
                    async with self._op_lock:
                        await self._rollback()
                    raise
                async with self._op_lock:
                    try:
                        await self._commit()
                    except BaseException:  # nothing was kept: end the transaction
                        with contextlib.suppress(Exception):
                            await self._rollback()
                        raise
            finally:
                self._txn = None
                self._no_txn.set()
                self._txn_var.reset(token)

    async def close(self) -> None:
        raise NotImplementedError

    # -- serialising tasks on the one connection

    def _joined(self) -> bool:
        """Is the current task inside this connection's open transaction?"""
        return self._txn is not None and self._txn_var.get() is self._txn

    @contextlib.asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        if self._joined():
            async with self._op_lock:
                yield
        elif self.dialect.pipelined:
            # Wait for another task's transaction to end rather than slip into it. The
            # statement is queued in the same step as this check, so it runs before any
            # BEGIN queued later.
            while self._txn is not None:
                await self._no_txn.wait()
            yield
        else:
            async with self._txn_lock, self._op_lock:
                yield

    # -- what each engine implements

    async def _fetchone(self, sql: str, params: Params) -> Row | None:
        raise NotImplementedError

    async def _fetchall(self, sql: str, params: Params) -> list[Row]:
        raise NotImplementedError

    async def _execute(self, sql: str, params: Params) -> int:
        raise NotImplementedError

    async def _executemany(self, sql: str, rows: list[Params]) -> None:
        raise NotImplementedError

    async def _insert_many(self, into: str, rows: list[Params], on_conflict: str) -> int:
        raise NotImplementedError

    async def _executescript(self, script: str) -> None:
        raise NotImplementedError

    async def _begin(self) -> None:
        raise NotImplementedError

    async def _commit(self) -> None:
        raise NotImplementedError

    async def _rollback(self) -> None:
        raise NotImplementedError


async def open_database(url: str) -> Database:
    """Open a database by URL (creating a SQLite file if needed)."""
    if is_postgres_url(url):
        from storage.dialects import postgres

        return await postgres.open_postgres(url)
    from storage.dialects import sqlite

    return await sqlite.open_sqlite(sqlite_path(url))


@contextlib.asynccontextmanager
async def connect(url: str) -> AsyncIterator[Database]:
    db = await open_database(url)
    try:
        yield db
    finally:
        await db.close()
