"""The log of cache invalidations in the shared SQLite database.

Every running copy (TUIs, ``sched-tui cache invalidate``) appends a row to
``cache_invalidations`` when it invalidates. Every copy with a cache polls the
rows written after the last id it read and applies them (`CacheControl` does
this). No server is involved: the database file is the only shared channel.
"""

from __future__ import annotations

import dataclasses
import getpass
import logging
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from sched_tui.cache.store import CacheStore
from sched_tui.storage import open_database

log = logging.getLogger(__name__)

SCOPES = ("key", "namespace", "all")
# Rows older than this are deleted. A copy that has not polled for longer may
# have missed rows, so it drops its whole cache instead.
RETENTION_S = 3600.0
# Most rows read by one poll; the next poll reads the rest.
POLL_BATCH = 500


@dataclass(frozen=True, slots=True)
class Invalidation:
    """One row of the log: what to drop, and who asked when."""

    scope: str
    key: str = ""
    id: int = 0
    # Unix time in seconds.
    created_at: float = 0.0
    origin_pid: int = 0
    origin_user: str = ""
    # Random token of the running copy that wrote the row.
    origin: str = ""

    def describe(self) -> str:
        """Name what the invalidation drops, for messages and logs."""
        if self.scope == "key":
            return f"key {self.key}"
        if self.scope == "namespace":
            return f"namespace {self.key}"
        return "the whole cache"

    def apply(self, store: CacheStore) -> int:
        """Drop the matching entries from `store`; return how many."""
        if self.scope == "key":
            return store.invalidate(self.key)
        if self.scope == "namespace":
            return store.invalidate_namespace(self.key)
        return store.invalidate_all()


class InvalidationLog:
    """Reads and writes ``cache_invalidations`` over a connection of its own.

    A dedicated connection keeps these single-statement writes out of any
    transaction another component keeps open on the shared one.
    """

    def __init__(
        self, connection: aiosqlite.Connection, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.connection = connection
        # Identifies this running copy in the rows it writes.
        self.origin = secrets.token_hex(8)
        self._clock = clock

    @classmethod
    async def open(cls, path: Path, *, busy_timeout_s: float = 5.0) -> InvalidationLog:
        """Open (creating and migrating if needed) the database at `path`."""
        connection = await open_database(path, busy_timeout_s=busy_timeout_s)
        return cls(connection)

    async def publish(self, scope: str, key: str = "") -> Invalidation:
        """Append one invalidation and return it with its id."""
        if scope not in SCOPES:
            raise ValueError(f"invalid invalidation scope {scope!r}; expected one of {SCOPES}")
        event = Invalidation(
            scope=scope,
            key=key,
            created_at=self._clock(),
            origin_pid=os.getpid(),
            origin_user=_user_name(),
            origin=self.origin,
        )
        cursor = await self.connection.execute(
            "INSERT INTO cache_invalidations"
            " (scope, key, created_at, origin_pid, origin_user, origin)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                event.scope,
                event.key,
                event.created_at,
                event.origin_pid,
                event.origin_user,
                event.origin,
            ),
        )
        event_id = cursor.lastrowid or 0
        await cursor.close()
        log.info("published invalidation %d of %s", event_id, event.describe())
        return dataclasses.replace(event, id=event_id)

    async def latest_id(self) -> int:
        """Return the id of the newest row, 0 when there is none."""
        async with self.connection.execute("SELECT MAX(id) FROM cache_invalidations") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    async def read_since(self, last_id: int, limit: int = POLL_BATCH) -> list[Invalidation]:
        """Return the rows with an id above `last_id`, oldest first."""
        async with self.connection.execute(
            "SELECT id, scope, key, created_at, origin_pid, origin_user, origin"
            " FROM cache_invalidations WHERE id > ? ORDER BY id LIMIT ?",
            (last_id, limit),
        ) as cursor:
            rows = await cursor.fetchall()
        return [_from_row(row) for row in rows]

    async def recent(self, limit: int = 20) -> list[Invalidation]:
        """Return the newest `limit` rows, newest first."""
        async with self.connection.execute(
            "SELECT id, scope, key, created_at, origin_pid, origin_user, origin"
            " FROM cache_invalidations ORDER BY id DESC LIMIT ?",
            (limit,),
        ) as cursor:
            rows = await cursor.fetchall()
        return [_from_row(row) for row in rows]

    async def prune(self, retention_s: float = RETENTION_S) -> int:
        """Delete rows older than `retention_s` seconds; return how many."""
        cursor = await self.connection.execute(
            "DELETE FROM cache_invalidations WHERE created_at < ?",
            (self._clock() - retention_s,),
        )
        deleted = cursor.rowcount
        await cursor.close()
        if deleted:
            log.debug("pruned %d old cache invalidations", deleted)
        return deleted

    async def aclose(self) -> None:
        """Close the connection."""
        await self.connection.close()


def _from_row(row: aiosqlite.Row | tuple[object, ...]) -> Invalidation:
    event_id, scope, key, created_at, origin_pid, origin_user, origin = tuple(row)
    return Invalidation(
        scope=str(scope),
        key=str(key),
        id=int(event_id),
        created_at=float(created_at),
        origin_pid=int(origin_pid),
        origin_user=str(origin_user),
        origin=str(origin),
    )


def _user_name() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        # getpass finds no name when neither the environment nor the password
        # database has one (some containers).
        return ""
