"""Opening the files of a data root safely (DESIGN sections 2 and 9).

Everything below a data root is someone else's: a ``*.jsonl`` may be a FIFO (opening it for
reading would wait for a writer forever), a character device (``/dev/zero`` never ends), or a
name that is not UTF-8. Every file this product reads from a data root is opened here: without
blocking, then checked on the open descriptor (``fstat``), so that what is read is exactly what
was checked, even when the name is swapped for something else in between.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import BinaryIO

_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a directory"),
)


class NotRegularFileError(OSError):
    """The path names something other than a regular file (a FIFO, a device, a directory...)."""


def kind_of(mode: int) -> str:
    """A short description of a file type from ``st_mode`` (``a FIFO``, ``a regular file``...)."""
    for test, name in _KINDS:
        if test(mode):
            return name
    return "a regular file" if stat.S_ISREG(mode) else "not a regular file"


def open_regular(path: str | Path, follow_symlinks: bool = True) -> BinaryIO:
    """Open ``path`` for binary reading only if it is a regular file; never blocks.

    The file is opened with ``O_NONBLOCK`` (a FIFO without a writer opens at once instead of
    waiting) and, unless ``follow_symlinks``, ``O_NOFOLLOW`` (a symlink in the last component is
    refused). The type is then checked on the open descriptor, so a name swapped between a check
    and the open cannot slip through. Returns an unbuffered binary file object (the caller closes
    it). Raises :class:`NotRegularFileError` (``errno`` None) for a FIFO, device, socket or
    directory, and ``OSError`` for anything the OS refuses (missing, permission, ``ELOOP`` for a
    refused symlink, ``ENAMETOOLONG``).
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFileError(f"{kind_of(info.st_mode)}, not a regular file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb", buffering=0)
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: str | Path, limit: int) -> bytes:
    """The whole content of the regular file ``path`` if it has at most ``limit`` bytes.

    Raises :class:`NotRegularFileError` or ``OSError`` as :func:`open_regular` does, and
    :class:`FileTooLargeError` when the file holds more than ``limit`` bytes (never more than
    ``limit + 1`` bytes are read).
    """
    with open_regular(path) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise FileTooLargeError(f"larger than {limit:,} bytes")
    return data


class FileTooLargeError(OSError):
    """A file holds more bytes than the reader accepts."""


def display_path(path: str | Path) -> str:
    """``path`` as text that can always be stored and printed (valid UTF-8).

    A name that is not UTF-8 (``s\\xff.jsonl`` on Linux, which Python holds with surrogate
    escapes) shows its undecodable bytes as ``\\xNN``; every other path is unchanged. Used for the
    file, project and session names the index and the JSON output carry.
    """
    text = str(path)
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return os.fsencode(text).decode("utf-8", errors="backslashreplace")


def from_display(text: str) -> str:
    """The path a :func:`display_path` text stands for: its ``\\xNN`` escapes of bytes 0x80 and
    above (the only ones :func:`display_path` writes) back as the bytes they were. Used when a
    client hands back a name it was given."""
    return _ESCAPED_BYTE.sub(lambda m: chr(0xDC00 + int(m.group(1), 16)), text)


_ESCAPED_BYTE = re.compile(r"\\x([89a-fA-F][0-9a-fA-F])")
