"""Live serving (DESIGN section 7): the server follows the transcripts through the index.

At start-up the index is brought up to date in the background (``/api/health`` says
``indexing`` with its progress, and what is already indexed is served meanwhile); then a
file watcher (watchfiles) triggers a refresh on every change. Each committed batch updates the
served dataset in place of the old one and is pushed to ``GET /api/v2/events`` clients as
``{"type": "update", "totals": <summary>, "changedDays": [...]}`` (Server-Sent Events).
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, AsyncIterator, Callable

import msgspec
from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from claude_usage.api.store import DataStore
from claude_usage.timebuckets import iso_utc
from claude_usage.reports import Query

router = APIRouter(prefix="/api/v2", tags=["live"])
DEFAULT_HEARTBEAT = 15.0
WATCH_DEBOUNCE_MS = 50


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

    def refresh(self, initial: bool = False) -> dict[str, Any]:
        """Bring the index and the served data up to date now; returns what was done."""
        with self._lock:
            began = time.perf_counter()
            result = self.index.refresh(self._pricer, self._on_progress if initial else None, on_batch=self._on_batch)
            work = time.perf_counter() - began
            self._publish()
            self.last_refresh = {
                "at": iso_utc(time.time_ns() // 1000),
                "changedRequests": len(result.changed),
                "filesRead": result.files_read,
                "bytesRead": result.bytes_read,
                "seconds": round(work, 6),  # index and served data updated; the event follows
            }
            return self.last_refresh

    def _pricer(self) -> Any:
        """One pricer for the server's life (its rates cache and the price data stay loaded)."""
        if self._pricer_instance is None:
            self._pricer_instance = self.pricer_factory()
        return self._pricer_instance

    # -- lifecycle ---------------------------------------------------------------------------

    async def run(self) -> None:
        """The background task: the first index build, then a refresh after each file change."""
        self.hub.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            await asyncio.to_thread(self.refresh, True)
        finally:
            self.state, self.progress = "ok", 1.0
        # Load the price data now, not when the first new request arrives.
        await asyncio.to_thread(lambda: self._pricer().preload())
        from watchfiles import awatch

        folders = [str(root.projects_dir) for root in self.store.dataset.roots if root.projects_dir.is_dir()]
        if not folders:
            return
        async for _changes in awatch(*folders, debounce=WATCH_DEBOUNCE_MS, step=20, stop_event=self._stop,
                                     watch_filter=lambda _change, path: path.endswith((".jsonl", ".meta.json"))):
            await asyncio.to_thread(self.refresh)

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
    return {**await asyncio.to_thread(live.refresh), "live": True}
