"""Live serving (DESIGN section 7): the server follows the transcripts through the index.

At start-up the store is brought up to date in the background (``/api/health`` says
``indexing`` with its progress, and what is already stored is served meanwhile); then a file
watcher (watchfiles) triggers a refresh on every change. Whoever writes the store (this server,
a CLI command, the status line, another server), the change is seen by polling its data
version and pushed to ``GET /api/v2/events`` clients as ``{"type": "update", "totals":
<summary>, "changedDays": [...]}`` (Server-Sent Events); after each change the budgets are
checked, and an alert raised is pushed as ``{"type": "alert", "alert": {...}}``; an
official-limits observation recorded by a status line (the store's ``observations`` mark) as
``{"type": "limits", "officialLimits": ...}``.
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
from claude_usage.formats import plural
from claude_usage.timebuckets import iso_utc
from claude_usage.reports import Query

router = APIRouter(prefix="/api/v2", tags=["live"])
DEFAULT_HEARTBEAT = 15.0
WATCH_DEBOUNCE_MS = 50
POLL_VERSION_S = 0.2  # how often the store's data version is read (changes by other processes)
POLL_DELAY_MS = 1000  # when the OS cannot watch every directory: look for changes every second
RETRY_SECONDS = 5.0  # a refresh that failed is tried again after this long
WATCH_READY_S = 0.5  # how long the file watcher may take to start watching
log = logging.getLogger("claude_usage.live")


def data_problems(diagnostics: Any) -> list[str]:
    """What of the data roots could not be read, from a dataset's diagnostics: ``*.jsonl``
    paths that are not regular files and unreadable transcripts (their names are in the
    dataset's warnings)."""
    found = []
    if diagnostics.skippedFiles:
        found.append(f"{plural(diagnostics.skippedFiles, '*.jsonl path')} skipped: not regular files (see warnings)")
    if diagnostics.unreadableFiles:
        found.append(f"{plural(diagnostics.unreadableFiles, 'transcript')} could not be read (see warnings)")
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
    """Keeps the served answers in step with the store and the store with the transcripts.

    The server's own file watcher refreshes the store (``pricer_factory`` makes the pricer when
    new requests must be priced); a poller reads the store's data version every
    :data:`POLL_VERSION_S` seconds, so a change written by any process (this server, a CLI
    command, the status line, another server) is served and pushed over SSE within a second,
    with the local days it touched (from the store's change log)."""

    def __init__(self, state: DataStore, pricer_factory: Callable[[], Any], heartbeat: float = DEFAULT_HEARTBEAT,
                 autopush: Any = None):
        self.autopush = autopush  # serve --push-to: a push to the team store after changes
        self.state_store = state
        self.store = state.store
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
        self._version_lock = threading.Lock()
        self._stop: asyncio.Event | None = None
        self._pricer_instance: Any = None
        self.budget_watch: Any = None  # the budget alerts (not on a team server, whose store is the machines')
        if not state.team:
            from claude_usage.api.budget_routes import BudgetWatch

            self.budget_watch = BudgetWatch(state)

    # -- following the store ---------------------------------------------------------------

    def check_version(self) -> bool:
        """Serve the store's current data version if it moved (any process wrote): drop the
        cached answers and push one event with the new totals and the local days changed.
        Returns whether it moved."""
        with self._version_lock:
            seen = self.state_store.version
            with self.store.reading() as view:
                version, observed = view.one("SELECT (SELECT value FROM meta WHERE key = 'version'), "
                                             "(SELECT value FROM meta WHERE key = 'observations')")
                version = int(version)
                spans = [] if version == seen else view.rows(
                    "SELECT first_ts, last_ts FROM changes WHERE version > ? AND version <= ?", (seen, version))
            if observed != self.state_store.observed:
                self._observed(observed)
            if version == seen:
                if self.budget_watch is not None and self.budget_watch.settings_changed():
                    self.check_budgets()  # a budget set or lowered: evaluated without new data
                return False
            self.state_store.changed(version)
            if self.autopush is not None:
                self.autopush.changed()
            clock = Query(zone=self.state_store.default_zone).clock
            days: set[str] = set()
            for first, last in spans:
                if first is None:
                    continue
                step = 3_600_000_000
                for ts in range(first, last + step, step):  # every local day the span touches
                    days.add(clock.parts(min(ts, last - 1))[0])
            self.hub.publish({"type": "update", "totals": self.totals(), "changedDays": sorted(days)})
            self.check_budgets()
            return True

    def check_budgets(self) -> None:
        """Raise the alerts of the budgets the store's data reached (SSE ``{"type": "alert"}``
        events and the webhook, :class:`~claude_usage.api.budget_routes.BudgetWatch`); a
        failure is logged, never raised."""
        if self.budget_watch is None:
            return
        try:
            self.budget_watch.check(self.hub.publish)
        except Exception as error:
            log.warning("checking the budgets failed: %s: %s", type(error).__name__, error)

    def _observed(self, mark: str | None) -> None:
        """A process recorded the official limits Claude Code passed to its status line (the
        store's ``observations`` mark moved): serve them and push ``{"type": "limits",
        "officialLimits": <the latest state, as in /api/v2/limits>}``."""
        from claude_usage.api.limits import official_now

        self.state_store.observed = mark
        self.hub.publish({"type": "limits", "officialLimits": official_now(self.state_store)})

    def totals(self) -> dict[str, Any]:
        """The summary object of the events (that of ``/api/v2/summary``), in the server's zone."""
        from claude_usage.api.details import full_summary
        from claude_usage.api.limits import official_now

        q = Query(zone=self.state_store.default_zone)
        return {**self.state_store.answer(lambda view: full_summary(self.state_store, q, view)),
                "officialLimits": official_now(self.state_store)}

    def problems(self) -> list[str]:
        """What keeps the served data from being complete and current, for ``/api/health``
        (``status: degraded``): a failed refresh, a stopped watcher, skipped or unreadable
        files. Empty when all is well."""
        from claude_usage.store import facts

        found = []
        if self.refresh_error:
            found.append(f"reading the transcripts failed: {self.refresh_error}")
        if self.watcher == "stopped":
            found.append(f"live updates stopped: {self.watcher_problem}")
        return found + data_problems(self.state_store.answer(facts.diagnostics))

    # -- refresh -----------------------------------------------------------------------------

    def _on_progress(self, files_done: int, files_total: int, bytes_done: int, bytes_total: int) -> None:
        self.progress = bytes_done / bytes_total if bytes_total else 1.0

    def refresh(self, initial: bool = False) -> dict[str, Any]:
        """Bring the store up to date now, and serve what changed; returns what was done.

        Raises what the store raised (after noting it for ``/api/health`` and the log): the
        served data stay those of the last state of the store."""
        with self._lock:
            began = time.perf_counter()
            try:
                result = self.store.refresh(self._pricer, self._on_progress if initial else None)
            except Exception as error:
                self.refresh_error = f"{type(error).__name__}: {error}"
                log.error("reading the transcripts failed: %s", self.refresh_error)
                raise
            if self.refresh_error is not None:
                log.warning("reading the transcripts works again")
            self.refresh_error = None
            work = time.perf_counter() - began
            self.check_version()
            self._log_new_warnings()
            self.last_refresh = {
                "at": iso_utc(time.time_ns() // 1000),
                "changedRequests": result.changed,
                "filesRead": result.files_read,
                "bytesRead": result.bytes_read,
                "seconds": round(work, 6),  # store and served data updated; the event follows
            }
            return self.last_refresh

    def _log_new_warnings(self, shown: int = 20) -> None:
        """Log the file problems that appeared since the last refresh (skipped files, damaged
        lines), at most ``shown`` at once."""
        from claude_usage.store import facts

        current = self.state_store.answer(facts.warnings)
        new = [warning for warning in current if warning not in self._logged]
        for warning in new[:shown]:
            log.warning("%s", warning)
        if len(new) > shown:
            log.warning("%d more files with problems (see /api/health)", len(new) - shown)
        self._logged = set(current)

    def _deep_check(self) -> None:
        """Once per server start: every kept row against the rollups (damage the quick checks
        on opening cannot see, such as an overwritten page of request rows); a damaged store is
        rebuilt from the transcripts."""
        try:
            problem = self.store.check(level="deep")
        except Exception as error:  # sqlite3.DatabaseError: a page the check could not read
            problem = f"{type(error).__name__}: {error}"
        if problem is None:
            return
        log.warning("the store is damaged (%s); rebuilding it from the transcripts", problem)
        self.store.rebuild(f"it is damaged ({problem})")
        try:
            self.refresh(initial=True)
        except Exception:
            pass  # noted by refresh

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

    async def _poll_version(self) -> None:
        """Every :data:`POLL_VERSION_S` seconds, serve what other processes wrote."""
        while self._stop is not None and not self._stop.is_set():
            try:
                await asyncio.to_thread(self.check_version)
            except Exception as error:  # a busy or damaged store: said by the next refresh
                log.debug("reading the data version failed: %s", error)
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=POLL_VERSION_S)
            except asyncio.TimeoutError:
                pass

    async def run(self) -> None:
        """The background task: the first index build, then a refresh after each file change.

        The watcher uses the OS's file events; when the OS cannot watch every directory (its
        watch limit), it falls back to polling once a second, and says so in ``/api/health``.
        A failed refresh is retried every few seconds and reported, never fatal."""
        self.hub.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        poller = asyncio.create_task(self._poll_version())
        if self.state_store.team:  # the machines' pushes change the data: only follow the version
            self.state, self.progress, self.watcher = "ok", 1.0, "off"
            self.watcher_problem = "a team server follows the pushes of the machines (no transcripts here)"
            try:
                await self._stop.wait()
            finally:
                poller.cancel()
            return
        if self.autopush is not None:
            self.autopush.changed()  # the first push, whatever the store holds
        try:
            await self._refresh_logged(initial=True)
            await asyncio.to_thread(self._deep_check)
            await asyncio.to_thread(self.check_budgets)  # the data as found, before any change
        finally:
            self.state, self.progress = "ok", 1.0
        try:
            await self._follow()
        finally:
            poller.cancel()

    async def _follow(self) -> None:
        """Load the price data, then refresh the store after each change of the transcripts."""
        # Load the price data now, not when the first new request arrives.
        try:
            await asyncio.to_thread(lambda: self._pricer().preload())
        except Exception as error:  # reported by the next refresh that needs a price
            log.error("loading the price data failed: %s", error)
        folders = [str(root.projects_dir) for root in self.store.roots if root.projects_dir.is_dir()]
        if not folders:
            self.watcher = "off"
            return
        polling = False
        while not self._stop.is_set():
            try:
                await self._watch(folders, polling)
                return
            except OSError as error:
                if polling:  # the OS's polling failed too: look for changes ourselves
                    break
                polling = True
                reason = _watch_error(error)
                self.watcher_problem = f"{reason}; following the transcripts by polling every {POLL_DELAY_MS / 1000:g} s"
                log.warning("%s; polling every %g s instead", reason, POLL_DELAY_MS / 1000)
            except Exception as error:  # e.g. a file name the watcher cannot decode
                reason = f"the file watcher failed ({type(error).__name__}: {str(error).splitlines()[0][:200]})"
                self.watcher_problem = f"{reason}; following the transcripts by refreshing every {POLL_DELAY_MS / 1000:g} s"
                log.warning("%s; refreshing every %g s instead", reason, POLL_DELAY_MS / 1000)
                break
        await self._refresh_every_second()

    async def _refresh_every_second(self) -> None:
        """The last fallback: a refresh every :data:`POLL_DELAY_MS` (a refresh that finds
        nothing new reads no transcript: it lists and stats the files)."""
        self.watcher = "polling"
        while not self._stop.is_set():
            await self._refresh_logged()
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=POLL_DELAY_MS / 1000)
            except asyncio.TimeoutError:
                pass

    async def _watch(self, folders: list[str], polling: bool) -> None:
        """Refresh after every change below ``folders`` until stopped (file events, or polling);
        while the last refresh failed, also every :data:`RETRY_SECONDS`."""
        from watchfiles import awatch

        self.watcher = "polling" if polling else "events"
        # A change made between the first refresh and the moment the watcher is ready has no
        # event: one more refresh once it has had time to start catches it.
        catch_up = asyncio.get_running_loop().call_later(
            WATCH_READY_S, lambda: asyncio.ensure_future(self._refresh_logged()))
        try:
            await self._watch_events(awatch, folders, polling)
        finally:
            catch_up.cancel()

    async def _watch_events(self, awatch: Any, folders: list[str], polling: bool) -> None:
        """The watch loop of :meth:`_watch`."""
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
    if live is None or live.state_store.team:  # a team server reads no transcripts
        if live is not None:
            await asyncio.to_thread(live.check_version)
        return {"changedRequests": 0, "filesRead": 0, "bytesRead": 0, "seconds": 0.0, "live": False}
    try:
        done = await asyncio.to_thread(live.refresh)
    except Exception:
        raise ApiError(503, "refresh_failed", f"Reading the transcripts failed: {live.refresh_error}; "
                       "the data served are those of the last refresh that worked (see /api/health)") from None
    return {**done, "live": True}
