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
