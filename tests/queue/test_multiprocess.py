"""Several processes on one database file: `sched-tui worker` processes and a TUI process.

The TUI process (`tui_process.py`) runs the real app headless with its embedded
processor, queueing bookings through the booking form's enqueue function while
it processes, and pressing "send now".
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from queue_sandbox import (
    ID_ENV,
    SECRET_ENV,
    QueueSandbox,
    start_sandbox,
    wait_until,
    write_config,
)

from sched_tui.queue import NewJob, QueueStore, Status
from sched_tui.sandbox import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

HERE = Path(__file__).parent


@pytest.fixture
def sandbox() -> Iterator[QueueSandbox]:
    running, server = start_sandbox()
    yield running
    server.stop()


@pytest.fixture
def child_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env[ID_ENV] = DEMO_CLIENT_ID
    env[SECRET_ENV] = DEMO_CLIENT_SECRET
    env["SCHED_TUI_LOG"] = str(tmp_path / "sched-tui.log")
    env.pop("SCHED_TUI_CONFIG", None)
    return env


def test_thousand_jobs_exactly_once(
    sandbox: QueueSandbox, tmp_path: Path, child_env: dict[str, str]
) -> None:
    """Two workers and a TUI process share 1,000 bookings: each is sent exactly once."""
    db_path = tmp_path / "queue.db"
    config = write_config(
        tmp_path / "config.toml",
        sandbox,
        db_path,
        "interval_s = 0.05\nbatch_size = 25\nlease_s = 30\ncall_timeout_s = 10\n"
        "default_rate_limit_per_s = 0\nbackoff_base_s = 0.05\nbackoff_cap_s = 0.5",
    )
    payloads = sandbox.booking_payloads(1000)
    asyncio.run(_enqueue(db_path, payloads[:700]))
    tui_payloads = tmp_path / "tui-payloads.json"
    tui_payloads.write_text(json.dumps(payloads[700:]), encoding="utf-8")

    workers = [_spawn_worker(config, child_env, tmp_path, f"worker{i}") for i in range(2)]
    tui = _spawn(
        [sys.executable, str(HERE / "tui_process.py"), str(config), str(tui_payloads)],
        child_env,
        tmp_path,
        "tui",
    )
    try:
        assert _wait_while_progressing(tui, db_path) == 0
        wait_until(lambda: _counts(db_path)["processed"] == 1000, 30, "1,000 processed jobs")
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        exit_codes = [worker.wait(timeout=20) for worker in workers]

    assert exit_codes == [0, 0]
    counts = _counts(db_path)
    assert counts == {"pending": 0, "processing": 0, "processed": 1000, "failed": 0}
    keys = _column(db_path, "idempotency_key")
    arrivals = Counter(arrival.idempotency_key for arrival in sandbox.recorder.bookings())
    assert set(arrivals) == set(keys)
    assert set(arrivals.values()) == {1}
    assert sandbox.state.bookings_created == 1000
    assert set(_column(db_path, "attempts")) == {1}
    assert len(set(_column(db_path, "lease_owner"))) >= 2
    _assert_no_lock_errors(tmp_path)


def test_sigkill_mid_batch_recovers(
    sandbox: QueueSandbox, tmp_path: Path, child_env: dict[str, str]
) -> None:
    """A worker killed mid-batch: unsent jobs return to pending, the sent one is reconciled."""
    db_path = tmp_path / "queue.db"
    config = write_config(
        tmp_path / "config.toml",
        sandbox,
        db_path,
        "interval_s = 0.05\nbatch_size = 10\nlease_s = 5\ncall_timeout_s = 1.5\n"
        "default_rate_limit_per_s = 0\nbackoff_base_s = 0.05\nbackoff_cap_s = 0.5",
    )
    asyncio.run(_enqueue(db_path, sandbox.booking_payloads(10)))
    # The fourth booking is held longest, so the kill lands while it is held.
    sandbox.recorder.delays.extend([0.25, 0.25, 0.25, 1.2] + [0.25] * 6)

    worker = _spawn_worker(config, child_env, tmp_path, "doomed")
    totals = []
    try:
        # Kill while the fourth booking is held by the server: three done, one in flight.
        while len(sandbox.recorder.booking_keys_seen) < 4:
            totals.append(sum(_counts(db_path).values()))
            assert worker.poll() is None, "the worker exited before it was killed"
            time.sleep(0.01)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    assert set(totals) == {10}
    in_flight_key = sandbox.recorder.booking_keys_seen[3]

    after_kill = _counts(db_path)
    assert sum(after_kill.values()) == 10
    assert after_kill["processed"] == 3
    assert after_kill["processing"] == 7
    sent_before_kill = set(sandbox.recorder.booking_keys_seen)

    # The held booking still takes effect; then the batch's leases run out.
    wait_until(
        lambda: in_flight_key in {a.idempotency_key for a in sandbox.recorder.bookings()},
        10,
        "the held booking to be answered",
    )
    time.sleep(max(0.0, _latest_lease_end(db_path) - time.time()) + 0.1)
    recovered = asyncio.run(_recover(db_path))
    for job in recovered:
        if job.status is Status.PROCESSED:
            continue
        assert job.status is Status.PENDING
        if job.ambiguous:
            assert job.takeovers == 1
        else:
            assert job.idempotency_key not in sent_before_kill
    [ambiguous] = [job for job in recovered if job.ambiguous]
    assert ambiguous.idempotency_key == in_flight_key
    assert ambiguous.status is Status.PENDING

    finisher = _spawn([*_cli(config), "worker", "--once"], child_env, tmp_path, "finisher")
    assert finisher.wait(timeout=30) == 0

    final = asyncio.run(_recover(db_path))
    assert {job.status for job in final} == {Status.PROCESSED}
    arrivals = Counter(arrival.idempotency_key for arrival in sandbox.recorder.bookings())
    assert set(arrivals.values()) == {1}
    assert set(arrivals) == {job.idempotency_key for job in final}
    assert sandbox.state.bookings_created == 10
    [reconciled] = [job for job in final if job.idempotency_key == in_flight_key]
    assert reconciled.result is not None
    assert reconciled.result.get("reconciled") is True
    _assert_no_lock_errors(tmp_path)


async def _enqueue(db_path: Path, payloads: list[dict[str, object]]) -> None:
    store = await QueueStore.open(db_path)
    try:
        await store.enqueue_many(NewJob("zocdoc", "create", payload) for payload in payloads)
    finally:
        await store.aclose()


async def _recover(db_path: Path) -> list:  # type: ignore[type-arg]
    store = await QueueStore.open(db_path)
    try:
        await store.recover_expired()
        return await store.list_jobs(limit=10_000)
    finally:
        await store.aclose()


def _counts(db_path: Path) -> dict[str, int]:
    counts = dict.fromkeys(("pending", "processing", "processed", "failed"), 0)
    with sqlite3.connect(db_path, timeout=10) as connection:
        rows = connection.execute("SELECT status, COUNT(*) FROM api_write_queue GROUP BY status")
        counts.update(dict(rows.fetchall()))
    return counts


def _latest_lease_end(db_path: Path) -> float:
    with sqlite3.connect(db_path, timeout=10) as connection:
        [(end,)] = connection.execute("SELECT MAX(lease_expires_at) FROM api_write_queue")
    return float(end or 0.0)


def _wait_while_progressing(
    process: subprocess.Popen[bytes], db_path: Path, stall_s: float = 30.0
) -> int:
    """Wait for `process` to exit while the processed count keeps rising; return its code.

    Fails when no job was processed for `stall_s` seconds, rather than after a
    fixed total time that a slow machine could exceed while making progress.
    """
    last_count, last_change = -1, time.monotonic()
    while True:
        try:
            return process.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            pass
        count = _counts(db_path)["processed"]
        if count != last_count:
            last_count, last_change = count, time.monotonic()
        elif time.monotonic() - last_change > stall_s:
            raise AssertionError(f"no job processed for {stall_s:g} s (stuck at {count})")


def _column(db_path: Path, column: str) -> list[object]:
    with sqlite3.connect(db_path, timeout=10) as connection:
        return [row[0] for row in connection.execute(f"SELECT {column} FROM api_write_queue")]


def _cli(config: Path) -> list[str]:
    return [sys.executable, "-m", "sched_tui", "--config", str(config)]


def _spawn_worker(
    config: Path, env: dict[str, str], folder: Path, name: str
) -> subprocess.Popen[bytes]:
    return _spawn([*_cli(config), "worker"], env, folder, name)


def _spawn(
    command: list[str], env: dict[str, str], folder: Path, name: str
) -> subprocess.Popen[bytes]:
    stderr = (folder / f"{name}.stderr").open("wb")
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=stderr)


def _assert_no_lock_errors(folder: Path) -> None:
    for path in [*folder.glob("*.stderr"), *folder.glob("sched-tui.log*")]:
        text = path.read_text(encoding="utf-8", errors="replace")
        assert "database is locked" not in text, f"{path.name} reports a locked database"
        assert "Traceback" not in text, f"{path.name} contains a traceback"
