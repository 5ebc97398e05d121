"""Where claude-usage keeps its own files (the index, the demo data)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """The user cache dir of claude-usage: ``$CLAUDE_USAGE_CACHE``, else platformdirs' user
    cache dir (``~/.cache/claude-usage`` on Linux)."""
    if os.environ.get("CLAUDE_USAGE_CACHE"):
        return Path(os.environ["CLAUDE_USAGE_CACHE"]).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("claude-usage"))


def config_dir() -> Path:
    """The user config dir of claude-usage: ``$CLAUDE_USAGE_CONFIG``, else platformdirs' user
    config dir (``~/.config/claude-usage`` on Linux). Holds the machine id of team pushes."""
    if os.environ.get("CLAUDE_USAGE_CONFIG"):
        return Path(os.environ["CLAUDE_USAGE_CONFIG"]).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("claude-usage"))
