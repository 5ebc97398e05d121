"""``serve --push-to URL``: the server pushes this machine's requests to the team store after
every change of its local store, at most once per interval (DESIGN 12).

Pushes run in one background thread, one at a time; a change during a push or within the
interval schedules one more push at the interval's end, so the team store is never more than
one interval behind. A failure is kept for ``/api/health`` and the log (one line, no
credentials) and retried at the next change or interval.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

from claude_usage.team.connection import TeamError, describe, redact
from claude_usage.team.identity import Identity

log = logging.getLogger("claude_usage.push")
DEFAULT_INTERVAL_S = 60.0


class AutoPush:
    """Pushes ``local`` (the server's store) to the team database ``url`` as ``who``, at most
    every ``interval_s`` seconds after :meth:`changed` is called."""

    def __init__(self, local: Any, url: str, who: Identity, interval_s: float = DEFAULT_INTERVAL_S,
                 open_team: Callable[[str], Any] | None = None):
        from claude_usage.team.store import TeamStore

        self.local = local
        self.url = url
        self.who = who
        self.interval_s = interval_s
        self._open = open_team or (lambda address: TeamStore(address, "claude-usage serve --push-to"))
        self._team: Any = None
        self._lock = threading.Lock()
        self._wanted = False
        self._running = False
        self._timer: threading.Timer | None = None
        self._last_start = 0.0
        self.last: dict[str, Any] | None = None
        self.last_at: str | None = None
        self.error: str | None = None

    def status(self) -> dict[str, Any]:
        """For ``/api/health``: where, how often, the last push's summary and time, the error."""
        return {"to": describe(self.url), "everySeconds": self.interval_s, "machine": self.who.name, "user": self.who.user,
                "lastPush": self.last_at, "lastResult": self.last, "error": self.error, "running": self._running}

    def changed(self) -> None:
        """The local store changed: push now, or at the end of the interval since the last push."""
        with self._lock:
            self._wanted = True
            if self._running or self._timer is not None:
                return
            wait = self._last_start + self.interval_s - time.monotonic()
            if wait > 0:
                self._timer = threading.Timer(wait, self._from_timer)
                self._timer.daemon = True
                self._timer.start()
                return
            self._start()

    def _from_timer(self) -> None:
        with self._lock:
            self._timer = None
            if self._wanted and not self._running:
                self._start()

    def _start(self) -> None:
        self._wanted = False
        self._running = True
        self._last_start = time.monotonic()
        threading.Thread(target=self._run, name="claude-usage-push", daemon=True).start()

    def _run(self) -> None:
        from claude_usage.team.push import push
        from claude_usage.timebuckets import iso_utc

        try:
            if self._team is None:
                self._team = self._open(self.url)
            result = push(self.local, self._team, self.who)
            self.last, self.error = result.document(), None
            self.last_at = iso_utc(time.time_ns() // 1000)
            if result.new or result.updated:
                log.info("pushed %d new and %d updated requests to %s", result.new, result.updated, result.team)
        except TeamError as error:
            self.error = str(error)
            log.warning("push to the team database failed: %s", self.error)
        except Exception as error:  # e.g. the local store is busy: the next change tries again
            self.error = redact(f"{type(error).__name__}: {error}", self.url)
            log.warning("push to the team database failed: %s", self.error)
        finally:
            with self._lock:
                self._running = False
                again = self._wanted or self.error is not None
            if again:
                self.changed()

    def stop(self) -> None:
        """Cancel a scheduled push and close the team connections."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._wanted = False
        if self._team is not None:
            self._team.close()
