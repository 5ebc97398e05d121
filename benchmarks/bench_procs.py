"""Running a command as a black box and measuring it: wall time, peak RSS of the process (exact,
from ``wait4``) and of its whole process tree (sampled from /proc), exit code and output."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def claude_usage_command() -> list[str]:
    """How users run the product: the ``claude-usage`` console script installed next to the
    running Python, else ``python -m claude_usage``."""
    script = Path(sys.executable).with_name("claude-usage")
    if script.exists():
        return [str(script)]
    found = shutil.which("claude-usage")
    return [found] if found else [sys.executable, "-m", "claude_usage"]


def tree_rss_kb(pid: int) -> tuple[int, int]:
    """(RSS of ``pid``, RSS of ``pid`` and all its descendants) in KB, from /proc/*/stat."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    with os.scandir("/proc") as entries:
        for entry in entries:
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as stat:
                    fields = stat.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            # After the command name: state, ppid, ... rss is the 24th field of the line.
            children.setdefault(int(fields[1]), []).append(int(entry.name))
            rss[int(entry.name)] = int(fields[21]) * PAGE_KB
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        total += rss.get(current, 0)
        stack.extend(children.get(current, []))
    return rss.get(pid, 0), total


class RssSampler(threading.Thread):
    """Samples the RSS of a process and of its tree every ``interval`` seconds; keeps the
    peaks (KB). Stop it with :meth:`stop`."""

    def __init__(self, pid: int, interval: float = 0.02):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak = self.peak_tree = 0
        self.done = threading.Event()
        self.start()

    def run(self) -> None:
        """Sample until stopped."""
        while not self.done.is_set():
            own, tree = tree_rss_kb(self.pid)
            self.peak, self.peak_tree = max(self.peak, own), max(self.peak_tree, tree)
            self.done.wait(self.interval)

    def stop(self) -> None:
        """Stop sampling and wait for the thread."""
        self.done.set()
        self.join()


@dataclass
class Run:
    """One measured run: wall seconds, peak RSS of the process and of its tree (KB), exit code,
    stdout and the end of stderr."""

    wall: float
    rss_kb: int
    tree_kb: int
    code: int
    stdout: str
    stderr: str

    @property
    def rss_mb(self) -> float:
        return self.rss_kb / 1024

    @property
    def tree_mb(self) -> float:
        return self.tree_kb / 1024


def run_measured(cmd: list[str], env: dict, stdin_text: str | None = None, sample: float | None = 0.02,
                 timeout: float = 3600) -> Run:
    """Run ``cmd`` once and measure it. Output goes to temp files (no pipe can block the child
    and no reader thread competes with it); ``sample`` is the tree-RSS sampling interval (None:
    no sampling, only the process's own peak from ``wait4``, for very short runs)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as given:
        if stdin_text is not None:
            given.write(stdin_text.encode())
            given.seek(0)
        began = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=given if stdin_text is not None else subprocess.DEVNULL, stdout=out,
                                stderr=err, env=env)
        sampler = RssSampler(proc.pid, sample) if sample else None
        status, usage = _wait4(proc, timeout)
        wall = time.perf_counter() - began
        if sampler:
            sampler.stop()
        out.seek(0)
        err.seek(0)
        peak = max(usage.ru_maxrss, sampler.peak if sampler else 0)
        tree = max(peak, sampler.peak_tree if sampler else 0)
        return Run(wall, peak, tree, status, out.read().decode(errors="replace"), err.read().decode(errors="replace")[-2000:])


def _wait4(proc: subprocess.Popen, timeout: float):
    """Wait for ``proc`` with a blocking ``wait4`` (its rusage holds the exact peak RSS); a timer
    kills it after ``timeout`` seconds. Returns (exit code, rusage)."""
    killer = threading.Timer(timeout, proc.kill)
    killer.start()
    try:
        _pid, status, usage = os.wait4(proc.pid, 0)
    finally:
        killer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage


def peak_rss_kb(pid: int) -> int:
    """The peak RSS (VmHWM) of a running process, in KB (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0
