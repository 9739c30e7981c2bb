"""The base of every screen: a banner area on top, then the screen's own body."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.screen import Screen

from sched_tui.tui.widgets.banner import BannerArea

if TYPE_CHECKING:
    from sched_tui.tui.app import SchedApp


class AppScreen(Screen[None]):
    """A screen with the shared banner area above its body.

    Subclasses implement `compose_body` instead of `compose`, so alerts appear in
    the same place on every screen.
    """

    def compose(self) -> ComposeResult:
        """Put the banner area first, then the body."""
        yield BannerArea(id="banners")
        yield from self.compose_body()

    def compose_body(self) -> ComposeResult:
        """Yield the screen's own widgets."""
        yield from ()

    def on_screen_resume(self) -> None:
        """Show the app's alert banners, which may have changed while this screen was hidden."""
        watch = getattr(self.app, "alert_watch", None)
        if watch is not None:
            watch.sync(self)

    @property
    def sched_app(self) -> SchedApp:
        """The running app, typed."""
        return cast("SchedApp", self.app)

    @property
    def banners(self) -> BannerArea:
        """This screen's banner area."""
        return self.query_one("#banners", BannerArea)
