"""What one line of a Claude Code transcript holds (DESIGN section 3): the typed structs a line is
decoded into (only the fields this product uses, so the rest of a line is skipped without building
Python objects), the usage record an assistant line gives, the types of its tool calls and
usage-limit notices, and the checks of its values (timestamps, token counts, nested values that
are not objects). Reading files and cutting them into lines is :mod:`claude_usage.sources.transcripts`.
"""

from __future__ import annotations

import hashlib
import math
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import msgspec

from claude_usage.records import UsageRecord
from claude_usage.sources.discovery import TranscriptFile

# A token count above this is not a count but damage (the largest context windows hold a few
# million tokens); such a usage line is skipped and counted in ``invalidUsageLines``. It also
# keeps every sum far inside a 64-bit integer.
MAX_TOKEN_COUNT = 10**12
SYNTHETIC_MODEL = "<synthetic>"
# Claude Code before this version wrote a streaming placeholder into output_tokens (DESIGN 5).
FINAL_OUTPUT_VERSION = (2, 1, 97)
# inference_geo values billed at the standard rate; kept as None in records.
STANDARD_GEOS = ("", "global", "not_available")
INVALID_USAGE = "<invalid usage>"
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)
# Timestamps outside these bounds are damage, and a local date past year 9999 cannot be shown.
_FIRST_US = 86_400_000_000
_LAST_US = (datetime(9999, 1, 1, tzinfo=timezone.utc) - _EPOCH) // _MICROSECOND

class _CacheCreation(msgspec.Struct, gc=False):
    ephemeral_5m_input_tokens: Any = None
    ephemeral_1h_input_tokens: Any = None


class _ServerToolUse(msgspec.Struct, gc=False):
    web_search_requests: Any = None
    web_fetch_requests: Any = None


class _Usage(msgspec.Struct, gc=False):
    input_tokens: Any = msgspec.UNSET  # absent (not a usage line) is told from null (damage)
    output_tokens: Any = msgspec.UNSET
    cache_creation_input_tokens: Any = None
    cache_read_input_tokens: Any = None
    cache_creation: _CacheCreation | None = None
    speed: Any = None
    server_tool_use: _ServerToolUse | None = None
    inference_geo: Any = None


class _Block(msgspec.Struct, gc=False):
    """A content block, as far as tool analytics needs it (``input`` and results are skipped)."""

    type: Any = None
    id: Any = None
    name: Any = None
    tool_use_id: Any = None
    is_error: Any = None


class _Message(msgspec.Struct, gc=False):
    id: Any = None
    model: Any = None
    role: Any = None
    usage: _Usage | None = None
    content: list[_Block] | str | None = None
    stop_reason: Any = None


class _Progress(msgspec.Struct, gc=False):
    type: Any = None
    message: "Line | None" = None


class Line(msgspec.Struct, gc=False):
    """The fields of a transcript line that this product reads; scalars are checked in code."""

    type: Any = None
    message: _Message | None = None
    timestamp: Any = None
    sessionId: Any = None
    uuid: Any = None
    requestId: Any = None
    isSidechain: Any = None
    cwd: Any = None
    costUSD: Any = None
    data: _Progress | None = None
    version: Any = None


class LightLine(msgspec.Struct, gc=False):
    """What a line without usage contributes: its ``cwd`` (for the project's real path), and
    its time and session (for the session titles)."""

    cwd: Any = None
    timestamp: Any = None
    sessionId: Any = None


LINE_DECODER = msgspec.json.Decoder(Line)
LIGHT_DECODER = msgspec.json.Decoder(LightLine)


class ToolCall(msgspec.Struct, gc=False, array_like=True):
    """One ``tool_use`` block: its ``id``, tool ``name`` (e.g. ``Bash``, ``mcp__github__get_issue``),
    the line's session, project key, UTC time in microseconds, ``cwd``, the line's byte
    ``offset`` in its file, and the ``model`` whose response called it (None when unknown)."""

    id: str
    name: str
    session_id: str
    project: str
    ts_us: int
    cwd: str | None = None
    offset: int = 0
    model: str | None = None


class UsageLimitNotice(msgspec.Struct, gc=False, array_like=True):
    """A usage-limit message Claude Code wrote (an API-error placeholder line such as
    ``Claude AI usage limit reached|1754456400``): the line's UTC time, the reset time it names
    (UTC microseconds, or None), the session, the start of its text, and the line's offset."""

    ts_us: int
    reset_us: int | None
    session_id: str
    text: str
    offset: int = 0


class _TextBlock(msgspec.Struct, gc=False):
    text: Any = None


class _TextMessage(msgspec.Struct, gc=False):
    content: list[_TextBlock] | str | None = None


class _ErrorLine(msgspec.Struct, gc=False):
    isApiErrorMessage: Any = None
    message: _TextMessage | None = None


ERROR_LINE_DECODER = msgspec.json.Decoder(_ErrorLine)
LIMIT_RESET = re.compile(r"limit reached\|(\d{9,11})")


# Nested objects of Line, by path: a line where one of them is not an object is still read
# (the lenient path drops the odd value) instead of being lost whole.
_NESTED_OBJECTS = (
    ("message",),
    ("message", "usage"),
    ("message", "usage", "cache_creation"),
    ("message", "usage", "server_tool_use"),
    ("data",),
    ("data", "message"),
    ("data", "message", "message"),
    ("data", "message", "message", "usage"),
    ("data", "message", "message", "usage", "cache_creation"),
    ("data", "message", "message", "usage", "server_tool_use"),
)


def is_count(value: Any) -> bool:
    """True for a token count: an integer from 0 to :data:`MAX_TOKEN_COUNT` (``bool`` is not
    a count)."""
    return type(value) is int and 0 <= value <= MAX_TOKEN_COUNT


def parse_timestamp_us(value: Any) -> int | None:
    """An ISO-8601 timestamp string to UTC microseconds since the epoch, or None if invalid.

    Any fraction length, ``Z`` or an offset are accepted; a timestamp without an offset is UTC.
    Instants before 1970-01-02 or from year 9999 on are invalid (damage, and not showable in
    every zone).
    """
    if type(value) is not str or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        ts_us = (moment - _EPOCH) // _MICROSECOND
    except (ValueError, OverflowError):
        return None
    return ts_us if _FIRST_US <= ts_us < _LAST_US else None


def drop_odd_nested(obj: dict) -> dict:
    """Make a leniently parsed line fit :class:`Line`: nested values expected to be objects
    become None when they are not, and content blocks that are not objects are dropped."""
    for path in _NESTED_OBJECTS:
        holder: Any = obj
        for name in path[:-1]:
            holder = holder.get(name) if isinstance(holder, dict) else None
        if isinstance(holder, dict) and path[-1] in holder and not isinstance(holder[path[-1]], dict):
            holder[path[-1]] = None
    for path in (("message",), ("data", "message", "message")):
        holder = obj
        for name in path:
            holder = holder.get(name) if isinstance(holder, dict) else None
        if isinstance(holder, dict) and "content" in holder:
            content = holder["content"]
            if isinstance(content, list):
                holder["content"] = [block for block in content if isinstance(block, dict)]
            elif not isinstance(content, str):
                holder["content"] = None
    return obj


def str_or_none(value: Any) -> str | None:
    return value if type(value) is str and value else None


_BEFORE_FINAL_OUTPUT: dict[str, bool] = {}
_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)")


def writes_placeholder_output(version: Any) -> bool:
    """True for a Claude Code ``version`` string before 2.1.97 (e.g. ``"2.1.90"``), whose lines
    carry a streaming placeholder in ``output_tokens`` until the final one; False for later or
    unreadable versions (answers are kept per version string)."""
    if type(version) is not str:
        return False
    known = _BEFORE_FINAL_OUTPUT.get(version)
    if known is None:
        found = _VERSION.match(version)
        known = found is not None and tuple(map(int, found.groups())) < FINAL_OUTPUT_VERSION
        if len(_BEFORE_FINAL_OUTPUT) < 4096:
            _BEFORE_FINAL_OUTPUT[version] = known
    return known


def usage_record(line: Line, raw: Any, source: TranscriptFile, file: str, offset: int) -> UsageRecord | str | None:
    """The usage record a decoded line carries, ``SYNTHETIC_MODEL`` for a placeholder,
    ``INVALID_USAGE`` for usage with a count or time that cannot be right (negative, over
    :data:`MAX_TOKEN_COUNT`, an impossible timestamp), else None.

    The hot path of every scan: checks are written out rather than factored into calls.
    """
    holder = line
    sidechain = line.isSidechain is True
    if line.type == "progress":
        data = line.data
        if data is None or data.type != "agent_progress" or data.message is None:
            return None
        # A copy of a subagent line: the nested message's time and ids, the outer session.
        holder = data.message
        sidechain = True
    message = holder.message
    if message is None:
        return None
    usage = message.usage
    if usage is None or not (holder.type == "assistant" or (holder.type is None and message.role == "assistant")):
        return None
    input_tokens = usage.input_tokens
    output_tokens = usage.output_tokens
    if input_tokens is msgspec.UNSET or output_tokens is msgspec.UNSET:
        return None  # usage without the counts: nothing to count
    if type(input_tokens) is not int or type(output_tokens) is not int:
        return INVALID_USAGE  # a count that is not an integer (1.5, "100", null): damage, named
    if not (0 <= input_tokens <= MAX_TOKEN_COUNT and 0 <= output_tokens <= MAX_TOKEN_COUNT):
        return INVALID_USAGE
    ts_us = parse_timestamp_us(holder.timestamp)
    if ts_us is None:
        return INVALID_USAGE if type(holder.timestamp) is str else None
    model = message.model
    if type(model) is not str or not model:
        model = "unknown"
    elif model == SYNTHETIC_MODEL:
        return SYNTHETIC_MODEL

    declared = usage.cache_creation_input_tokens
    if type(declared) is not int or declared < 0:
        declared = 0
    five_m = one_h = 0
    breakdown = usage.cache_creation
    if breakdown is not None:
        five_m = breakdown.ephemeral_5m_input_tokens
        if type(five_m) is not int or five_m < 0:
            five_m = 0
        one_h = breakdown.ephemeral_1h_input_tokens
        if type(one_h) is not int or one_h < 0:
            one_h = 0
    cache_read = usage.cache_read_input_tokens
    if type(cache_read) is not int or cache_read < 0:
        cache_read = 0
    if declared > MAX_TOKEN_COUNT or five_m > MAX_TOKEN_COUNT or one_h > MAX_TOKEN_COUNT or cache_read > MAX_TOKEN_COUNT:
        return INVALID_USAGE
    creation_total = declared if declared > five_m + one_h else five_m + one_h

    message_id = message.id
    if type(message_id) is str and message_id:
        key = "m:" + message_id
    elif type(holder.uuid) is str and holder.uuid:
        key = "u:" + holder.uuid
    else:
        key = "h:" + hashlib.blake2b(raw, digest_size=12).hexdigest()

    line_cost = holder.costUSD
    if type(line_cost) not in (int, float) or not math.isfinite(line_cost) or line_cost < 0:
        line_cost = None
    session = line.sessionId
    speed = usage.speed
    request_id = holder.requestId
    searches = fetches = 0
    tools = usage.server_tool_use
    if tools is not None:
        searches = tools.web_search_requests
        if type(searches) is not int or searches < 0:
            searches = 0
        fetches = tools.web_fetch_requests
        if type(fetches) is not int or fetches < 0:
            fetches = 0
    geo = usage.inference_geo
    if type(geo) is not str or geo in STANDARD_GEOS:
        geo = None
    placeholder = message.stop_reason is None and writes_placeholder_output(
        holder.version if type(holder.version) is str else line.version)
    return UsageRecord(
        key,
        ts_us,
        model,
        session if type(session) is str and session else source.fallback_session,
        source.project,
        file,
        offset,
        input_tokens,
        output_tokens,
        creation_total - one_h,
        one_h,
        cache_read,
        float(line_cost) if line_cost is not None else None,
        speed if type(speed) is str and speed else None,
        sidechain,
        request_id if type(request_id) is str and request_id else None,
        searches,
        fetches,
        geo,
        placeholder,
    )

