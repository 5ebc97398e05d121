"""Builders for hand-made transcript lines used by unit tests."""

from __future__ import annotations

import json
from pathlib import Path


def assistant_line(
    *,
    msg_id: str | None = "msg_1",
    uuid: str | None = "u-1",
    model: str = "claude-sonnet-4-5-20250929",
    ts: str = "2025-10-01T12:00:00.000Z",
    session: str | None = "s-1",
    input_tokens: int = 0,
    output_tokens: int = 0,
    cache_creation: int | None = None,
    cache_5m: int | None = None,
    cache_1h: int | None = None,
    cache_read: int = 0,
    cost_usd: float | None = None,
    speed: str | None = None,
    sidechain: bool = False,
    cwd: str | None = "/home/dev/app",
) -> dict:
    usage: dict = {"input_tokens": input_tokens, "output_tokens": output_tokens, "cache_read_input_tokens": cache_read}
    if cache_creation is not None:
        usage["cache_creation_input_tokens"] = cache_creation
    if cache_5m is not None or cache_1h is not None:
        usage["cache_creation"] = {"ephemeral_5m_input_tokens": cache_5m or 0, "ephemeral_1h_input_tokens": cache_1h or 0}
    if speed is not None:
        usage["speed"] = speed
    message: dict = {"type": "message", "role": "assistant", "model": model, "content": [], "usage": usage}
    if msg_id is not None:
        message["id"] = msg_id
    line: dict = {"type": "assistant", "timestamp": ts, "isSidechain": sidechain, "message": message}
    if uuid is not None:
        line["uuid"] = uuid
    if session is not None:
        line["sessionId"] = session
    if cost_usd is not None:
        line["costUSD"] = cost_usd
    if cwd is not None:
        line["cwd"] = cwd
    return line


def write_lines(path: Path, lines: list, end_with_newline: bool = True) -> Path:
    """Write dicts (as JSON) or raw strings, one per line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines)
    path.write_text(text + ("\n" if end_with_newline else ""))
    return path
