"""Helpers shared by the queue tests: a controlled clock, a scripted target, payloads."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from sched_tui.queue import Job

START = 1_800_000_000.0


class FakeClock:
    """A clock that moves only when told to, or when something sleeps on it."""

    def __init__(self, start: float = START) -> None:
        self.time = start
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.time

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.time += max(0.0, seconds)
        await asyncio.sleep(0)

    def advance(self, seconds: float) -> None:
        self.time += seconds


class ScriptedTarget:
    """A target that answers each send with the next scripted step, recording the time.

    A step is an exception to raise, a callable taking the job, or None for success.
    With no steps left, every send succeeds.
    """

    def __init__(self, clock: FakeClock, steps: list[Any] | None = None) -> None:
        self.clock = clock
        self.steps = list(steps or [])
        self.sends: list[tuple[float, str]] = []
        self.reconciles: list[str] = []
        self.landed: set[str] = set()

    async def send(self, job: Job) -> Mapping[str, Any] | None:
        self.sends.append((self.clock.now(), job.job_id))
        step = self.steps.pop(0) if self.steps else None
        if isinstance(step, BaseException):
            raise step
        if callable(step):
            return await step(job)
        self.landed.add(job.idempotency_key)
        return {"appointment_id": f"appt-{job.job_id[:8]}"}

    async def reconcile(self, job: Job) -> Mapping[str, Any] | None:
        self.reconciles.append(job.job_id)
        if job.idempotency_key in self.landed:
            return {"appointment_id": f"appt-{job.job_id[:8]}", "reconciled": True}
        return None

    async def aclose(self) -> None:
        return None


def create_payload(index: int) -> dict[str, Any]:
    """A create payload shaped like Zocdoc's BookAppointmentRequestBody, with invented data."""
    return {
        "appointment_type": "providers",
        "data": {
            "start_time": f"2027-01-{(index % 28) + 1:02d}T10:00:00-05:00",
            "patient": {"developer_patient_id": f"patient-{index}", "first_name": "Test"},
        },
    }
