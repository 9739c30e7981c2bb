"""Configuration: where it is found, what each key means, and how it is checked.

Search order, first match wins:

1. the path given with ``--config``;
2. the path in the ``SCHED_TUI_CONFIG`` environment variable;
3. ``config.toml`` in the user's config folder (``platformdirs.user_config_path("sched-tui")``,
   ``~/.config/sched-tui/config.toml`` on Linux);
4. the embedded default: a demo practice served by the in-process Zocdoc sandbox.

Every key is validated at load time. A wrong value raises `ConfigError` naming
the file, the key, the value and what is expected; an unknown key produces a
warning and is ignored. Secrets never live in the file: a provider names the
environment variables that hold them.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs

from sched_tui.config.cache import CacheConfig, parse_cache
from sched_tui.config.monitoring import AlertRuleConfig, MonitoringConfig, parse_monitoring
from sched_tui.config.queue import QueueConfig, parse_queue
from sched_tui.config.reader import ConfigError, Table

__all__ = [
    "AggregatorConfig",
    "AlertRuleConfig",
    "CacheConfig",
    "Config",
    "ConfigError",
    "MonitoringConfig",
    "PracticeConfig",
    "ProviderConfig",
    "QueueConfig",
    "SandboxFaults",
    "StorageConfig",
    "UiConfig",
    "default_config",
    "find_config_path",
    "load_config",
    "parse_config",
]

APP_NAME = "sched-tui"
ENV_CONFIG = "SCHED_TUI_CONFIG"

# Keys that would put a secret into the config file, and the key to use instead.
_SECRET_KEYS = {
    "client_secret": "client_secret_env",
    "client_id": "client_id_env",
    "password": "password_env",
    "token": "token_env",
}


@dataclass(frozen=True, slots=True)
class PracticeConfig:
    """``[practice]``: who the practice is and which hours the week grid shows."""

    # Name shown in the status line.
    name: str = "Demo practice"
    # IANA time zone every time is shown in, for example "America/New_York".
    timezone: str = "America/New_York"
    # First and last hour of the grid, "HH:MM" in the practice time zone.
    day_start: time = time(8, 0)
    day_end: time = time(20, 0)
    # Height of one grid row, in minutes: 15, 20, 30 or 60.
    slot_minutes: int = 30

    @property
    def tz(self) -> ZoneInfo:
        """The practice time zone."""
        return ZoneInfo(self.timezone)


@dataclass(frozen=True, slots=True)
class UiConfig:
    """``[ui]``: behaviour of the terminal interface."""

    # Quiet time after the last keystroke in a filter before the query runs, in ms.
    debounce_ms: int = 300


@dataclass(frozen=True, slots=True)
class StorageConfig:
    """``[storage]``: the SQLite database shared by every running copy."""

    # Database file; created with mode 0600. Default: the user's data folder.
    path: Path = field(
        default_factory=lambda: platformdirs.user_data_path(APP_NAME) / "sched-tui.db"
    )
    # How long a connection waits for another copy's write lock, in seconds.
    busy_timeout_s: float = 5.0


@dataclass(frozen=True, slots=True)
class AggregatorConfig:
    """``[aggregator]``: how the weekly calendar is assembled."""

    # Providers fetched at the same time.
    concurrency: int = 8
    # Deadline for one provider's response, in seconds. A slower provider is reported as failed.
    provider_timeout_s: float = 20.0
    # Deadline for the whole calendar, in seconds. Providers still running then are
    # reported as failed, and the others' data are shown.
    deadline_s: float = 30.0


@dataclass(frozen=True, slots=True)
class SandboxFaults:
    """``[providers.sandbox]``: faults the bundled Zocdoc sandbox injects on request."""

    # Added latency for every request, in ms.
    latency_ms: int = 0
    # Share of requests, from 0 to 1, that get a 429 response with a Retry-After header.
    rate_limit_rate: float = 0.0
    # Retry-After value sent with those 429 responses, in seconds.
    retry_after_s: int = 1
    # Share of requests that get a 503 response.
    error_rate: float = 0.0
    # Share of requests that get no response before the client's timeout.
    timeout_rate: float = 0.0
    # Seed of the random draws, so a fault pattern can be replayed.
    seed: int | None = None


@dataclass(frozen=True, slots=True)
class ProviderConfig:
    """One ``[[providers]]`` entry.

    ``kind = "zocdoc"``: Zocdoc's partner API. Without ``base_url`` it is the
    bundled sandbox, served in-process with no network.

    ``kind = "ics"``: one therapist's calendar, from exactly one of ``path``,
    ``url`` or ``caldav`` (a CalDAV collection URL).
    """

    name: str
    kind: str
    # zocdoc: API root, OAuth2 token endpoint, and the environment variables
    # holding the client id and secret. No base_url means the in-process sandbox.
    base_url: str | None = None
    token_url: str | None = None
    client_id_env: str = "ZOCDOC_CLIENT_ID"
    client_secret_env: str = "ZOCDOC_CLIENT_SECRET"
    # zocdoc: visit reasons whose open slots are listed ("" means all).
    visit_reason_ids: tuple[str, ...] = ()
    sandbox: SandboxFaults = field(default_factory=SandboxFaults)
    # ics: exactly one source.
    path: Path | None = None
    url: str | None = None
    caldav: str | None = None
    # ics/caldav: environment variables holding HTTP basic credentials, if any.
    username_env: str | None = None
    password_env: str | None = None
    # ics: the therapist the calendar belongs to.
    therapist_id: str | None = None
    therapist_name: str | None = None
    # Deadline of one HTTP request, in seconds.
    timeout_s: float = 10.0


@dataclass(frozen=True, slots=True)
class Config:
    """The whole configuration."""

    # File it was read from; None for the embedded default.
    source: Path | None = None
    practice: PracticeConfig = field(default_factory=PracticeConfig)
    ui: UiConfig = field(default_factory=UiConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    aggregator: AggregatorConfig = field(default_factory=AggregatorConfig)
    monitoring: MonitoringConfig = field(default_factory=MonitoringConfig)
    queue: QueueConfig = field(default_factory=QueueConfig)
    cache: CacheConfig = field(default_factory=CacheConfig)
    providers: tuple[ProviderConfig, ...] = (ProviderConfig(name="zocdoc-sandbox", kind="zocdoc"),)
    # OS user names allowed to run admin actions such as cache invalidation.
    admins: tuple[str, ...] = ()
    # Warnings met while loading (unknown keys), for the log and the status line.
    warnings: tuple[str, ...] = ()

    @property
    def source_label(self) -> str:
        """The config's file name, or "embedded default"."""
        return str(self.source) if self.source else "embedded default"


def default_config() -> Config:
    """Return the embedded default: the demo practice on the in-process sandbox."""
    return Config()


def find_config_path(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """Return the config file to read, following the search order, or None for the default."""
    if explicit:
        return Path(explicit).expanduser()
    from_env = os.environ.get(ENV_CONFIG)
    if from_env:
        return Path(from_env).expanduser()
    user_file = platformdirs.user_config_path(APP_NAME) / "config.toml"
    if user_file.is_file():
        return user_file
    return None


def load_config(explicit: str | os.PathLike[str] | None = None) -> Config:
    """Find, read and validate the configuration.

    Raises ConfigError when the file is missing, is not TOML or contains an invalid value.
    """
    path = find_config_path(explicit)
    if path is None:
        return default_config()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError.for_file(
            str(path),
            "config file not found",
            "pass an existing file with --config or SCHED_TUI_CONFIG, or remove them for the demo",
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError.for_file(
            str(path),
            f"config file cannot be read ({error})",
            "check its permissions and encoding (UTF-8)",
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError.for_file(
            str(path), f"invalid TOML ({error})", "fix the syntax at the line and column given"
        ) from None
    return parse_config(data, source=path)


def parse_config(data: dict[str, Any], source: Path | None = None) -> Config:
    """Validate parsed TOML and build a Config."""
    label = str(source) if source else "config"
    base = source.parent if source else None
    root = Table(data, "", label)

    practice = _parse_practice(root.table("practice"))
    ui_table = root.table("ui")
    ui = UiConfig(debounce_ms=ui_table.integer("debounce_ms", 300, 0, 5000))
    storage_table = root.table("storage")
    storage_path = storage_table.path("path", base)
    if storage_path is not None and storage_path.is_dir():
        raise storage_table.error(
            "path", str(storage_path), "a database file, not a folder; add a file name"
        )
    if storage_path is not None and not storage_path.parent.is_dir():
        # Copies share data only through this file, so a mistyped folder must not
        # quietly give one copy a database of its own.
        raise storage_table.error(
            "path",
            str(storage_path),
            f"a file in an existing folder; create {storage_path.parent} first or fix the path",
        )
    storage = StorageConfig(
        path=storage_path or StorageConfig().path,
        busy_timeout_s=storage_table.number("busy_timeout_s", 5.0, 0.1, 600),
    )
    aggregator_table = root.table("aggregator")
    aggregator = AggregatorConfig(
        concurrency=aggregator_table.integer("concurrency", 8, 1, 64),
        provider_timeout_s=aggregator_table.number("provider_timeout_s", 20.0, 0.1, 600),
        deadline_s=aggregator_table.number("deadline_s", 30.0, 0.1, 600),
    )
    monitoring, alert_tables = parse_monitoring(root)
    queue = parse_queue(root)
    cache = parse_cache(root)
    admin_table = root.table("admin")
    admins = admin_table.strings("users")
    providers = _parse_providers(root, base, label)

    # Sub-tables report their own unknown keys through the root.
    warnings = root.unknown_keys() + [
        warning for table in providers[1] + alert_tables for warning in table.unknown_keys()
    ]
    return Config(
        source=source,
        practice=practice,
        ui=ui,
        storage=storage,
        aggregator=aggregator,
        monitoring=monitoring,
        queue=queue,
        cache=cache,
        providers=providers[0],
        admins=admins,
        warnings=tuple(warnings),
    )


def _parse_practice(table: Table) -> PracticeConfig:
    timezone = table.string("timezone", "America/New_York")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise table.error(
            "timezone", timezone, 'an IANA time zone such as "America/New_York"'
        ) from None
    day_start = table.clock("day_start", time(8, 0))
    day_end = table.clock("day_end", time(20, 0))
    if day_end <= day_start and not table.has("day_end"):
        # Name the key the user wrote, not the default it collides with.
        raise table.error(
            "day_start",
            day_start.strftime("%H:%M"),
            f"a time earlier than practice.day_end ({day_end:%H:%M} by default)",
        )
    if day_end <= day_start:
        raise table.error(
            "day_end", day_end.strftime("%H:%M"), "a time later than practice.day_start"
        )
    slot_minutes = table.integer("slot_minutes", 30)
    if slot_minutes not in (15, 20, 30, 60):
        raise table.error("slot_minutes", slot_minutes, "15, 20, 30 or 60")
    config = PracticeConfig(
        name=table.string("name", "Demo practice"),
        timezone=timezone,
        day_start=day_start,
        day_end=day_end,
        slot_minutes=slot_minutes,
    )
    return config


def _parse_providers(
    root: Table, base: Path | None, label: str
) -> tuple[tuple[ProviderConfig, ...], list[Table]]:
    entries = root.raw("providers", None)
    if entries is None:
        return Config().providers, []
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise root.error("providers", entries, "an array of tables: [[providers]]")
    if not entries:
        raise root.error("providers", entries, "at least one [[providers]] entry")

    providers: list[ProviderConfig] = []
    tables: list[Table] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        table = Table(entry, f"providers[{index}]", label)
        provider = _parse_provider(table, base)
        if provider.name in seen:
            raise table.error("name", provider.name, "a name no other provider uses")
        seen.add(provider.name)
        providers.append(provider)
        tables.append(table)
    return tuple(providers), tables


def _parse_provider(table: Table, base: Path | None) -> ProviderConfig:
    name = table.string("name")
    kind = table.choice("kind", ("zocdoc", "ics"))
    for secret_key, env_key in _SECRET_KEYS.items():
        if table.has(secret_key):
            table.raw(secret_key)
            raise table.error(
                secret_key,
                "(hidden)",
                "no secret in the config file; put it in an environment variable "
                f"and name it with {env_key}",
            )
    timeout_s = table.number("timeout_s", 10.0, 0.1, 300)
    if kind == "zocdoc":
        return _parse_zocdoc(table, name, timeout_s)
    return _parse_ics(table, name, base, timeout_s)


def _parse_zocdoc(table: Table, name: str, timeout_s: float) -> ProviderConfig:
    base_url = table.string("base_url", None)
    token_url = table.string("token_url", None)
    for key, value in (("base_url", base_url), ("token_url", token_url)):
        if value is not None and not value.startswith(("http://", "https://")):
            raise table.error(key, value, "an http:// or https:// URL")
    if token_url is not None and base_url is None:
        raise table.error("token_url", token_url, "base_url to be set as well")
    faults = table.table("sandbox")
    return ProviderConfig(
        name=name,
        kind="zocdoc",
        base_url=base_url.rstrip("/") if base_url else None,
        token_url=token_url,
        client_id_env=table.string("client_id_env", "ZOCDOC_CLIENT_ID"),
        client_secret_env=table.string("client_secret_env", "ZOCDOC_CLIENT_SECRET"),
        visit_reason_ids=table.strings("visit_reason_ids"),
        sandbox=SandboxFaults(
            latency_ms=faults.integer("latency_ms", 0, 0, 600_000),
            rate_limit_rate=faults.number("rate_limit_rate", 0.0, 0.0, 1.0),
            retry_after_s=faults.integer("retry_after_s", 1, 0, 86_400),
            error_rate=faults.number("error_rate", 0.0, 0.0, 1.0),
            timeout_rate=faults.number("timeout_rate", 0.0, 0.0, 1.0),
            seed=faults.integer("seed", 0) if faults.has("seed") else None,
        ),
        timeout_s=timeout_s,
    )


def _parse_ics(table: Table, name: str, base: Path | None, timeout_s: float) -> ProviderConfig:
    path = table.path("path", base)
    url = table.string("url", None)
    caldav = table.string("caldav", None)
    given = [
        key
        for key, value in (("path", path), ("url", url), ("caldav", caldav))
        if value is not None
    ]
    if len(given) != 1:
        raise table.error(
            "path/url/caldav",
            ", ".join(given) or "none",
            "exactly one of path, url or caldav for an ics provider",
        )
    for key, value in (("url", url), ("caldav", caldav)):
        if value is not None and not value.startswith(("http://", "https://")):
            raise table.error(key, value, "an http:// or https:// URL")
    therapist_id = table.string("therapist_id", name)
    return ProviderConfig(
        name=name,
        kind="ics",
        path=path,
        url=url,
        caldav=caldav,
        username_env=table.string("username_env", None),
        password_env=table.string("password_env", None),
        therapist_id=therapist_id,
        therapist_name=table.string("therapist_name", therapist_id),
        timeout_s=timeout_s,
    )
