"""Run the real TUI headless on a config, enqueueing bookings while its embedded processor runs.

Usage: python tui_process.py CONFIG PAYLOADS_JSON

Starts `SchedApp` with Textual's headless test driver, so the app opens its
services and its write queue as it does in a terminal. Each payload is queued
through `QueueLink.enqueue`, the function the booking form calls; every 50
bookings the script presses "s" (send now) on the calendar. It quits with "q"
once the queue is empty.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from sched_tui.config import load_config
from sched_tui.logs import configure_logging
from sched_tui.tui.app import SchedApp


async def main(config_path: str, payloads: list[dict[str, object]]) -> int:
    configure_logging()
    app = SchedApp(load_config(config_path))
    async with app.run_test(headless=True, size=(100, 30)) as pilot:
        runtime = await app.queue.wait()
        for index, payload in enumerate(payloads):
            await app.queue.enqueue("zocdoc", "create", payload, subject_id=f"tui-{index}")
            if index % 50 == 49:
                await pilot.press("s")
        while (await runtime.stats()).depth > 0:
            await pilot.pause(0.05)
        await pilot.press("q")
    return 0 if app.return_value == 0 else 1


if __name__ == "__main__":
    bookings = json.loads(Path(sys.argv[2]).read_text(encoding="utf-8"))
    sys.exit(asyncio.run(main(sys.argv[1], bookings)))
