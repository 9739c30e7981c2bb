"""Helpers shared by the subcommands."""

from __future__ import annotations

import argparse
import logging
import sys

from sched_tui.config import Config, ConfigError, default_config, load_config

log = logging.getLogger(__name__)


class UsageError(Exception):
    """Invalid usage or configuration; the command exits with status 2."""


def load_config_or_fail(args: argparse.Namespace) -> Config:
    """Load the configuration named by the arguments; print warnings to stderr.

    Raises UsageError with the validation message when the config is invalid.
    """
    if getattr(args, "demo", False):
        return default_config()
    try:
        config = load_config(getattr(args, "config", None))
    except ConfigError as error:
        raise UsageError(str(error)) from None
    for warning in config.warnings:
        print(f"warning: {warning}", file=sys.stderr)
        log.warning("%s", warning)
    return config
