"""Who may run admin actions such as cache invalidation.

Admins are the OS user names listed in ``[admin] users`` in config.toml. No
user is an admin by default, root included: test runs and CI often run as
root, and must not gain admin rights by accident.
"""

from __future__ import annotations

import getpass

from sched_tui.config import Config

NOT_ADMIN_MESSAGE = "needs admin rights: add your user name to [admin] users in config.toml"


def current_user() -> str | None:
    """Return the OS user name, or None when the system has none for this process."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return None


def is_admin(config: Config) -> bool:
    """Tell whether the OS user running this process is listed in ``[admin] users``."""
    user = current_user()
    return user is not None and user in config.admins
