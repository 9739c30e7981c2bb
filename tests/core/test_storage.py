"""Storage: file mode, WAL, migrations applied once even by racing processes."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import pytest

from sched_tui.cli import main
from sched_tui.storage import StorageError, load_migrations, open_database, schema_version


async def test_database_created_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "data" / "sched.db"
    old_umask = os.umask(0)
    try:
        connection = await open_database(path)
    finally:
        os.umask(old_umask)
    await connection.close()

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


async def test_wal_mode_and_busy_timeout(tmp_path: Path) -> None:
    connection = await open_database(tmp_path / "sched.db", busy_timeout_s=2.5)
    try:
        async with connection.execute("PRAGMA journal_mode") as cursor:
            assert (await cursor.fetchone()) == ("wal",)
        async with connection.execute("PRAGMA busy_timeout") as cursor:
            assert (await cursor.fetchone()) == (2500,)
    finally:
        await connection.close()


async def test_migrations_reach_latest_version(tmp_path: Path) -> None:
    latest = load_migrations()[-1].version
    connection = await open_database(tmp_path / "sched.db")
    try:
        assert await schema_version(connection) == latest
    finally:
        await connection.close()


async def test_concurrent_openers_migrate_once(tmp_path: Path) -> None:
    path = tmp_path / "sched.db"

    connections = await asyncio.gather(*(open_database(path) for _ in range(5)))
    try:
        async with connections[0].execute(
            "SELECT version, COUNT(*) FROM schema_migrations GROUP BY version"
        ) as cursor:
            rows = await cursor.fetchall()
    finally:
        for connection in connections:
            await connection.close()

    assert rows
    assert all(count == 1 for _, count in rows)
    assert [version for version, _ in rows] == [m.version for m in load_migrations()]


def test_migration_versions_are_contiguous() -> None:
    versions = [migration.version for migration in load_migrations()]

    assert versions == list(range(1, len(versions) + 1))


async def test_gap_in_applied_versions_is_filled(tmp_path: Path) -> None:
    path = tmp_path / "sched.db"
    connection = await open_database(path)
    second = load_migrations()[1]
    # Simulate a database migrated before the second migration existed.
    async with connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'") as cursor:
        before = {row[0] for row in await cursor.fetchall()}
    await connection.execute("DELETE FROM schema_migrations WHERE version = ?", (second.version,))
    for table in _tables_created_by(second.sql):
        await connection.execute(f"DROP TABLE {table}")
    await connection.close()

    connection = await open_database(path)
    try:
        async with connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
        ) as cursor:
            after = {row[0] for row in await cursor.fetchall()}
        async with connection.execute(
            "SELECT COUNT(*) FROM schema_migrations WHERE version = ?", (second.version,)
        ) as cursor:
            count = (await cursor.fetchone())[0]
    finally:
        await connection.close()

    assert count == 1
    assert after == before


def _tables_created_by(sql: str) -> list[str]:
    import re

    return re.findall(r"CREATE TABLE(?: IF NOT EXISTS)? (\w+)", sql)


async def test_file_that_is_not_a_database(tmp_path: Path) -> None:
    """Another kind of file at the path is reported with the path, not a traceback."""
    path = tmp_path / "notes.db"
    path.write_text("shopping list\n" * 100, encoding="utf-8")

    with pytest.raises(StorageError) as caught:
        await open_database(path)

    assert str(path) in str(caught.value)
    assert "file is not a database" in str(caught.value)


def test_command_reports_storage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "notes.db"
    path.write_text("shopping list\n" * 100, encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\npath = "{path}"\n', encoding="utf-8")

    status = main(["queue", "list", "--config", str(config)])

    assert status == 1
    error = capsys.readouterr().err
    assert error.startswith(f"sched-tui: cannot open the database {path} (")
    assert "Traceback" not in error
