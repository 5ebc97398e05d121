"""The embedded store: one SQLite file (WAL) that every process reads and writes (DESIGN 7).

The server, CLI commands and the status line open the same file at once: writes are short
transactions taken at once (``BEGIN IMMEDIATE``), reads are snapshots (a read transaction per
report, so its queries agree with each other). A file that is not one of this product's stores
is never touched (:func:`check_index_path`); one that is damaged, of another schema version or
of other data roots is rebuilt from the transcripts with a notice.
"""

from __future__ import annotations

import hashlib
import os
import queue
import sqlite3
import stat
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from claude_usage.store.base import StoreReads
from claude_usage.paths import cache_dir
from claude_usage.sources.discovery import DataRoot, is_within
from claude_usage.sources.safe_files import kind_of, open_regular
from claude_usage.store.schema import APPLICATION_ID, SCHEMA_VERSION, ddl

_SQLITE_HEADER = b"SQLite format 3\x00"
READERS = 4  # connections that answer reports at once (each holds a page cache)


class IndexPathError(OSError):
    """The store path names something this product must not use or replace: a directory, a
    device, or a file that is not one of its own stores (no :data:`APPLICATION_ID` marker)."""


class StoreDamaged(Exception):
    """The store failed a check of its invariants; it is rebuilt from the transcripts."""


def roots_key(roots: Sequence[DataRoot]) -> str:
    """The identity of a set of roots: their real projects dirs, sorted, one per line."""
    return "\n".join(sorted(os.path.realpath(root.projects_dir) for root in roots))


def default_index_path(roots: Sequence[DataRoot]) -> Path:
    """``<cache dir>/index/<digest of the roots>.sqlite``: one store per set of data roots, so the
    dedupe is always over exactly the roots in use."""
    digest = hashlib.sha256(roots_key(roots).encode()).hexdigest()[:16]
    return cache_dir() / "index" / f"{digest}.sqlite"


def check_index_path(path: Path) -> bool:
    """Whether ``path`` may hold this product's store, before anything is opened or written.

    Returns True when it is free (missing or an empty file) or one of our stores (SQLite with
    :data:`APPLICATION_ID`, or an index of schema 5 or older, which had no marker: a ``meta``
    table with ``schema`` and ``roots``). A damaged file is ours to rebuild only when it lies in
    this product's own cache dir (``<cache>/index``, where nothing else writes); returns False
    for such a file. Raises :class:`IndexPathError` for a directory, a non-regular file, or any
    other file (a text file, another program's database): it is never deleted or overwritten.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return True
    if stat.S_ISDIR(info.st_mode):
        raise IndexPathError(f"{path} is a directory, not a claude-usage index")
    if not stat.S_ISREG(info.st_mode):
        raise IndexPathError(f"{path} is {kind_of(info.st_mode)}, not a claude-usage index")
    if info.st_size == 0:
        return True
    with open_regular(path) as handle:
        header = handle.read(100)
    own_dir = is_within(path, cache_dir() / "index")
    if header.startswith(_SQLITE_HEADER) and len(header) == 100:
        application_id = int.from_bytes(header[68:72], "big")
        if application_id == APPLICATION_ID:
            return True
        if application_id == 0 and _is_unmarked_index(path):
            return True
        if own_dir and application_id == 0:
            return False
        raise IndexPathError(f"{path} is another program's SQLite database, not a claude-usage index; left untouched")
    if own_dir:
        return False
    raise IndexPathError(f"{path} holds other data, not a claude-usage index; left untouched")


def _is_unmarked_index(path: Path) -> bool:
    """True for a store whose marker is not in the file's header (yet): an index of schema 5 or
    older (written before the marker), one whose marker is still in the write-ahead log, or an
    empty database (one being created by another process right now: nothing to lose). A
    read-only check."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            if conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0] == 0:
                return True
            if conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID:
                return True
            keys = {row[0] for row in conn.execute("SELECT key FROM meta WHERE key IN ('schema', 'roots')")}
        finally:
            conn.close()
    except sqlite3.Error:
        return False
    return keys == {"schema", "roots"}


def connect(path: Path, cache_kib: int = 8192) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL, a long busy timeout."""
    conn = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 60000")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute(f"PRAGMA cache_size = -{cache_kib}")
    return conn


def _alive(pid: int) -> bool:
    """Whether a process with this id exists (another user's process counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        try:
            os.unlink(f"{path}{suffix}")
        except FileNotFoundError:
            pass


class Reader:
    """One consistent view of the store (a read transaction): what report queries run on.

    ``rows(sql, params)`` and ``one(sql, params)`` take portable SQL with ``?`` placeholders;
    ``dialect`` names the engine for the few expressions that differ."""

    dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Every row of a query."""
        return self.conn.execute(sql, params).fetchall()

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple | None:
        """The first row of a query, None when there is none."""
        return self.conn.execute(sql, params).fetchone()


class SQLiteStore(StoreReads):
    """The store of one set of data roots in the SQLite file ``path`` (see the module docstring).

    ``notice(message)`` is told when the store is rebuilt. ``verify`` selects the checks made on
    opening: ``"full"`` (the row count of the kept requests against the rollups) or ``"light"``
    (the rollups against each other, for the status line, which opens the store every few
    seconds). Safe to share between threads: reads come from a small pool of connections, writes
    from one connection under a lock.
    """

    dialect = "sqlite"

    def __init__(self, path: Path, roots: Sequence[DataRoot], notice: Callable[[str], None] | None = None,
                 verify: str = "full"):
        self.path = Path(path)
        self.roots = list(roots)
        self.notice = notice or (lambda message: None)
        self.verify = verify
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.write_lock = threading.RLock()
        self._readers: queue.LifoQueue = queue.LifoQueue()
        self._reader_count = 0
        self._reader_lock = threading.Lock()
        self.conn = self._open()
        self.names: dict[str, dict[str, int]] = {}  # lookup table -> name -> id (writer's cache)

    # -- opening, checking, rebuilding --------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        if not check_index_path(self.path):
            self.notice(f"Rebuilding the index {self.path}: it is damaged (not a database).")
            _remove_database(self.path)
        was_empty = self.path.exists() and self.path.stat().st_size == 0
        reason = None
        try:
            conn = connect(self.path, 16384)
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not tables:
                if was_empty:
                    self.notice(f"Rebuilding the index {self.path}: it was empty.")
                self._create(conn)
                return conn
            meta = dict(conn.execute("SELECT key, value FROM meta")) if "meta" in tables else {}
            if meta.get("schema") != str(SCHEMA_VERSION):
                reason = f"it was written by another version (schema {meta.get('schema', 'unknown')}, now {SCHEMA_VERSION})"
            elif meta.get("roots") != roots_key(self.roots):
                reason = "it was built for other data roots"
            else:
                try:
                    self._check(conn)
                    return conn
                except StoreDamaged as damage:
                    reason = str(damage)
            conn.close()
        except sqlite3.DatabaseError as error:
            if "unable to open" in str(error):
                raise  # a path that cannot hold a database: not a damaged store
            reason = f"it is unreadable ({error})"
        self.notice(f"Rebuilding the index {self.path}: {reason}.")
        kept = self._keep_history()
        _remove_database(self.path)
        conn = connect(self.path, 16384)
        self._create(conn)
        kept.restore(conn)
        return conn

    def _create(self, conn: sqlite3.Connection) -> None:
        """Create the tables and the meta rows in one transaction (a process that loses the race
        to create them finds them made)."""
        try:
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.executescript("BEGIN IMMEDIATE;\n" + ddl("sqlite"))
        except sqlite3.OperationalError as error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if "already exists" in str(error):
                return
            raise
        try:
            conn.executemany("INSERT INTO meta VALUES (?, ?)", [
                ("schema", str(SCHEMA_VERSION)), ("roots", roots_key(self.roots)), ("price_version", ""),
                ("version", "0"), ("requests", "0"), ("store_id", uuid.uuid4().hex), ("observations", "0"),
            ])
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _check(self, conn: sqlite3.Connection) -> None:
        """Check the invariants of :func:`~claude_usage.store.rollups.verify` at the level of
        ``verify`` (raises :class:`StoreDamaged`). Waits for another process's first build; a
        store whose rollups a killed process left unfinished gets them made."""
        from claude_usage.store import rollups

        if not self.wait_for_builder(conn):
            raise StoreDamaged("its first build was interrupted")
        stale = conn.execute("SELECT value FROM meta WHERE key = 'rollups_stale'").fetchone()
        if stale is not None:
            if int(stale[0]) != os.getpid() and _alive(int(stale[0])):
                return  # another process is making them now
            with self._transaction(conn):
                rollups.rebuild_all(conn)
                conn.execute("DELETE FROM meta WHERE key = 'rollups_stale'")
        problem = self.check(conn)
        if problem is not None:
            raise StoreDamaged(f"its request rows and their sums disagree ({problem})")

    def check(self, conn: sqlite3.Connection | None = None, level: str | None = None) -> str | None:
        """The store's invariants at ``level`` (default: this store's ``verify``), in one read
        transaction: None when they hold, else what is wrong."""
        from claude_usage.store import rollups

        conn = conn or self.conn
        conn.execute("BEGIN")
        try:
            return rollups.verify(conn, level or self.verify)
        finally:
            conn.execute("COMMIT")

    def wait_for_builder(self, conn: sqlite3.Connection | None = None, patience_s: float = 3600.0) -> bool:
        """Whether the store is complete: when another process is making its first build,
        wait for it to finish (a notice says so; reports would meanwhile be incomplete). False
        when a first build was interrupted (its process is gone): the store must be made again."""
        conn = conn or self.conn
        told = False
        deadline = time.monotonic() + patience_s
        while True:
            row = conn.execute("SELECT value FROM meta WHERE key = 'building'").fetchone()
            if row is None:
                return True
            pid = int(row[0])
            if pid == os.getpid() or not _alive(pid) or time.monotonic() > deadline:
                return False
            if not told:
                self.notice(f"Waiting for process {pid}, which is reading the transcripts into {self.path} for the first time.")
                told = True
            time.sleep(0.25)

    def _keep_history(self) -> Any:
        """Before the file is removed for a rebuild: what no transcript can give again
        (:func:`claude_usage.store.history.keep`; its ``restore(conn)`` fills the new file)."""
        from claude_usage.store.history import keep

        return keep(self.path, self.notice)

    def rebuild(self, reason: str) -> None:
        """Start again from an empty store (the next refresh reads every transcript)."""
        with self.write_lock:
            self.notice(f"Rebuilding the index {self.path}: {reason}.")
            self.close()
            kept = self._keep_history()
            _remove_database(self.path)
            self.conn = connect(self.path, 16384)
            self._create(self.conn)
            kept.restore(self.conn)
            self.names = {}

    def close(self) -> None:
        """Close every connection."""
        with self.write_lock:
            self.conn.close()
        while True:
            try:
                self._readers.get_nowait().close()
            except queue.Empty:
                break
        self._reader_count = 0

    # -- transactions --------------------------------------------------------------------

    @staticmethod
    @contextmanager
    def _transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    @contextmanager
    def writing(self) -> Iterator[sqlite3.Connection]:
        """A write transaction on the writer connection (taken at once, so that writers queue up
        instead of failing); the data version is bumped by whoever changes requests."""
        with self.write_lock:
            try:
                with self._transaction(self.conn) as conn:
                    yield conn
            except BaseException:
                self.names = {}  # ids added by the rolled-back transaction are gone
                raise

    @contextmanager
    def reading(self) -> Iterator[Reader]:
        """A consistent view for a report: a read transaction on a pooled connection."""
        conn = self._reader()
        try:
            conn.execute("BEGIN")
            try:
                yield Reader(conn)
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")
        finally:
            self._readers.put(conn)

    def _reader(self) -> sqlite3.Connection:
        try:
            return self._readers.get_nowait()
        except queue.Empty:
            pass
        with self._reader_lock:
            if self._reader_count < READERS:
                self._reader_count += 1
                return connect(self.path, 4096)
        return self._readers.get()

    # -- small shared state ----------------------------------------------------------------

    def remembered(self, key: str, max_age_s: float, compute: Callable[[], str]) -> str:
        """A value kept in the store for up to ``max_age_s`` seconds (e.g. the machine's zone
        name for the status line, which runs every few seconds): ``compute()`` when there is
        none or it is older, then kept. A busy database only skips the keeping."""
        now = time.time()
        row = self.meta("remembered:" + key)
        if row is not None:
            stamp, _, value = row.partition("|")
            try:
                if 0 <= now - float(stamp) < max_age_s:
                    return value
            except ValueError:
                pass
        value = compute()
        try:
            with self.write_lock:
                self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", ("remembered:" + key, f"{now}|{value}"))
        except sqlite3.OperationalError:
            pass
        return value

    def get_rates(self, key: str) -> tuple[bool, object]:
        """A cached rate resolution of the price data (see :class:`~claude_usage.pricing.Pricer`)."""
        from claude_usage.pricing_rates import rates_from_json

        row = self.conn.execute("SELECT data FROM rates WHERE key = ?", (key,)).fetchone()
        return (False, None) if row is None else (True, rates_from_json(row[0]))

    def put_rates(self, key: str, rates: object) -> None:
        """Keep a rate resolution for later runs (written with the transaction under way)."""
        from claude_usage.pricing_rates import rates_to_json

        self.conn.execute("INSERT OR REPLACE INTO rates VALUES (?, ?)", (key, rates_to_json(rates)))  # type: ignore[arg-type]

    def name_ids(self, table: str, names: Sequence[str]) -> dict[str, int]:
        """The ids of ``names`` in a lookup table (``models``, ``projects``, ``sessions``,
        ``tool_names``, ``cwds``), adding the new ones; call inside a write transaction."""
        known = self.names.setdefault(table, {})
        missing = [name for name in set(names) if name not in known]
        if missing:
            conn = self.conn
            for at in range(0, len(missing), 500):
                chunk = missing[at: at + 500]
                marks = ",".join("?" * len(chunk))
                known.update(conn.execute(f"SELECT name, id FROM {table} WHERE name IN ({marks})", chunk).fetchall())
            new = [(name,) for name in missing if name not in known]
            if new:
                conn.executemany(f"INSERT INTO {table} (name) VALUES (?)", new)
                for at in range(0, len(new), 500):
                    chunk = [name for (name,) in new[at: at + 500]]
                    marks = ",".join("?" * len(chunk))
                    known.update(conn.execute(f"SELECT name, id FROM {table} WHERE name IN ({marks})", chunk).fetchall())
        return known

    # -- writing -------------------------------------------------------------------------------

    def refresh(self, pricer_factory: Callable[[], Any], progress: Any = None, forget_deleted: bool = False,
                workers: int | None = None) -> Any:
        """Bring the store up to date with the transcripts (see :mod:`claude_usage.store.ingest`);
        a store found damaged on the way is rebuilt with a notice and read again. Returns a
        :class:`~claude_usage.store.ingest.RefreshResult`."""
        from claude_usage.store.ingest import refresh

        try:
            return refresh(self, pricer_factory, progress, forget_deleted, workers)
        except sqlite3.DatabaseError as error:
            if isinstance(error, sqlite3.OperationalError) and "locked" in str(error):
                raise
            self.rebuild(f"it is unreadable ({error})")
            return refresh(self, pricer_factory, progress, forget_deleted, workers)
