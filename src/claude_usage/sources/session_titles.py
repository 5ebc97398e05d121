"""What makes a session recognisable, read from its transcript lines (issue 14): the title Claude
Code wrote for it, or else the first prompt the user typed.

Claude Code writes titles as lines of their own: ``{"type": "custom-title", "customTitle": ...,
"sessionId": ...}`` (the user's ``/rename``), ``{"type": "ai-title", "aiTitle": ...}`` and
``{"type": "summary", "summary": ..., "leafUuid": ...}`` (older versions; such a line carries no
session id and names the conversation of the file it is in). A title line's ``kind`` says how
much it is to be trusted; the highest kind wins, the latest line within a kind:

- :data:`CUSTOM` (3) > :data:`AI` (2) > :data:`SUMMARY` (1) > :data:`PROMPT` (0, the first
  prompt of the session's main transcript, the earliest one wins);
- :data:`AGENT_PROMPT` (-1): the first prompt of a subagent transcript (the task it was given),
  never a session's title; it describes a subagent that has no ``.meta.json``.

Only what is needed is decoded: a line is looked at when it starts with a title type (title
lines name their type first) or, until the file's first prompt is found, when it holds
``"type": "user"`` and no usage (compact JSON as Claude Code writes it, or spaced as in
hand-made files).
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

CUSTOM, AI, SUMMARY, PROMPT, AGENT_PROMPT = 3, 2, 1, 0, -1
MAX_TEXT = 200  # characters kept of a title or prompt (the tables show fewer)
_TITLE_TYPE = re.compile(rb'\{\s*"type"\s*:\s*"(custom-title|ai-title|summary)"')
_TITLE_KINDS = {b"custom-title": CUSTOM, b"ai-title": AI, b"summary": SUMMARY}
_USER = re.compile(rb'"type"\s*:\s*"user"')
# Text Claude Code writes into user lines that the user did not type: command echoes, command
# output, reminders, interruption notes.
_NOT_TYPED = ("<", "Caveat:", "[Request interrupted")
_SPACE = re.compile(r"\s+")
_LEADING_TAGS = re.compile(r"^\s*(?:<([A-Za-z][\w-]*)[^>]*>.*?</\1>\s*)+", re.DOTALL)


class SessionTitle(msgspec.Struct, gc=False, array_like=True):
    """One title candidate of a session: its ``kind`` (above), ``session_id`` (None: the
    session of the file it is in), the UTC time of the line or of the last timestamp before it
    (microseconds, 0 when unknown), its text (whitespace collapsed, at most :data:`MAX_TEXT`
    characters) and the line's byte ``offset`` in its file."""

    kind: int
    session_id: str | None
    ts_us: int
    text: str
    offset: int


class _TitleLine(msgspec.Struct, gc=False):
    type: Any = None
    summary: Any = None
    customTitle: Any = None
    aiTitle: Any = None
    sessionId: Any = None


class _Part(msgspec.Struct, gc=False):
    type: Any = None
    text: Any = None


class _UserMessage(msgspec.Struct, gc=False):
    role: Any = None
    content: list[_Part] | str | None = None


class _UserLine(msgspec.Struct, gc=False):
    type: Any = None
    isSidechain: Any = None
    isMeta: Any = None
    sessionId: Any = None
    timestamp: Any = None
    message: _UserMessage | None = None


_TITLE = msgspec.json.Decoder(_TitleLine)
_PROMPT = msgspec.json.Decoder(_UserLine)


def clean_text(value: Any) -> str | None:
    """``value`` as one line of at most :data:`MAX_TEXT` characters (whitespace collapsed, an
    ellipsis where it was cut), or None when it is not a non-empty string."""
    if type(value) is not str:
        return None
    text = _SPACE.sub(" ", value).strip()
    if not text:
        return None
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1].rstrip() + "…"


def typed_prompt(content: Any) -> str | None:
    """The text a user typed, from a user message's ``content`` (a string, or blocks of which
    the first ``text`` block with typed text counts), without the context Claude Code puts
    before it in tags (``<ide_selection>...</ide_selection>``); None for tool results,
    command echoes and notes."""
    texts = [content] if isinstance(content, str) else []
    if isinstance(content, list):
        if any(part.type == "tool_result" for part in content):
            return None
        texts = [part.text for part in content if part.type == "text" and type(part.text) is str]
    for text in texts:
        typed = clean_text(_LEADING_TAGS.sub("", text))
        if typed is not None and not typed.startswith(_NOT_TYPED):
            return typed
    return None


class TitleCollector:
    """The title candidates of one transcript, fed line by line by the transcript reader.

    ``subagent``: the file is a subagent transcript (its first prompt is the agent's task,
    :data:`AGENT_PROMPT`; it has no titles of its own). ``parse_time`` turns a timestamp string
    into UTC microseconds (None when invalid)."""

    def __init__(self, subagent: bool, parse_time: Any):
        self.subagent = subagent
        self.parse_time = parse_time
        self.titles: list[SessionTitle] = []
        self.prompt_found = False
        self.last_stamp: Any = None

    def line(self, buffer: bytearray, start: int, end: int, raw: Any, offset: int, usage: bool) -> None:
        """Look at the line ``buffer[start:end]`` (``raw``: the same bytes as a memoryview;
        ``usage``: the line holds a usage object, so it is no prompt)."""
        if not self.subagent:
            found = _TITLE_TYPE.match(buffer, start, min(end, start + 64))
            if found:
                self._title(raw, _TITLE_KINDS[found[1]], offset)
                return
        if not self.prompt_found and not usage and _USER.search(buffer, start, end):
            self._prompt(raw, offset)

    def _title(self, raw: Any, kind: int, offset: int) -> None:
        try:
            line = _TITLE.decode(raw)
        except (msgspec.DecodeError, RecursionError):
            return
        text = clean_text({CUSTOM: line.customTitle, AI: line.aiTitle, SUMMARY: line.summary}[kind])
        if text is None:
            return
        session = line.sessionId if type(line.sessionId) is str and line.sessionId else None
        self.titles.append(SessionTitle(kind, session, self.parse_time(self.last_stamp) or 0, text, offset))

    def _prompt(self, raw: Any, offset: int) -> None:
        try:
            line = _PROMPT.decode(raw)
        except (msgspec.DecodeError, RecursionError):
            return
        if line.type != "user" or line.isMeta is True or line.message is None or line.message.role not in ("user", None):
            return
        if line.isSidechain is True and not self.subagent:
            return  # a side question's or a subagent's copy in the main transcript
        text = typed_prompt(line.message.content)
        if text is None:
            return
        session = line.sessionId if type(line.sessionId) is str and line.sessionId else None
        ts_us = self.parse_time(line.timestamp) or self.parse_time(self.last_stamp) or 0
        self.titles.append(SessionTitle(AGENT_PROMPT if self.subagent else PROMPT, session, ts_us, text, offset))
        self.prompt_found = True

    def finish(self, file_session: str) -> list[SessionTitle]:
        """The candidates found, each with a session: ``file_session`` (the file's first session
        id, or its fallback session) where the line named none."""
        for title in self.titles:
            if title.session_id is None:
                title.session_id = file_session
        return self.titles
