"""Where Claude Code transcripts live: data roots and the transcript files below them.

Rules from DESIGN section 2: flags beat environment variables, the first rule that applies wins;
a root that was named and does not exist is an error; only the defaults may all be missing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

from claude_usage.sources.safe_files import display_path


class RootError(Exception):
    """A data root that was named explicitly (flag or environment) does not exist.

    The CLI turns it into exit code 2; ``serve`` refuses to start. ``missing`` lists the paths.
    """

    def __init__(self, missing: Sequence[Path], origin: str):
        self.missing = list(missing)
        self.origin = origin
        names = ", ".join(str(p) for p in self.missing)
        super().__init__(f"data root not found ({origin}): {names}")


class NoDataError(Exception):
    """Nothing was named and no default root exists or holds a transcript (``tried`` lists them)."""

    def __init__(self, tried: Sequence[Path]):
        self.tried = list(tried)
        names = ", ".join(str(p) for p in self.tried)
        super().__init__(
            f"no Claude Code transcripts found (looked in {names}); "
            "point at a data dir with --data-dir, or try the demo data with --demo"
        )


@dataclass(frozen=True)
class DataRoot:
    """One ``projects`` directory to scan, with the Claude config dir that holds it.

    ``config_dir`` is the parent config dir (where ``todos/`` lives) or None when the projects dir
    was given on its own; ``origin`` says which rule named it (``--data-dir``, ``PROJECTS_PATH``,
    ``CLAUDE_CONFIG_DIR``, ``default`` or ``demo``).
    """

    projects_dir: Path
    config_dir: Path | None
    origin: str


@dataclass
class Discovery:
    """The outcome of root resolution: ``roots`` that exist, every path ``tried``, those ``missing``."""

    roots: list[DataRoot]
    tried: list[Path] = field(default_factory=list)
    missing: list[Path] = field(default_factory=list)
    explicit: bool = False


def _root_for(entry: Path, origin: str) -> DataRoot:
    """A ``--data-dir``-style entry: a config dir holding ``projects/``, or a projects dir itself."""
    entry = entry.expanduser().absolute()
    if (entry / "projects").is_dir():
        return DataRoot(entry / "projects", entry, origin)
    config = entry.parent if entry.name == "projects" else None
    return DataRoot(entry, config, origin)


def _split_list(value: str) -> list[Path]:
    return [Path(part.strip()) for part in value.split(",") if part.strip()]


def resolve_roots(
    data_dirs: Sequence[str | Path] | None = None,
    projects_path: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
) -> Discovery:
    """Resolve the data roots in DESIGN section 2's order of precedence.

    1. ``data_dirs`` (``--data-dir``, repeatable) and ``projects_path`` (``--projects-path``);
    2. ``PROJECTS_PATH``, then ``CLAUDE_CONFIG_DIR`` (comma-separated) from ``env``;
    3. ``~/.config/claude/projects`` and ``~/.claude/projects``.

    Returns a :class:`Discovery` whose ``roots`` exist, as real paths (symlinks and ``..``
    resolved), deduplicated.
    Raises :class:`RootError` when explicitly named roots are all missing, and
    :class:`NoDataError` when nothing was named and no default exists or holds a transcript.
    """
    env = os.environ if env is None else env
    home = Path.home() if home is None else home
    named: list[DataRoot] = []
    origin = ""
    if data_dirs or projects_path:
        named = [_root_for(Path(d), "--data-dir") for d in data_dirs or ()]
        if projects_path:
            path = Path(projects_path).expanduser().absolute()
            named.append(DataRoot(path, path.parent if path.name == "projects" else None, "--projects-path"))
        origin = "--data-dir/--projects-path"
    elif env.get("PROJECTS_PATH"):
        path = Path(env["PROJECTS_PATH"]).expanduser().absolute()
        named = [DataRoot(path, path.parent if path.name == "projects" else None, "PROJECTS_PATH")]
        origin = "PROJECTS_PATH"
    elif env.get("CLAUDE_CONFIG_DIR"):
        named = [_root_for(p, "CLAUDE_CONFIG_DIR") for p in _split_list(env["CLAUDE_CONFIG_DIR"])]
        origin = "CLAUDE_CONFIG_DIR"

    if named:
        candidates, explicit = named, True
    else:
        candidates = [
            DataRoot(home / ".config" / "claude" / "projects", home / ".config" / "claude", "default"),
            DataRoot(home / ".claude" / "projects", home / ".claude", "default"),
        ]
        explicit = False

    found: list[DataRoot] = []
    seen: set[str] = set()
    missing: list[Path] = []
    for root in candidates:
        if not root.projects_dir.is_dir():
            missing.append(root.projects_dir)
            continue
        real = os.path.realpath(root.projects_dir)
        if real not in seen:
            # One spelling per directory (no "..", no symlink), so that the index, keyed by
            # file path, sees the same files however the directory was named.
            seen.add(real)
            config = Path(os.path.realpath(root.config_dir)) if root.config_dir is not None else None
            found.append(DataRoot(Path(real), config, root.origin))
    tried = [root.projects_dir for root in candidates]
    if not found:
        if explicit:
            raise RootError(missing, origin)
        raise NoDataError(tried)
    if not explicit and not any(has_transcripts(root) for root in found):
        # Claude Code installed but never used: as good as no data (the demo is suggested).
        raise NoDataError(tried)
    return Discovery(roots=found, tried=tried, missing=missing, explicit=explicit)


def has_transcripts(root: DataRoot) -> bool:
    """True when at least one ``*.jsonl`` lies below ``root.projects_dir`` (stops at the first)."""
    for _dirpath, _dirnames, filenames in os.walk(root.projects_dir, followlinks=False):
        if any(name.endswith(".jsonl") for name in filenames):
            return True
    return False


@dataclass(frozen=True)
class TranscriptFile:
    """A ``*.jsonl`` transcript below a projects dir.

    ``project`` is the directory directly under ``projects/`` (the project key); ``fallback_session``
    is the session id to use for lines without ``sessionId`` (DESIGN section 4): the file stem for
    ``<project>/<name>.jsonl``, else the first directory below the project dir. A file lying
    directly in ``projects/`` gets the project key ``(root)``.
    """

    path: Path
    root: DataRoot
    project: str
    fallback_session: str

    @property
    def name(self) -> str:
        """The path as text that can always be stored and shown (see
        :func:`~claude_usage.sources.safe_files.display_path`)."""
        return display_path(self.path)

    @property
    def is_subagent(self) -> bool:
        """True for subagent transcripts (``agent-*.jsonl``)."""
        return self.path.name.startswith("agent-")


def is_within(path: str | Path, folder: str | Path) -> bool:
    """True when ``path``, with every symlink and ``..`` resolved, lies inside ``folder`` (also
    resolved). The rule for every file this product opens below a data root (DESIGN 2, 9).
    A path that cannot be resolved (a name too long, a symlink loop, a link changing while it
    is read) is not inside."""
    try:
        real_folder = os.path.realpath(folder)
        return os.path.commonpath([real_folder, os.path.realpath(path)]) == real_folder
    except (OSError, ValueError):
        return False


def transcript_files(root: DataRoot) -> list[TranscriptFile]:
    """Every ``*.jsonl`` below ``root.projects_dir``, recursively, sorted by path.

    Directory symlinks are not followed and file symlinks that resolve outside the root are
    skipped (DESIGN section 2: follow no symlink out of the root). Unreadable directories are
    skipped silently; unreadable files are reported by the reader.
    """
    base = root.projects_dir
    base_text = os.fspath(base)
    out: list[TranscriptFile] = []
    # Plain strings and one split per directory: a refresh lists every transcript each time,
    # thousands of them for a long history.
    for dirpath, dirnames, filenames in os.walk(base_text, followlinks=False):
        dirnames.sort()
        names = sorted(name for name in filenames if name.endswith(".jsonl"))
        if not names:
            continue
        inner = dirpath[len(base_text):].strip(os.sep)
        folders = [display_path(part) for part in inner.split(os.sep)] if inner else []
        folder = Path(dirpath)
        for name in names:
            full = os.path.join(dirpath, name)
            if os.path.islink(full) and not is_within(full, base_text):
                continue
            stem = display_path(name[: -len(".jsonl")])
            if not folders:
                project, session = "(root)", stem
            elif len(folders) == 1:
                project, session = folders[0], stem
            else:
                project, session = folders[0], folders[1]
            out.append(TranscriptFile(folder / name, root, project, session))
    return out


AGENT_META_BYTES = 1 << 20


def read_agent_meta(transcript: Path) -> dict:
    """``{agentType, description}`` from ``agent-<id>.meta.json`` beside a subagent transcript
    (empty when missing, unreadable, not a regular file, over 1 MiB or not JSON)."""
    from claude_usage.sources import lenient_json
    from claude_usage.sources.safe_files import read_regular

    try:
        meta = lenient_json.loads(read_regular(transcript.with_name(transcript.stem + ".meta.json"), AGENT_META_BYTES))
    except (OSError, ValueError):
        return {}
    if not isinstance(meta, dict):
        return {}
    return {key: meta[key] for key in ("agentType", "description") if isinstance(meta.get(key), str)}
