"""Invalidation shared through the SQLite database: in one process, across processes, by command."""

from __future__ import annotations

import asyncio
import getpass
import os
import sqlite3
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sched_tui.cache.admin import NOT_ADMIN_MESSAGE, is_admin, not_admin_message
from sched_tui.cache.control import CacheControl
from sched_tui.cache.invalidation import InvalidationLog
from sched_tui.cache.store import AVAILABILITY, SERVICES, CacheKey, CacheStore, State
from sched_tui.config import Config

from .conftest import FakeTimer, make_store

CHILD = Path(__file__).with_name("listener_child.py")
THERAPIST = "dr-ada"


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "shared.db"


@pytest.fixture
async def control(database: Path, timer: FakeTimer) -> AsyncIterator[CacheControl]:
    opened = await CacheControl.open(make_store(timer), database)
    yield opened
    await opened.aclose()


def _put(store: CacheStore, subject: str = THERAPIST) -> CacheKey:
    key = CacheKey("practice", subject, "week")
    store.namespace(AVAILABILITY).put(key, "cached week")
    return key


async def _start_child(database: Path) -> asyncio.subprocess.Process:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        str(CHILD),
        str(database),
        THERAPIST,
        stdout=asyncio.subprocess.PIPE,
    )
    assert child.stdout is not None
    line = await asyncio.wait_for(child.stdout.readline(), 20)
    assert line == b"ready\n"
    return child


async def _seen_at(child: asyncio.subprocess.Process) -> float:
    """Return the Unix time at which the child saw its entry invalidated."""
    assert child.stdout is not None
    line = await asyncio.wait_for(child.stdout.readline(), 10)
    word, seen_at = line.decode().split()
    assert word == "invalidated"
    assert await asyncio.wait_for(child.wait(), 10) == 0
    return float(seen_at)


def _written_at(database: Path) -> float:
    """Return the Unix time at which the newest invalidation row was written."""
    with sqlite3.connect(database) as connection:
        row = connection.execute("SELECT MAX(created_at) FROM cache_invalidations").fetchone()
    return float(row[0])


async def test_invalidation_reaches_other_copy(database: Path, timer: FakeTimer) -> None:
    # Without background polls, so the polls below are the only readers of the log.
    first = await CacheControl.open(make_store(timer), database, poll=False)
    second = await CacheControl.open(make_store(timer), database, poll=False)
    try:
        key = _put(second.store)
        _put(second.store, "dr-grace")

        removed = await first.invalidate(THERAPIST)
        applied = await second.poll_once()

        assert removed == 0
        assert [event.describe() for event in applied] == [f"key {THERAPIST}"]
        assert second.store.namespace(AVAILABILITY).lookup(key).state is State.MISSING
        assert second.store.stats().entries[AVAILABILITY] == 1
        assert await first.poll_once() == []
    finally:
        await first.aclose()
        await second.aclose()


async def test_namespace_and_all_reach_other_copy(database: Path, timer: FakeTimer) -> None:
    first = await CacheControl.open(make_store(timer), database, poll=False)
    second = await CacheControl.open(make_store(timer), database, poll=False)
    try:
        _put(second.store)
        second.store.namespace(SERVICES).put(CacheKey("practice"), ("service",))

        await first.invalidate_namespace(SERVICES)
        await second.poll_once()
        assert second.store.stats().entries == {"profiles": 0, "availability": 1, "services": 0}

        await first.invalidate_all()
        await second.poll_once()
        assert sum(second.store.stats().entries.values()) == 0
    finally:
        await first.aclose()
        await second.aclose()


async def test_local_invalidation_applies_at_once(control: CacheControl) -> None:
    key = _put(control.store)

    removed = await control.invalidate(THERAPIST)

    assert removed == 1
    assert control.store.namespace(AVAILABILITY).lookup(key).state is State.MISSING


async def test_unknown_namespace_writes_nothing(control: CacheControl, database: Path) -> None:
    with pytest.raises(ValueError, match="unknown cache namespace"):
        await control.invalidate_namespace("slots")

    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT COUNT(*) FROM cache_invalidations").fetchone()
    assert rows == (0,)


async def test_copy_skips_rows_before_start(database: Path, timer: FakeTimer) -> None:
    writer = await InvalidationLog.open(database)
    await writer.publish("all")
    late = await CacheControl.open(make_store(timer), database, poll=False)
    try:
        key = _put(late.store)
        assert await late.poll_once() == []
        assert late.store.namespace(AVAILABILITY).lookup(key).state is State.FRESH
    finally:
        await late.aclose()
        await writer.aclose()


async def test_prune_drops_only_old_rows(database: Path) -> None:
    now = [10_000.0]
    log = InvalidationLog((await InvalidationLog.open(database)).connection, clock=lambda: now[0])
    try:
        await log.publish("key", "old")
        now[0] += 4000
        await log.publish("key", "new")

        deleted = await log.prune(retention_s=3600)
        remaining = await log.recent()

        assert deleted == 1
        assert [event.key for event in remaining] == ["new"]
        assert remaining[0].origin_pid == os.getpid()
    finally:
        await log.aclose()


async def test_second_process_sees_invalidation_within_2_s(
    control: CacheControl, database: Path
) -> None:
    child = await _start_child(database)
    try:
        started = time.monotonic()
        await control.invalidate(THERAPIST)
        seen_at = await _seen_at(child)
        elapsed = time.monotonic() - started
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()

    assert elapsed < 2.0
    assert seen_at - _written_at(database) < 2.0


async def test_command_reaches_running_copy_within_2_s(database: Path, tmp_path: Path) -> None:
    config_file = tmp_path / "config.toml"
    config_file.write_text(
        f'[storage]\npath = "{database}"\n\n[admin]\nusers = ["{getpass.getuser()}"]\n',
        encoding="utf-8",
    )
    child = await _start_child(database)
    try:
        command = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "sched_tui",
            "--config",
            str(config_file),
            "cache",
            "invalidate",
            THERAPIST,
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "SCHED_TUI_LOG": str(tmp_path / "command.log")},
        )
        output, _ = await asyncio.wait_for(command.communicate(), 30)
        seen_at = await _seen_at(child)
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()

    assert command.returncode == 0
    assert f"invalidated key {THERAPIST}" in output.decode()
    # Both times come from the same host's wall clock.
    assert seen_at - _written_at(database) < 2.0


async def test_command_without_admin_rights_exits_2(tmp_path: Path) -> None:
    config_file = tmp_path / "config.toml"
    config_file.write_text(
        f'[storage]\npath = "{tmp_path / "shared.db"}"\n\n[admin]\nusers = ["someone-else"]\n',
        encoding="utf-8",
    )
    command = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sched_tui",
        "--config",
        str(config_file),
        "cache",
        "invalidate",
        "--all",
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "SCHED_TUI_LOG": str(tmp_path / "command.log")},
    )
    _, errors = await asyncio.wait_for(command.communicate(), 30)

    assert command.returncode == 2
    message = errors.decode()
    assert NOT_ADMIN_MESSAGE in message
    assert f'user "{getpass.getuser()}" is not listed in [admin] users of {config_file}' in message
    assert not (tmp_path / "shared.db").exists()


def test_is_admin_compares_user_name() -> None:
    user = getpass.getuser()

    assert is_admin(Config(admins=(user,)))
    assert not is_admin(Config(admins=()))
    assert not is_admin(Config(admins=(user + "-other",)))


def test_not_admin_message_says_how_in_demo() -> None:
    """With no config file the message names the user and how to start with one."""
    user = getpass.getuser()

    message = not_admin_message(Config())

    assert message.startswith(NOT_ADMIN_MESSAGE)
    assert f'user "{user}" is not an admin' in message
    assert f'[admin] users = ["{user}"]' in message
    assert "--config FILE" in message
