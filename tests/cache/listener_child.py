"""A second running copy for the cross-process tests.

Usage: python listener_child.py DATABASE THERAPIST_ID

Caches one entry for THERAPIST_ID, polls the invalidation log of DATABASE,
prints "ready" once polling, then "invalidated <Unix time>" as soon as the
entry is gone, and exits. Exits with status 1 after 30 s without an invalidation.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from sched_tui.cache.control import CacheControl
from sched_tui.cache.store import AVAILABILITY, CacheKey, CacheStore, State


async def main(database: Path, therapist_id: str) -> int:
    store = CacheStore()
    key = CacheKey("practice", therapist_id, "week")
    store.namespace(AVAILABILITY).put(key, "cached week")
    gone = asyncio.Event()
    store.subscribe(
        lambda namespace, keys: (
            gone.set() if store.namespace(AVAILABILITY).lookup(key).state is State.MISSING else None
        )
    )
    control = await CacheControl.open(store, database)
    try:
        print("ready", flush=True)
        await asyncio.wait_for(gone.wait(), 30)
        print(f"invalidated {time.time():.6f}", flush=True)
        return 0
    except TimeoutError:
        print("timed out", flush=True)
        return 1
    finally:
        await control.aclose()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(Path(sys.argv[1]), sys.argv[2])))
