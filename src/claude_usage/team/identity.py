"""Who pushes: the machine's stable id and name, and the user (DESIGN 12).

The machine id is a random UUID made once and kept in the user config dir (``machine-id``);
``--machine NAME`` names the machine, and each name has its own stable id derived from it
(so one host can push several data sets as several named machines, and the same name on two
hosts stays two machines). The user defaults to the OS user.
"""

from __future__ import annotations

import getpass
import os
import socket
import uuid
from dataclasses import dataclass

from claude_usage.paths import config_dir


@dataclass(frozen=True)
class Identity:
    """``key``: the machine's stable id (a UUID string); ``name``: what reports show;
    ``user``: the user the pushed requests belong to."""

    key: str
    name: str
    user: str


def _base_id() -> uuid.UUID:
    """This host's machine id, made on first use (written atomically: two first pushes at once
    agree on one)."""
    folder = config_dir()
    path = folder / "machine-id"
    try:
        return uuid.UUID(path.read_text().strip())
    except (OSError, ValueError):
        pass
    folder.mkdir(parents=True, exist_ok=True)
    made = uuid.uuid4()
    temporary = folder / f".machine-id.{os.getpid()}"
    temporary.write_text(f"{made}\n")
    try:
        os.link(temporary, path)  # fails when another process made it first: use theirs
    except FileExistsError:
        pass
    finally:
        temporary.unlink(missing_ok=True)
    return uuid.UUID(path.read_text().strip())


def identity(machine: str | None = None, user: str | None = None) -> Identity:
    """The identity of a push: the machine named ``machine`` (default: this host's name, with
    this host's id) and ``user`` (default: the OS user)."""
    base = _base_id()
    host = socket.gethostname() or "localhost"
    name = (machine or "").strip() or host
    key = str(base) if name == host else str(uuid.uuid5(base, name))
    who = (user or "").strip()
    if not who:
        try:
            who = getpass.getuser()
        except Exception:
            who = "unknown"
    return Identity(key, name, who)
