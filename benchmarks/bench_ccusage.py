"""ccusage side by side: installs ``ccusage@20.0.24`` with npm into a temp prefix and runs its
native binary (or, without one, its Node.js entry) offline on the same corpus.

Nothing here may stop the benchmark: every failure becomes a note that is printed instead of
ccusage's figures.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import stat
import subprocess
from pathlib import Path

from bench_procs import Run, run_measured

PACKAGE = "ccusage@20.0.24"
VERSION = PACKAGE.split("@")[1]


class Ccusage:
    """An installed ccusage, or the reason there is none (``command`` is None then)."""

    def __init__(self, command: list[str] | None, report_args: list[str], note: str, home: Path | None = None):
        self.command, self.report_args, self.note, self.home = command, report_args, note, home

    @property
    def available(self) -> bool:
        """True when ccusage can be run."""
        return self.command is not None

    @classmethod
    def install(cls, prefix: Path) -> "Ccusage":
        """Install into ``prefix`` and find the command and its flags; never raises."""
        npm = shutil.which("npm")
        if npm is None:
            return cls(None, [], "npm is not on PATH: the ccusage comparison was skipped")
        try:
            done = subprocess.run([npm, "install", "--prefix", str(prefix), PACKAGE, "--no-audit", "--no-fund",
                                   "--loglevel=error"], capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as error:
            return cls(None, [], f"npm install {PACKAGE} failed ({error}): the ccusage comparison was skipped")
        if done.returncode != 0:
            return cls(None, [], f"npm install {PACKAGE} failed ({_npm_reason(done.stderr)}): the ccusage comparison was skipped")
        command, kind = _native_binary(prefix), "native binary"
        if command is None:
            entry, node = prefix / "node_modules" / "ccusage" / "src" / "cli.js", shutil.which("node")
            if not entry.exists() or node is None:
                return cls(None, [], f"{PACKAGE} installed, but neither its native binary nor node + its CLI entry "
                                     "were found: the ccusage comparison was skipped")
            command, kind = [node, str(entry)], "Node.js entry (no native binary for this platform)"
        home = prefix / "home"  # an empty HOME: ccusage finds no other agent's data
        home.mkdir(exist_ok=True)
        version = _output(command + ["--version"], home)
        if VERSION not in version:
            return cls(None, [], f"{PACKAGE}: `--version` said {version.strip()[:80]!r}: the comparison was skipped")
        report_args, flag_note = _report_args(command, home)
        if report_args is None:
            return cls(None, [], flag_note)
        return cls(command, report_args, f"ccusage {VERSION}, {kind}: `ccusage {' '.join(report_args)}`{flag_note}", home)

    def env(self, corpus: Path) -> dict:
        """The environment of a run: the corpus as its Claude config dir, an empty home."""
        env = {k: v for k, v in os.environ.items() if k not in ("CLAUDE_CONFIG_DIR", "PROJECTS_PATH")}
        env.update(HOME=str(self.home), CLAUDE_CONFIG_DIR=str(corpus), XDG_CONFIG_HOME=str(self.home / ".config"),
                   XDG_CACHE_HOME=str(self.home / ".cache"), NO_COLOR="1")
        return env

    def run(self, corpus: Path) -> Run:
        """One measured ``daily --json`` run on ``corpus`` (offline)."""
        return run_measured(self.command + self.report_args, self.env(corpus))


def total_tokens(run: Run) -> int | None:
    """ccusage's ``totals.totalTokens`` from its JSON output (None when it has none)."""
    try:
        return int(json.loads(run.stdout)["totals"]["totalTokens"])
    except (ValueError, KeyError, TypeError):
        return None


def _npm_reason(stderr: str) -> str:
    """The first telling line of npm's error output (not the pointer to its log file)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip() and "complete log" not in line]
    return (lines or ["no message"])[0][:160]


def _native_binary(prefix: Path) -> list[str] | None:
    """The platform package's binary (``@ccusage/ccusage-<os>-<arch>/bin/ccusage``), made
    executable (npm does not keep the mode; ccusage's own launcher sets it the same way)."""
    system = {"Linux": "linux", "Darwin": "darwin", "Windows": "win32"}.get(platform.system(), "")
    arch = {"x86_64": "x64", "AMD64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine(), "")
    name = "ccusage.exe" if system == "win32" else "ccusage"
    binary = prefix / "node_modules" / "@ccusage" / f"ccusage-{system}-{arch}" / "bin" / name
    if not binary.exists():
        return None
    binary.chmod(binary.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return [str(binary)]


def _output(cmd: list[str], home: Path) -> str:
    """stdout and stderr of a short command (empty when it cannot run)."""
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                              env={**os.environ, "HOME": str(home), "NO_COLOR": "1"})
        return done.stdout + done.stderr
    except (OSError, subprocess.TimeoutExpired):
        return ""


def _report_args(command: list[str], home: Path) -> tuple[list[str] | None, str]:
    """The daily report's arguments, checked against ``--help``: ``claude daily --json
    --offline`` (Claude Code data only) where the version has the ``claude`` group, else
    ``daily --json --offline``. Without an offline flag nothing is run (it would fetch prices)."""
    for args in (["claude", "daily"], ["daily"]):
        text = _output(command + args + ["--help"], home)
        if "--json" in text and "--offline" in text:
            return args + ["--json", "--offline"], ""
    return None, f"ccusage {VERSION}: no `--json`/`--offline` in `daily --help`: the comparison was skipped"
