"""Live serving (DESIGN section 7): the server follows the transcripts through the index.

At start-up the index is brought up to date in the background (``/api/health`` says
``indexing`` with its progress, and what is already indexed is served meanwhile); then a
file watcher (watchfiles) triggers a refresh on every change. Each committed batch updates the
served dataset in place of the old one and is pushed to ``GET /api/v2/events`` clients as
``{"type": "update", "totals": <summary>, "changedDays": [...]}`` (Server-Sent Events).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any, AsyncIterator, Callable

import msgspec
from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from claude_usage.api.params import ApiError
from claude_usage.api.store import DataStore
from claude_usage.timebuckets import iso_utc
from claude_usage.reports import Query

router = APIRouter(prefix="/api/v2", tags=["live"])
DEFAULT_HEARTBEAT = 15.0
WATCH_DEBOUNCE_MS = 50
POLL_DELAY_MS = 1000  # when the OS cannot watch every directory: look for changes every second
RETRY_SECONDS = 5.0  # a refresh that failed is tried again after this long
log = logging.getLogger("claude_usage.live")


def data_problems(diagnostics: Any) -> list[str]:
    """What of the data roots could not be read, from a dataset's diagnostics: ``*.jsonl``
    paths that are not regular files and unreadable transcripts (their names are in the
    dataset's warnings)."""
    found = []
    if diagnostics.skippedFiles:
        found.append(f"{diagnostics.skippedFiles:,} *.jsonl path(s) skipped: not regular files (see warnings)")
    if diagnostics.unreadableFiles:
        found.append(f"{diagnostics.unreadableFiles:,} transcript(s) could not be read (see warnings)")
    return found


def _watch_error(error: OSError) -> str:
    """A short reason for a failed file watch (the OS's watch limit has a name users can set)."""
    text = str(error)
    if "limit" in text.lower():
        return "the OS limit of watched directories was reached (Linux: sysctl fs.inotify.max_user_watches)"
    return f"the OS cannot watch the data dirs ({text.split(' (Error')[0]})"


class EventHub:
    """The connected SSE clients, one queue each; events are published from any thread."""

    def __init__(self) -> None:
        self.queues: set[asyncio.Queue] = set()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.closed = False

    def close(self) -> None:
        """End every stream (the server is stopping; streams would otherwise hold it up)."""
        def end() -> None:
            self.closed = True
            for queue in list(self.queues):
                queue.put_nowait(None)

        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(end)

    def subscribe(self) -> asyncio.Queue:
        """A queue receiving every event from now on."""
        queue: asyncio.Queue = asyncio.Queue(maxsize=256)
        self.queues.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        """Forget a client's queue (it disconnected)."""
        self.queues.discard(queue)

    def _publish(self, event: dict) -> None:
        for queue in list(self.queues):
            if queue.full():  # a client that does not read: drop its oldest event
                queue.get_nowait()
            queue.put_nowait(event)

    def publish(self, event: dict) -> None:
        """Send ``event`` to every client (safe from any thread)."""
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._publish, event)


class Live:
    """Keeps ``store`` in step with the transcripts through ``index`` (a
    :class:`~claude_usage.index.UsageIndex`). ``pricer_factory`` makes the pricer when new
    requests must be priced."""

    def __init__(self, store: DataStore, index: Any, pricer_factory: Callable[[], Any], heartbeat: float = DEFAULT_HEARTBEAT):
        self.store = store
        self.index = index
        self.pricer_factory = pricer_factory
        self.heartbeat = heartbeat
        self.hub = EventHub()
        self.state = "indexing"
        self.progress = 0.0
        self.last_refresh: dict[str, Any] = {}
        self.refresh_error: str | None = None  # why the last refresh failed; None once one works
        self.watcher = "starting"  # "events", "polling" (fallback), "stopped" or "off"
        self.watcher_problem: str | None = None
        self._logged: set[str] = set()
        self._lock = threading.Lock()
        self._stop: asyncio.Event | None = None
        self._pending: list[tuple[list, list]] = []
        self._pricer_instance: Any = None

    # -- refresh -----------------------------------------------------------------------------

    def _on_progress(self, files_done: int, files_total: int, bytes_done: int, bytes_total: int) -> None:
        self.progress = bytes_done / bytes_total if bytes_total else 1.0

    def _on_batch(self, changed: set[str]) -> None:
        old = self.store.dataset
        new = self.index.apply_changes(old, changed)
        self.store.replace(new)
        self._pending.append((old.find(changed), new.find(changed)))

    def _publish(self) -> None:
        """One event for what the last refresh changed (its days, and the new totals)."""
        if not self._pending:
            return
        clock = Query(zone=self.store.default_zone).clock
        days = {clock.parts(r.ts_us)[0] for before, after in self._pending for r in (*before, *after)}
        self._pending.clear()
        self.hub.publish({"type": "update", "totals": self.totals(), "changedDays": sorted(days)})

    def totals(self) -> dict[str, Any]:
        """The summary object of the events (that of ``/api/v2/summary``), in the server's zone."""
        from claude_usage.api.details import full_summary

        return full_summary(self.store, Query(zone=self.store.default_zone))

    def problems(self) -> list[str]:
        """What keeps the served data from being complete and current, for ``/api/health``
        (``status: degraded``): a failed refresh, a stopped watcher, skipped or unreadable
        files. Empty when all is well."""
        found = []
        if self.refresh_error:
            found.append(f"reading the transcripts failed: {self.refresh_error}")
        if self.watcher == "stopped":
            found.append(f"live updates stopped: {self.watcher_problem}")
        return found + data_problems(self.store.dataset.diagnostics)

    def refresh(self, initial: bool = False) -> dict[str, Any]:
        """Bring the index and the served data up to date now; returns what was done.

        Raises what the index raised (after noting it for ``/api/health`` and the log): the
        served data stay those of the last refresh that worked."""
        with self._lock:
            began = time.perf_counter()
            try:
                result = self.index.refresh(self._pricer, self._on_progress if initial else None, on_batch=self._on_batch)
            except Exception as error:
                self.refresh_error = f"{type(error).__name__}: {error}"
                log.error("reading the transcripts failed: %s", self.refresh_error)
                self._publish()
                raise
            if self.refresh_error is not None:
                log.warning("reading the transcripts works again")
            self.refresh_error = None
            if result.files_read and not result.changed:
                self.store.replace(self.index.with_file_facts(self.store.dataset))
            work = time.perf_counter() - began
            self._publish()
            self._log_new_warnings()
            self.last_refresh = {
                "at": iso_utc(time.time_ns() // 1000),
                "changedRequests": len(result.changed),
                "filesRead": result.files_read,
                "bytesRead": result.bytes_read,
                "seconds": round(work, 6),  # index and served data updated; the event follows
            }
            return self.last_refresh

    def _log_new_warnings(self, shown: int = 20) -> None:
        """Log the file problems that appeared since the last refresh (skipped files, damaged
        lines), at most ``shown`` at once."""
        current = self.store.dataset.warnings
        new = [warning for warning in current if warning not in self._logged]
        for warning in new[:shown]:
            log.warning("%s", warning)
        if len(new) > shown:
            log.warning("%d more files with problems (see /api/health)", len(new) - shown)
        self._logged = set(current)

    def _pricer(self) -> Any:
        """One pricer for the server's life (its rates cache and the price data stay loaded)."""
        if self._pricer_instance is None:
            self._pricer_instance = self.pricer_factory()
        return self._pricer_instance

    # -- lifecycle ---------------------------------------------------------------------------

    async def _refresh_logged(self, initial: bool = False) -> bool:
        """One refresh in a worker thread; a failure is noted (health, log), never raised."""
        try:
            await asyncio.to_thread(self.refresh, initial)
            return True
        except Exception:
            return False

    async def run(self) -> None:
        """The background task: the first index build, then a refresh after each file change.

        The watcher uses the OS's file events; when the OS cannot watch every directory (its
        watch limit), it falls back to polling once a second, and says so in ``/api/health``.
        A failed refresh is retried every few seconds and reported, never fatal."""
        self.hub.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            await self._refresh_logged(initial=True)
        finally:
            self.state, self.progress = "ok", 1.0
        # Load the price data now, not when the first new request arrives.
        try:
            await asyncio.to_thread(lambda: self._pricer().preload())
        except Exception as error:  # reported by the next refresh that needs a price
            log.error("loading the price data failed: %s", error)
        folders = [str(root.projects_dir) for root in self.store.dataset.roots if root.projects_dir.is_dir()]
        if not folders:
            self.watcher = "off"
            return
        polling = False
        while not self._stop.is_set():
            try:
                await self._watch(folders, polling)
                return
            except OSError as error:
                if polling:
                    self.watcher, self.watcher_problem = "stopped", str(error)
                    log.error("live updates stopped: %s", error)
                    return
                polling = True
                reason = _watch_error(error)
                self.watcher_problem = f"{reason}; following the transcripts by polling every {POLL_DELAY_MS / 1000:g} s"
                log.warning("%s; polling every %g s instead", reason, POLL_DELAY_MS / 1000)
            except Exception as error:
                self.watcher, self.watcher_problem = "stopped", f"{type(error).__name__}: {error}"
                log.error("live updates stopped: %s", self.watcher_problem)
                return

    async def _watch(self, folders: list[str], polling: bool) -> None:
        """Refresh after every change below ``folders`` until stopped (file events, or polling);
        while the last refresh failed, also every :data:`RETRY_SECONDS`."""
        from watchfiles import awatch

        self.watcher = "polling" if polling else "events"
        async for changes in awatch(*folders, debounce=WATCH_DEBOUNCE_MS, step=20, stop_event=self._stop,
                                    force_polling=True if polling else None, poll_delay_ms=POLL_DELAY_MS,
                                    rust_timeout=int(RETRY_SECONDS * 1000), yield_on_timeout=True,
                                    watch_filter=lambda _change, path: path.endswith((".jsonl", ".meta.json"))):
            if changes or self.refresh_error is not None:
                await self._refresh_logged()

    def stop(self) -> None:
        """Ask the watcher to stop."""
        if self._stop is not None:
            self._stop.set()


def _live(request: Request) -> Live | None:
    return getattr(request.app.state, "live", None)


@router.get("/events", summary="Server-Sent Events: a notice with the new totals on every change",
            response_class=StreamingResponse, responses={200: {"content": {"text/event-stream": {}}}})
async def events(request: Request) -> Response:
    live = _live(request)
    heartbeat = live.heartbeat if live else DEFAULT_HEARTBEAT
    hub = live.hub if live else EventHub()
    if hub.loop is None:
        hub.loop = asyncio.get_running_loop()
    queue = hub.subscribe()

    async def stream() -> AsyncIterator[bytes]:
        try:
            yield b": connected\n\n"
            while not hub.closed:
                try:
                    event = await asyncio.wait_for(queue.get(), timeout=heartbeat)
                except asyncio.TimeoutError:
                    yield b": heartbeat\n\n"
                    continue
                if event is None:  # the server is stopping
                    return
                yield b"data: " + msgspec.json.encode(event) + b"\n\n"
        finally:
            hub.unsubscribe(queue)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.post("/refresh", summary="Read changed transcripts now (the file watcher also does)")
async def refresh(request: Request) -> dict[str, Any]:
    live = _live(request)
    if live is None:
        return {"changedRequests": 0, "filesRead": 0, "bytesRead": 0, "seconds": 0.0, "live": False}
    try:
        done = await asyncio.to_thread(live.refresh)
    except Exception:
        raise ApiError(503, "refresh_failed", f"Reading the transcripts failed: {live.refresh_error}; "
                       "the data served are those of the last refresh that worked (see /api/health)") from None
    return {**done, "live": True}
