"""``sched-tui queue``: list, stats, retry and cancel against a real database file."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from sched_tui.cli import main
from sched_tui.queue import QueueStore


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[storage]\npath = "{tmp_path / "queue.db"}"\n', encoding="utf-8")
    return path


def _seed(config_file: Path) -> dict[str, str]:
    """Store a pending, a processed and a failed job; return their ids by state."""

    async def seed() -> dict[str, str]:
        store = await QueueStore.open(config_file.parent / "queue.db")
        try:
            ids = {}
            for state in ("processed", "failed", "pending"):
                job = await store.enqueue("zocdoc", "cancel", {"appointment_id": state})
                ids[state] = job.job_id
            done, failing = await store.claim(2, lease_s=30)
            await store.complete(done)
            await store.fail(failing, "ProviderRejected (HTTP 400): slot taken")
            return ids
        finally:
            await store.aclose()

    return asyncio.run(seed())


def _run(capsys: pytest.CaptureFixture[str], config: Path, *argv: str) -> tuple[int, str, str]:
    status = main(["queue", *argv, "--config", str(config)])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_list_and_stats_json(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ids = _seed(config_file)

    status, out, _ = _run(capsys, config_file, "list", "--json")
    listed = {job["job_id"]: job["status"] for job in json.loads(out)}
    assert status == 0
    assert listed == {ids["pending"]: "pending", ids["failed"]: "failed"}

    status, out, _ = _run(capsys, config_file, "stats", "--json")
    stats = json.loads(out)
    assert status == 0
    assert (stats["pending"], stats["processed"], stats["failed"]) == (1, 1, 1)
    assert stats["cancelled"] == 0
    assert stats["total"] == 3


def test_cancel_failed_job_leaves_failed_count(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A cancelled job counts as cancelled, not failed, and cannot be cancelled twice."""
    ids = _seed(config_file)

    status, out, _ = _run(capsys, config_file, "cancel", ids["failed"])
    assert status == 0
    assert out == f"job {ids['failed']} cancelled\n"

    status, out, err = _run(capsys, config_file, "cancel", ids["failed"])
    assert status == 1
    assert out == ""
    assert "already cancelled" in err

    _, out, _ = _run(capsys, config_file, "stats", "--json")
    stats = json.loads(out)
    assert (stats["failed"], stats["cancelled"], stats["total"]) == (0, 1, 3)

    _, out, _ = _run(capsys, config_file, "list")
    assert ids["failed"] not in out
    _, out, _ = _run(capsys, config_file, "list", "--status", "cancelled")
    [row, error] = out.splitlines()[1:]
    assert row.startswith(ids["failed"])
    assert " cancelled " in row
    assert error.strip() == "last error: cancelled by user"
    _, out, _ = _run(capsys, config_file, "list", "--status", "cancelled", "--json")
    [listed] = json.loads(out)
    assert listed["status"] == "cancelled"
    assert listed["cancelled_at"] is not None


def test_retry_brings_cancelled_job_back(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = _seed(config_file)
    _run(capsys, config_file, "cancel", ids["pending"])

    status, out, _ = _run(capsys, config_file, "retry", ids["pending"])

    assert status == 0
    assert out == f"job {ids['pending']} is pending, due now\n"
    _, out, _ = _run(capsys, config_file, "stats", "--json")
    assert (json.loads(out)["pending"], json.loads(out)["cancelled"]) == (1, 0)


@pytest.mark.parametrize("action", ["retry", "cancel"])
def test_processed_or_unknown_job_exits_1(
    config_file: Path, capsys: pytest.CaptureFixture[str], action: str
) -> None:
    ids = _seed(config_file)

    status, _, err = _run(capsys, config_file, action, ids["processed"])
    assert status == 1
    assert "it is processed" in err

    status, _, err = _run(capsys, config_file, action, "no-such-job")
    assert status == 1
    assert "job no-such-job not found" in err


def test_job_id_start_is_enough(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The first characters shown in the queue pane pick the job, as the full id does."""
    ids = _seed(config_file)

    status, out, _ = _run(capsys, config_file, "cancel", ids["pending"][:8])

    assert status == 0
    assert out == f"job {ids['pending']} cancelled\n"
    status, _, err = _run(capsys, config_file, "retry", "")
    assert status == 1
    assert "no job id given" in err


def test_text_list_in_practice_time(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Times read as in the TUI, in the practice's zone; only pending jobs show a next attempt."""
    ids = _seed(config_file)

    _, out, _ = _run(capsys, config_file, "list")

    header, *lines = out.splitlines()
    assert header.split()[:4] == ["JOB", "ID", "QUEUED", "TARGET"]
    rows = {line.split()[0]: line for line in lines if not line.startswith("    ")}
    assert rows[ids["failed"]].endswith("  -")
    queued = datetime.now(ZoneInfo("America/New_York"))
    assert f"{queued:%a %d %b}" in rows[ids["pending"]]
    assert "+00:00" not in out
