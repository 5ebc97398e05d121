"""The lenient JSON rules of DESIGN section 3, shared by every reader of other programs' files.

- Raw control characters inside strings are accepted (``json.loads(..., strict=False)``), and
  bytes that are not UTF-8 become U+FFFD.
- Nesting is bounded: a value nested deeper than :data:`MAX_DEPTH` levels (hostile, or a tool
  input no person wrote) would exhaust the decoders' recursion limit; :func:`cap_depth` replaces
  each such subtree by ``null`` so that the rest of the line (its usage) is still read.
- Strings hold text only: a lone UTF-16 surrogate escape (``"\\ud800"``), valid JSON but not
  text, would make every later encoder (SQLite, msgpack, JSON output) fail; it becomes ``?``.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable

MAX_DEPTH = 200
# A JSON string (escapes included, as one token) or a bracket; strings are skipped whole, so
# brackets inside them do not count.
_TOKENS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.S)
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")
_OPEN = frozenset(b"[{")
_QUOTE = ord('"')


def cap_depth(raw: bytes, limit: int = MAX_DEPTH) -> bytes:
    """``raw`` JSON with every array or object nested deeper than ``limit`` levels replaced by
    ``null`` (the top-level value is level 1). Text that is not JSON passes through changed at
    most in its brackets; it stays invalid. Linear in the length of ``raw``."""
    out: list[bytes] = []
    depth = 0
    position = 0
    cut_from = -1
    for token in _TOKENS.finditer(raw):
        first = raw[token.start()]
        if first == _QUOTE:
            continue
        if first in _OPEN:
            depth += 1
            if depth == limit + 1:
                cut_from = token.start()
        else:
            if depth == limit + 1 and cut_from >= 0:
                out.append(raw[position:cut_from])
                out.append(b"null")
                position = token.end()
                cut_from = -1
            depth -= 1
    if cut_from >= 0:  # cut short inside a deep value: keep it invalid
        out.append(raw[position:cut_from])
        out.append(b"null")
        return b"".join(out)
    out.append(raw[position:])
    return b"".join(out)


def clean_strings(value: Any) -> Any:
    """``value`` (parsed JSON) with lone surrogates in its strings and keys replaced by ``?``.

    Walks the value without recursion (its depth is already bounded, but a loop costs nothing).
    """
    if isinstance(value, str):
        return _clean(value)
    if not isinstance(value, (dict, list)):
        return value
    root = [value]
    stack: list[tuple[Any, Any]] = [(root, 0)]
    while stack:
        holder, key = stack.pop()
        item = holder[key]
        if isinstance(item, str):
            holder[key] = _clean(item)
        elif isinstance(item, list):
            stack.extend((item, index) for index in range(len(item)))
        elif isinstance(item, dict):
            for name in list(item):
                if isinstance(name, str) and _clean(name) != name:
                    item[_clean(name)] = item.pop(name)
            stack.extend((item, name) for name in item)
    return root[0]


def _clean(text: str) -> str:
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", errors="replace").decode("utf-8")


def loads(raw: bytes | bytearray | memoryview, on_capped: Callable[[], object] | None = None) -> Any:
    """Parse one JSON document leniently (the rules above); raises ValueError when it is not JSON.

    ``RecursionError`` never escapes: a too-deep document is parsed with its deep parts as
    ``null`` (:func:`cap_depth`), and ``on_capped()`` is called.
    """
    data = bytes(raw)
    try:
        value = json.loads(data.decode("utf-8", errors="replace"), strict=False)
    except RecursionError:
        if on_capped is not None:
            on_capped()
        value = json.loads(cap_depth(data).decode("utf-8", errors="replace"), strict=False)
    if _SURROGATE_ESCAPE.search(data):
        value = clean_strings(value)
    return value
