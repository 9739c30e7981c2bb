"""Run the write queue as the TUI embeds it, for multi-process tests.

Usage: python tui_stand_in.py CONFIG PAYLOADS_JSON

Opens a `QueueRuntime` from the config, starts its processor as an asyncio task
(as the TUI does on mount), enqueues each payload as a Zocdoc booking while the
processor runs, presses "send now" (`drain_now`) every 50 enqueues, and exits
once the queue is empty.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from sched_tui.config import load_config
from sched_tui.logs import configure_logging
from sched_tui.queue import QueueRuntime


async def main(config_path: str, payloads: list[dict[str, object]]) -> int:
    configure_logging()
    runtime = await QueueRuntime.open(load_config(config_path))
    runtime.processor.start()
    try:
        for index, payload in enumerate(payloads):
            await runtime.enqueue("zocdoc", "create", payload, subject_id=f"tui-{index}")
            if index % 50 == 49:
                await runtime.processor.drain_now()
        while (await runtime.stats()).depth > 0:  # noqa: ASYNC110 - other processes change it
            await asyncio.sleep(0.05)
    finally:
        await runtime.aclose()
    return 0


if __name__ == "__main__":
    bookings = json.loads(Path(sys.argv[2]).read_text(encoding="utf-8"))
    sys.exit(asyncio.run(main(sys.argv[1], bookings)))
