"""Who may run admin actions such as cache invalidation.

Admins are the OS user names listed in ``[admin] users`` in config.toml. No
user is an admin by default, root included: test runs and CI often run as
root, and must not gain admin rights by accident.
"""

from __future__ import annotations

import getpass

from sched_tui.config import Config

NOT_ADMIN_MESSAGE = "needs admin rights"


def not_admin_message(config: Config) -> str:
    """Explain the rejection: which user, which file, and how to become an admin."""
    user = current_user()
    user_text = f'user "{user}"' if user else "this process's user (the system reports no name)"
    if config.source is None:
        return (
            f"{NOT_ADMIN_MESSAGE}: {user_text} is not an admin, and the embedded default lists "
            f'none; write a config file with [admin] users = ["{user or "NAME"}"] '
            "and start with --config FILE"
        )
    return (
        f"{NOT_ADMIN_MESSAGE}: {user_text} is not listed in [admin] users of {config.source}; "
        "add the name there"
    )


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
