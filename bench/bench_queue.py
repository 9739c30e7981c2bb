"""Benchmark the write queue against huey's SqliteHuey, measured in the same run.

Usage: .venv/bin/python bench/bench_queue.py [--ops N] [--depths 1000,100000]

For each queue depth, both queues are first filled to that depth (not timed).
Then, at that depth, the script times:

- enqueue: `ops` single enqueues, each its own transaction, with a booking-sized
  JSON payload (sched-tui: `QueueStore.enqueue`; huey: calling a task);
- claim and complete: `ops` jobs taken and finished with a target that does
  nothing (sched-tui: `Processor.run_once` with `NoopTarget`, batch 100, no rate
  limit; huey: `dequeue` then `execute` of a no-op task, results off).

Both use one SQLite file each in WAL mode in a temporary folder. sched-tui's
claim and complete writes three times per job (lease, in-flight mark, outcome)
to keep its delivery guarantees; huey deletes the row once on dequeue.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from huey import SqliteHuey

from sched_tui.config import QueueConfig
from sched_tui.queue import NewJob, NoopTarget, Processor, QueueStore

PAYLOAD: dict[str, Any] = {
    "appointment_type": "providers",
    "data": {
        "start_time": "2027-03-04T10:00:00-05:00",
        "visit_reason_id": "pc_FRO-18leckytNKtruw5dLR",
        "provider_location_id": "pr_abc123-def456_wxyz7890|lo_abc123-def456_wxyz7890",
        "patient_type": "existing",
        "notes": "Benchmark booking with invented data.",
        "patient": {
            "developer_patient_id": "bench-patient",
            "first_name": "Bench",
            "last_name": "Mark",
            "date_of_birth": "1980-01-01",
            "sex_at_birth": "female",
            "phone_number": "5550100000",
            "email_address": "bench@example.test",
            "patient_address": {
                "address1": "1 Test St",
                "city": "New York",
                "state": "NY",
                "zip_code": "10001",
            },
        },
    },
}
SETTINGS = replace(QueueConfig(), batch_size=100, default_rate_limit_per_s=0.0)


async def measure_sched_tui(folder: Path, depth: int, ops: int) -> tuple[float, float]:
    """Return (enqueues per second, claims and completes per second) at `depth`."""
    store = await QueueStore.open(folder / "sched-tui.db")
    try:
        await store.enqueue_many(NewJob("zocdoc", "create", PAYLOAD) for _ in range(depth))

        started = time.perf_counter()
        for _ in range(ops):
            await store.enqueue("zocdoc", "create", PAYLOAD)
        enqueue_rate = ops / (time.perf_counter() - started)

        processor = Processor(store, {"zocdoc": NoopTarget()}, SETTINGS)
        done = 0
        started = time.perf_counter()
        while done < ops:
            done += (await processor.run_once()).processed
        complete_rate = done / (time.perf_counter() - started)
    finally:
        await store.aclose()
    return enqueue_rate, complete_rate


def measure_huey(folder: Path, depth: int, ops: int) -> tuple[float, float]:
    """Return (enqueues per second, dequeues and executes per second) at `depth`."""
    huey = SqliteHuey(filename=str(folder / "huey.db"), results=False)

    @huey.task()
    def noop(payload: dict[str, Any]) -> None:
        return None

    for _ in range(depth):
        noop(PAYLOAD)

    started = time.perf_counter()
    for _ in range(ops):
        noop(PAYLOAD)
    enqueue_rate = ops / (time.perf_counter() - started)

    started = time.perf_counter()
    for _ in range(ops):
        task = huey.dequeue()
        huey.execute(task)
    complete_rate = ops / (time.perf_counter() - started)
    huey.storage.close()
    return enqueue_rate, complete_rate


def main() -> None:
    """Run both queues at each depth and print rates and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=2000, help="timed operations per measurement")
    parser.add_argument("--depths", default="1000,100000", help="comma-separated queue depths")
    args = parser.parse_args()
    depths = [int(depth) for depth in args.depths.split(",")]

    print(f"payload {len(json.dumps(PAYLOAD))} bytes of JSON, {args.ops} timed operations each")
    header = f"{'depth':>8}  {'measure':<20}{'sched-tui /s':>14}{'huey /s':>12}{'ratio':>8}"
    print(header)
    for depth in depths:
        with tempfile.TemporaryDirectory() as temp:
            ours = asyncio.run(measure_sched_tui(Path(temp), depth, args.ops))
        with tempfile.TemporaryDirectory() as temp:
            anchor = measure_huey(Path(temp), depth, args.ops)
        for label, mine, theirs in (
            ("enqueue", ours[0], anchor[0]),
            ("claim and complete", ours[1], anchor[1]),
        ):
            print(f"{depth:>8}  {label:<20}{mine:>14,.0f}{theirs:>12,.0f}{mine / theirs:>8.2f}")


if __name__ == "__main__":
    main()
