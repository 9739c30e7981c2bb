"""The TUI side of the cache: admin invalidation and reloading after cache changes.

* `invalidate_therapist` and `invalidate_all` run the admin actions behind the
  key bindings. A user not listed in ``[admin] users`` gets an error
  notification and nothing is invalidated. An admin confirms first, then the
  invalidation goes through `CacheControl`, which also writes it to the shared
  database so every other running copy applies it.
* `CacheSync` subscribes a calendar screen to its copy's cache. After a
  background refresh or any invalidation, including one read from another
  copy, it reloads the visible week once the changes pause for `RELOAD_DELAY_S`,
  unless a query started after the last change already reads the new state. The
  reload goes through the screen's exclusive fetch worker, so a result overtaken
  by a newer query is dropped, never painted.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.screen import ModalScreen
from textual.timer import Timer

from sched_tui.cache.admin import current_user, is_admin, not_admin_message
from sched_tui.cache.control import CacheControl
from sched_tui.cache.store import CacheKey
from sched_tui.tui.cache_marks import cache_short_text, cache_text, cell_therapists
from sched_tui.tui.lifecycle import ServicesUnavailable
from sched_tui.tui.screens.confirm import ConfirmScreen
from sched_tui.tui.screens.pick_therapist import PickTherapistScreen
from sched_tui.tui.widgets.status_line import StatusLine

if TYPE_CHECKING:
    from sched_tui.tui.app import SchedApp
    from sched_tui.tui.screens.calendar import CalendarScreen

log = logging.getLogger(__name__)

# Quiet time after the last cache change before the visible week is reloaded, in
# seconds. An invalidation reaches another copy within one poll period (0.5 s by
# default), so a reload starts well within the 2 s an invalidation may take to reach a copy.
RELOAD_DELAY_S = 0.25
NOTIFY_TITLE = "Cache"


class CacheSync:
    """Keeps one calendar screen in step with its copy's cache, and its "cache" status segment."""

    def __init__(self, screen: CalendarScreen, *, delay_s: float = RELOAD_DELAY_S) -> None:
        self.screen = screen
        self.delay_s = delay_s
        self.cache: CacheControl | None = None
        self._timer: Timer | None = None
        # The screen's query generation when the latest change was noticed.
        self._generation_at_change = 0
        self._unsubscribe: Callable[[], None] | None = None
        self._closed = False

    def start(self) -> None:
        """Subscribe to the cache once the services have started."""
        self.screen.run_worker(
            self._subscribe(), group="cache-subscribe", exclusive=True, exit_on_error=False
        )

    def close(self) -> None:
        """Stop the pending reload and unsubscribe, so later cache changes are ignored."""
        self._closed = True
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def show_stats(self) -> None:
        """Show the hit ratio and entry count in the status line's "cache" segment."""
        if self.cache is None or self._closed:
            return
        status = self.screen.query_one(StatusLine)
        stats = self.cache.stats()
        status.set_segment("cache", cache_text(stats), short=cache_short_text(stats))

    def reload_now(self) -> None:
        """Reload the visible week after the messages already queued, instead of after a pause.

        Deferred through the screen's message queue, so the change notice of an
        invalidation made just before is handled first and starts no second reload.
        """
        self.screen.call_later(self._reload)

    async def _subscribe(self) -> None:
        try:
            services = await self.screen.sched_app.wait_for_services()
        except ServicesUnavailable:
            return
        if services.cache is None or self._closed:
            return
        self.cache = services.cache
        self._unsubscribe = services.cache.subscribe(self._on_cache_change)
        self.show_stats()

    def _on_cache_change(self, namespace: str | None, keys: tuple[CacheKey, ...] | None) -> None:
        # The store calls this from an invalidation or a fetch task, so the work
        # moves to the screen's message loop. The generation is read now: a query
        # started after this point reads the changed cache.
        if not self._closed:
            self._generation_at_change = self.screen.generation
            self.screen.call_later(self._schedule_reload)

    def _schedule_reload(self) -> None:
        # A debounce: a new change stops the pending timer and starts another.
        if self._closed:
            return
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.screen.set_timer(
            self.delay_s, self._reload_if_behind, name="cache-reload"
        )
        self.show_stats()

    def _reload_if_behind(self) -> None:
        if self.screen.generation != self._generation_at_change:
            # Someone (a key press, a write's own reload) queried after the change.
            self._timer = None
            return
        self._reload()

    def _reload(self) -> None:
        if self._closed:
            return
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        log.debug("reloading the visible week after a cache change")
        self.screen.action_refresh()


def invalidate_therapist(screen: CalendarScreen) -> None:
    """Invalidate the cached data of the selected cell's therapist, after checks and confirmation.

    A cell with one therapist names it. With several, the user picks one from a
    list. With none, a notification requests a cell with an appointment or slot.
    """
    app = screen.sched_app
    if not _check_admin(app):
        return
    screen.run_worker(
        _invalidate_therapist(screen), group="cache-invalidate", exclusive=True, exit_on_error=False
    )


def invalidate_all(app: SchedApp) -> None:
    """Invalidate every cached entry in every running copy, after checks and confirmation."""
    if not _check_admin(app):
        return
    app.run_worker(
        _invalidate_all(app), group="cache-invalidate", exclusive=True, exit_on_error=False
    )


def _check_admin(app: SchedApp) -> bool:
    """Tell whether the user may invalidate; notify and log the rejection when not."""
    if isinstance(app.screen, ModalScreen):
        # A dialog is open (perhaps this action's own); one question at a time.
        app.bell()
        return False
    if is_admin(app.config):
        return True
    log.info("rejected cache invalidation by user %s: not an admin", current_user() or "(unknown)")
    app.notify(not_admin_message(app.config), title=NOTIFY_TITLE, severity="error", markup=False)
    return False


def _cache_of(app: SchedApp) -> CacheControl | None:
    """Return the running copy's cache, notifying why not when it has none yet."""
    services = app.services.services
    if services is None:
        reason = app.services.error or "the services are still starting; try again in a moment"
        app.notify(f"cache not available: {reason}", title=NOTIFY_TITLE, severity="warning")
        return None
    if services.cache is None:
        app.notify("this copy reads providers without a cache", title=NOTIFY_TITLE)
        return None
    return services.cache


async def _invalidate_therapist(screen: CalendarScreen) -> None:
    app = screen.sched_app
    cache = _cache_of(app)
    if cache is None:
        return

    _, _, cell = screen.selected_cell()
    therapists = cell_therapists(cell) if cell is not None else {}
    if not therapists:
        app.notify(
            "select a cell with an appointment or open slot; its therapist's data is invalidated",
            title=NOTIFY_TITLE,
            severity="warning",
        )
        return
    if len(therapists) == 1:
        therapist_id = next(iter(therapists))
    else:
        picked = await app.push_screen_wait(
            PickTherapistScreen("Invalidate the cached data of which therapist?", therapists)
        )
        if picked is None:
            return
        therapist_id = picked
    name = therapists[therapist_id]

    question = (
        f"Invalidate the cached data of {name} ({therapist_id}) in every running copy?"
        " The visible week is then fetched again from the provider."
    )
    if not await app.push_screen_wait(ConfirmScreen(question, confirm_label="Invalidate")):
        return

    try:
        removed = await cache.invalidate(therapist_id)
    except sqlite3.Error as error:
        _report_unshared(app, f"therapist {therapist_id}", error)
    else:
        log.info("invalidated %d cache entries of therapist %s", removed, therapist_id)
        app.notify(
            f"invalidated {removed} cached entries of {name}", title=NOTIFY_TITLE, markup=False
        )
    screen.cache_sync.reload_now()


async def _invalidate_all(app: SchedApp) -> None:
    cache = _cache_of(app)
    if cache is None:
        return

    question = (
        "Invalidate every cached entry in every running copy?"
        " Every week shown is then fetched again from the providers."
    )
    if not await app.push_screen_wait(ConfirmScreen(question, confirm_label="Invalidate all")):
        return

    try:
        removed = await cache.invalidate_all()
    except sqlite3.Error as error:
        _report_unshared(app, "the whole cache", error)
    else:
        log.info("invalidated the whole cache (%d entries)", removed)
        app.notify(f"invalidated all {removed} cached entries", title=NOTIFY_TITLE)

    # Other calendar screens (in other modes) reload through their own `CacheSync`.
    for screen in app.screen_stack:
        sync = getattr(screen, "cache_sync", None)
        if isinstance(sync, CacheSync):
            sync.reload_now()


def _report_unshared(app: SchedApp, target: str, error: sqlite3.Error) -> None:
    """Report an invalidation applied here but not written to the shared database."""
    log.error("invalidation of %s not shared with other copies: %s", target, error)
    app.notify(
        f"invalidated {target} in this copy only: writing to the shared database failed"
        f" ({error}); other copies keep their data until it expires",
        title=NOTIFY_TITLE,
        severity="error",
        markup=False,
    )
