"""The banner area at the top of every screen, for alerts that need attention.

Each banner has a key, so the code that raised an alert can replace or
withdraw it. Severity shows as a text prefix as well as a style, so it reads
without colour.
"""

from __future__ import annotations

from contextlib import suppress

from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.widgets import Static

SEVERITY_PREFIXES = {"info": "• ", "warning": "⚠ ", "error": "✗ ", "critical": "✖ "}


class BannerArea(Vertical):
    """A stack of one-line banners; it takes no space while empty."""

    def show(
        self,
        key: str,
        text: str,
        severity: str = "warning",
        *,
        acknowledged: bool = False,
        one_line: bool = False,
    ) -> None:
        """Show or replace the banner `key`.

        `severity` is "info", "warning", "error" or "critical". An `acknowledged`
        banner stays but is styled as seen (class ``-acknowledged``). A `one_line`
        banner is cut with an ellipsis instead of wrapping (class ``-one-line``).
        """
        if severity not in SEVERITY_PREFIXES:
            raise ValueError(
                f"invalid banner severity {severity!r}; expected one of {list(SEVERITY_PREFIXES)}"
            )
        label = SEVERITY_PREFIXES[severity] + text
        try:
            banner = self.query_one(f"#banner-{key}", Static)
        except NoMatches:
            banner = Static(label, id=f"banner-{key}", classes="banner", markup=False)
            self.mount(banner)
        else:
            banner.update(label)
        for name in SEVERITY_PREFIXES:
            banner.set_class(name == severity, f"-{name}")
        banner.set_class(acknowledged, "-acknowledged")
        banner.set_class(one_line, "-one-line")

    def withdraw(self, key: str) -> None:
        """Remove the banner `key` if it is shown."""
        with suppress(NoMatches):
            self.query_one(f"#banner-{key}", Static).remove()
