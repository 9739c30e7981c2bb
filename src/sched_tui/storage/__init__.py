"""The SQLite database every running copy of the app shares.

One file, opened in WAL mode with a busy timeout so several processes (TUIs,
workers, headless commands) can read while one writes. The file is created
readable and writable by its owner only (mode 0600), because cached data and
queued writes carry patient data. The schema is versioned: `migrate` applies
the numbered scripts in `migrations/` that a database has not seen yet.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import aiosqlite
import tenacity

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    """One numbered schema change."""

    version: int
    name: str
    sql: str


def load_migrations() -> list[Migration]:
    """Return the bundled migrations in version order."""
    migrations = []
    for entry in resources.files("sched_tui.storage.migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            migrations.append(Migration(int(match[1]), match[2], entry.read_text("utf-8")))
    migrations.sort(key=lambda migration: migration.version)
    versions = [migration.version for migration in migrations]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"duplicate migration versions: {versions}")
    return migrations


def create_private_file(path: Path) -> None:
    """Create `path` with mode 0600 (and its folder with 0700) unless it exists."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    os.close(descriptor)
    # The umask may have removed bits but never adds any; set the mode exactly.
    os.chmod(path, 0o600)


class StorageError(Exception):
    """The database file cannot be created or opened; the message names the path."""


async def open_database(path: Path, *, busy_timeout_s: float = 5.0) -> aiosqlite.Connection:
    """Open (creating if needed) and migrate the database at `path`.

    Raises StorageError when the file cannot be created or opened.
    """
    try:
        create_private_file(path)
        connection = await aiosqlite.connect(path, timeout=busy_timeout_s, isolation_level=None)
    except (OSError, sqlite3.Error) as error:
        raise _storage_error(path, error) from None
    try:
        await connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        await _enable_wal(connection, busy_timeout_s)
        await connection.execute("PRAGMA synchronous = NORMAL")
        await connection.execute("PRAGMA foreign_keys = ON")
        await migrate(connection)
    except sqlite3.DatabaseError as error:
        await connection.close()
        raise _storage_error(path, error) from None
    except BaseException:
        await connection.close()
        raise
    return connection


def _storage_error(path: Path, error: OSError | sqlite3.Error) -> StorageError:
    reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
    return StorageError(
        f"cannot open the database {path} ({reason}); check [storage] path, the file "
        "and its folder's permissions"
    )


async def _enable_wal(connection: aiosqlite.Connection, busy_timeout_s: float) -> None:
    """Switch to WAL, retrying while another connection holds the lock.

    Changing the journal mode needs an exclusive lock, and SQLite can report
    "database is locked" for it at once instead of calling the busy handler, for
    example when several processes open a new database together.
    """
    retrying = tenacity.AsyncRetrying(
        retry=tenacity.retry_if_exception(_is_locked),
        wait=tenacity.wait_random_exponential(multiplier=0.01, max=0.2),
        stop=tenacity.stop_after_delay(busy_timeout_s),
        reraise=True,
    )
    async for attempt in retrying:
        with attempt:
            await connection.execute("PRAGMA journal_mode = WAL")


def _is_locked(error: BaseException) -> bool:
    return isinstance(error, sqlite3.OperationalError) and "locked" in str(error)


async def schema_version(connection: aiosqlite.Connection) -> int:
    """Return the highest applied migration version, 0 for a new database."""
    await _ensure_migrations_table(connection)
    async with connection.execute("SELECT MAX(version) FROM schema_migrations") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row and row[0] is not None else 0


async def migrate(connection: aiosqlite.Connection) -> int:
    """Apply pending migrations and return the resulting schema version.

    Each migration runs in its own write transaction taken with BEGIN IMMEDIATE,
    so two processes starting at once apply it exactly once.
    """
    await _ensure_migrations_table(connection)
    async with connection.execute("SELECT version FROM schema_migrations") as cursor:
        applied = {int(row[0]) for row in await cursor.fetchall()}
    # Every missing version is applied, not only those above the highest one, so a
    # migration merged after a later-numbered one still reaches existing databases.
    for migration in load_migrations():
        if migration.version in applied:
            continue
        await connection.execute("BEGIN IMMEDIATE")
        try:
            async with connection.execute(
                "SELECT 1 FROM schema_migrations WHERE version = ?", (migration.version,)
            ) as cursor:
                already = await cursor.fetchone()
            if already is None:
                for statement in _split_statements(migration.sql):
                    await connection.execute(statement)
                await connection.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                    (migration.version, migration.name),
                )
                log.info("applied schema migration %04d_%s", migration.version, migration.name)
            await connection.execute("COMMIT")
        except BaseException:
            await connection.execute("ROLLBACK")
            raise
    return await schema_version(connection)


async def _ensure_migrations_table(connection: aiosqlite.Connection) -> None:
    await connection.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY,"
        " name TEXT NOT NULL,"
        " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))"
    )


def _split_statements(sql: str) -> list[str]:
    """Split a migration script into statements, ignoring `--` comment lines."""
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    statements = []
    buffer = ""
    for line in lines:
        buffer += line + "\n"
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements
