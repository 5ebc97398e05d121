"""The progress bar of a long scan (files and MB, on stderr), shown only once a scan has taken
over a second, so that quick commands and ``--json`` output never show one."""

from __future__ import annotations

import time
from typing import Any


class LazyProgress:
    """A progress bar (files and MB) on stderr, shown only once a scan has taken over a second."""

    def __init__(self, console: Any) -> None:
        self.console = console  # stderr (a lazily made Rich console: see cli.common)
        self.started = time.monotonic()
        self.bar: Any = None
        self.task: Any = None

    def __call__(self, files_done: int, files_total: int, bytes_done: int, bytes_total: int) -> None:
        if self.bar is None:
            if time.monotonic() - self.started < 1.0 or files_done >= files_total:
                return
            from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(
                TextColumn("Reading transcripts"),
                BarColumn(),
                TextColumn("{task.fields[files]}"),
                DownloadColumn(),
                TimeRemainingColumn(),
                console=self.console.real(),
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task("scan", total=bytes_total or 1, files="")
        self.bar.update(self.task, completed=bytes_done, files=f"{files_done:,}/{files_total:,} files")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
