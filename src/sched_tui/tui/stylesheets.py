"""Find the app's stylesheets whether installed from a wheel or run from the source tree."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def stylesheet_path(name: str) -> Path:
    """Return the path of stylesheet `name`.

    A wheel ships the top-level `styles/` folder as `sched_tui/styles/`; an
    editable install has no such folder, so the repository's `styles/` is used.
    """
    packaged = resources.files("sched_tui").joinpath("styles", name)
    if packaged.is_file():
        # NOTE: assumes the package is unpacked on disk (a wheel install), not zipped.
        return Path(str(packaged))
    return Path(__file__).resolve().parents[3] / "styles" / name
