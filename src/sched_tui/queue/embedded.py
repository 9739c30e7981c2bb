"""Write targets for a queue embedded in a running copy that also reads the same providers.

The in-process Zocdoc sandbox lives inside its `ZocdocProvider`: a second
provider built from the same config entry would serve a second, separate
sandbox, and a booking sent there would never show in the calendar. So a
target whose provider is an in-process sandbox reuses the reading provider.
Targets for a real API (with ``base_url``) get their own provider, as in
``sched-tui worker``, because they reach the same server either way.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

from sched_tui.config import Config
from sched_tui.providers.base import Provider
from sched_tui.providers.zocdoc import ZocdocProvider
from sched_tui.queue.runtime import build_targets
from sched_tui.queue.targets import WriteTarget
from sched_tui.queue.zocdoc import ZocdocTarget

log = logging.getLogger(__name__)


class SharedZocdocTarget(ZocdocTarget):
    """A Zocdoc target on a provider that the reading side owns and closes.

    NOTE: the lookups `reconcile` makes (GET requests) use the reading
    provider's retry policy, unlike `ZocdocTarget.from_config`, which turns read
    retries off. Writes (POST requests) are never retried by the provider.
    """

    async def aclose(self) -> None:
        """Leave the provider open; its owner closes it."""


def build_embedded_targets(config: Config, providers: Sequence[Provider]) -> dict[str, WriteTarget]:
    """Build a target for every Zocdoc entry that `providers` reads, sharing in-process sandboxes.

    Entries that no reading provider has by name get no target, so a copy
    writes only to what it shows.
    """
    reading = {provider.name: provider for provider in providers}
    entries = tuple(
        entry for entry in config.providers if entry.kind == "zocdoc" and entry.name in reading
    )
    shared = {
        name: provider
        for name, provider in reading.items()
        if isinstance(provider, ZocdocProvider) and provider.sandbox is not None
    }
    own = tuple(entry for entry in entries if entry.name not in shared)
    targets = build_targets(replace(config, providers=own)) if own else {}
    for entry in entries:
        if entry.name in shared:
            targets[entry.name] = SharedZocdocTarget(shared[entry.name])
            log.info("write target %s shares the in-process sandbox of the calendar", entry.name)
    return targets
