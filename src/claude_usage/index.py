"""The persistent index: SQLite (WAL) with per-file offsets, extracted records and the
deduplicated request set (DESIGN section 7).

Per transcript the index keeps its path, device/inode, size, mtime, the committed byte offset
(just past the last newline-terminated line read), a fingerprint of its first bytes, and the
counters and cwds of its lines. A refresh reads only what changed: a grown file from its
committed offset, a rotated or truncated one whole; a vanished file keeps its records (history
beyond Claude Code's 30-day cleanup) unless ``forget_deleted``. Each batch of files is applied in
one transaction together with the dedupe of the keys it touched, so a process killed at any point
leaves an index from which the next run gives exactly the totals of a fresh scan. The calculated
cost of each request is stored with the price-data version, so a warm run never imports the
price package. A corrupt index, or one of another schema version or set of roots, is rebuilt
from the sources with a notice.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import stat
import threading
import time
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import msgspec

from claude_usage.paths import cache_dir
from claude_usage.pricing import rates_from_json, rates_to_json
from claude_usage.loader import Dataset, ProgressCallback, best_cwd, read_agent_meta
from claude_usage.records import Diagnostics, RequestSet, UsageRecord
from claude_usage.sources.discovery import DataRoot, TranscriptFile, is_within, transcript_files
from claude_usage.sources.safe_files import kind_of, open_regular
from claude_usage.sources.transcripts import (
    FileScan,
    ToolCall,
    UsageLimitNotice,
    head_fingerprint,
    line_problems,
    merge_cwds,
    scan_file,
    unique_limit_notices,
    unique_tool_calls,
)

SCHEMA_VERSION = 7
# SQLite's application_id of every index this product writes ("CUsg"): the marker that tells
# our own files from any other file a mistyped --index could name (those are never touched).
APPLICATION_ID = 0x43557367
_SQLITE_HEADER = b"SQLite format 3\x00"
BATCH_BYTES = 16 << 20
BATCH_FILES = 200
PARALLEL_MIN_BYTES = 16 << 20
_KEYS_PER_QUERY = 500

_RECORD = msgspec.msgpack.Decoder(UsageRecord)
_RECORDS = msgspec.msgpack.Decoder(list[UsageRecord])
_SNAPSHOT = msgspec.msgpack.Decoder(tuple[list[UsageRecord], list[float | None]])
_TOOLS = msgspec.msgpack.Decoder(list[ToolCall])
_ERRORS = msgspec.msgpack.Decoder(list[str])
_NOTICES = msgspec.msgpack.Decoder(list[UsageLimitNotice])
_SCAN = msgspec.msgpack.Decoder(FileScan)
_DIAG = msgspec.msgpack.Decoder(Diagnostics)
_ENCODE = msgspec.msgpack.encode

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE files (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    project TEXT NOT NULL,
    fallback_session TEXT NOT NULL,
    dev INTEGER, ino INTEGER, size INTEGER, mtime_ns INTEGER,
    committed INTEGER NOT NULL DEFAULT 0,
    head TEXT, head_length INTEGER NOT NULL DEFAULT 0,
    missing INTEGER NOT NULL DEFAULT 0,
    diag BLOB, tail_diag BLOB, cwds TEXT, tail_cwds TEXT, agent TEXT, problems TEXT
);
CREATE TABLE records (file_id INTEGER NOT NULL, offset INTEGER NOT NULL, key_hash INTEGER NOT NULL, data BLOB NOT NULL);
CREATE INDEX records_by_key ON records (key_hash);
CREATE INDEX records_by_file ON records (file_id, offset);
CREATE TABLE requests (key TEXT PRIMARY KEY, ts_us INTEGER NOT NULL, session_id TEXT NOT NULL, data BLOB NOT NULL, calc_cost REAL,
                       placeholder INTEGER NOT NULL DEFAULT 0, fast_unpriced INTEGER NOT NULL DEFAULT 0);
CREATE INDEX requests_by_time ON requests (ts_us, key);
CREATE INDEX requests_by_session ON requests (session_id);
CREATE INDEX requests_placeholder ON requests (key) WHERE placeholder = 1;
CREATE INDEX requests_fast_unpriced ON requests (key) WHERE fast_unpriced = 1;
CREATE TABLE rates (key TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE snapshot (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL, data BLOB NOT NULL);
CREATE TABLE tool_segments (file_id INTEGER NOT NULL, offset INTEGER NOT NULL, calls BLOB NOT NULL, errors BLOB NOT NULL, limits BLOB NOT NULL);
CREATE INDEX tool_segments_by_file ON tool_segments (file_id, offset);
"""


def key_hash(key: str) -> int:
    """A small integer for the records' key index (collisions are resolved by the key itself)."""
    return zlib.crc32(key.encode())


def roots_key(roots: Sequence[DataRoot]) -> str:
    """The identity of a set of roots: their real projects dirs, sorted, one per line."""
    return "\n".join(sorted(os.path.realpath(root.projects_dir) for root in roots))


def default_index_path(roots: Sequence[DataRoot]) -> Path:
    """``<cache dir>/index/<digest of the roots>.sqlite``: one index per set of data roots, so the
    dedupe is always over exactly the roots in use."""
    digest = hashlib.sha256(roots_key(roots).encode()).hexdigest()[:16]
    return cache_dir() / "index" / f"{digest}.sqlite"


@dataclass
class Plan:
    """What a refresh does with one transcript: read it from ``start`` (0 = whole). ``base`` is
    the file's stored state the plan was made from (None for a new file): the scan is stored only
    if it is still the same, so two processes refreshing at once never overwrite each other."""

    source: TranscriptFile
    start: int
    file_id: int | None
    stat: os.stat_result | None
    size: int
    base: tuple | None = None


@dataclass
class RefreshResult:
    """What a refresh changed: ``changed`` request keys (added, replaced or removed), the files
    and bytes read, and the local time it took (seconds)."""

    changed: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    files_read: int = 0
    bytes_read: int = 0
    files_missing: int = 0
    seconds: float = 0.0


def _scan_job(source: TranscriptFile, start: int) -> bytes:
    return _ENCODE(scan_file(source, start))


def scan_many(plans: Sequence[Plan], workers: int | None = None) -> Iterator[tuple[Plan, FileScan]]:
    """Scan the planned files, on several processes when there is enough to read (results come
    in completion order)."""
    total = sum(p.size - p.start for p in plans)
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if workers <= 1 or len(plans) < 2 or total < PARALLEL_MIN_BYTES:
        for plan in plans:
            yield plan, scan_file(plan.source, plan.start)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    context = multiprocessing.get_context("fork") if "fork" in multiprocessing.get_all_start_methods() else None
    with ProcessPoolExecutor(max_workers=min(workers, len(plans)), mp_context=context) as pool:
        # Largest first, so that the last file to finish is a small one.
        order = sorted(plans, key=lambda p: p.size - p.start, reverse=True)
        futures = {pool.submit(_scan_job, plan.source, plan.start): plan for plan in order}
        for future in as_completed(futures):
            yield futures[future], _SCAN.decode(future.result())


def _decode_pairs(rows: list[tuple[bytes, float | None]]) -> list[tuple[UsageRecord, float | None]]:
    """``(record blob, cost)`` rows as ``(record, cost)`` pairs; the blobs, joined under one
    msgpack array header, decode in a single call."""
    header = b"\xdd" + len(rows).to_bytes(4, "big")
    records = _RECORDS.decode(header + b"".join([row[0] for row in rows]))
    return list(zip(records, [row[1] for row in rows]))


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 60000")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


class IndexPathError(OSError):
    """The index path names something this product must not use or replace: a directory, a
    device, or a file that is not one of its own indexes (no :data:`APPLICATION_ID` marker)."""


def check_index_path(path: Path) -> bool:
    """Whether ``path`` may hold this product's index, before anything is opened or written.

    Returns True when it is free (missing or an empty file) or one of our indexes (SQLite with
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
    if os.path.isdir(path):
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
    """True for an index of schema 5 or older (written before the marker), read-only check."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            keys = {row[0] for row in conn.execute("SELECT key FROM meta WHERE key IN ('schema', 'roots')")}
        finally:
            conn.close()
    except sqlite3.Error:
        return False
    return keys == {"schema", "roots"}


def _remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        try:
            os.unlink(f"{path}{suffix}")
        except FileNotFoundError:
            pass


class UsageIndex:
    """The index of one set of data roots, stored at ``path``.

    ``notice(message)`` is told when the index is rebuilt (corrupt, older schema, other roots).
    Safe to share between a server and CLI commands at the same time (SQLite WAL, short write
    transactions, a busy timeout).
    """

    def __init__(self, path: Path, roots: Sequence[DataRoot], notice: Callable[[str], None] | None = None):
        self.path = Path(path)
        self.roots = list(roots)
        self.notice = notice or (lambda message: None)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()  # one connection, shared by a server's threads
        self.conn = self._open()

    # -- opening and rebuilding ------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        reason = None
        if not check_index_path(self.path):
            self.notice(f"Rebuilding the index {self.path}: it is damaged (not a database).")
            _remove_database(self.path)
        existed = self.path.exists() and self.path.stat().st_size == 0
        try:
            conn = _connect(self.path)
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not tables:
                if existed:
                    self.notice(f"Rebuilding the index {self.path}: it was empty.")
                self._create(conn)
                return conn
            meta = dict(conn.execute("SELECT key, value FROM meta")) if "meta" in tables else {}
            if meta.get("schema") != str(SCHEMA_VERSION):
                reason = f"it was written by another version (schema {meta.get('schema', 'unknown')}, now {SCHEMA_VERSION})"
            elif meta.get("roots") != roots_key(self.roots):
                reason = "it was built for other data roots"
            else:
                conn.execute("SELECT count(*) FROM files").fetchone()
                return conn
            conn.close()
        except sqlite3.DatabaseError as error:
            if "unable to open" in str(error):
                raise  # a path that cannot hold a database: not a damaged index
            reason = f"it is unreadable ({error})"
        self.notice(f"Rebuilding the index {self.path}: {reason}.")
        _remove_database(self.path)
        conn = _connect(self.path)
        self._create(conn)
        return conn

    def _create(self, conn: sqlite3.Connection) -> None:
        """Create the tables and the meta rows in one transaction (a process that loses the race
        to create them finds them made)."""
        try:
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.executescript("BEGIN IMMEDIATE;\n" + _SCHEMA)
        except sqlite3.OperationalError as error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if "already exists" in str(error):
                return
            raise
        try:
            conn.executemany("INSERT INTO meta VALUES (?, ?)", [
                ("schema", str(SCHEMA_VERSION)), ("roots", roots_key(self.roots)), ("price_version", ""),
                ("requests_version", "0"),
            ])
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _guarded(self, action: Callable[[], object]) -> object:
        """Run ``action`` under the index lock; if the database turns out corrupt, rebuild it
        and run it again."""
        with self.lock:
            try:
                return action()
            except sqlite3.DatabaseError as error:
                if isinstance(error, sqlite3.OperationalError) and "locked" in str(error):
                    raise
                self.notice(f"Rebuilding the index {self.path}: it is unreadable ({error}).")
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                self.conn.close()
                _remove_database(self.path)
                self.conn = _connect(self.path)
                self._create(self.conn)
                return action()

    def close(self) -> None:
        """Close the database connection."""
        self.conn.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (taken at once, so writers queue up instead of failing)."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    # -- refresh ---------------------------------------------------------------------------

    def refresh(
        self,
        pricer_factory: Callable[[], object],
        progress: ProgressCallback | None = None,
        forget_deleted: bool = False,
        on_batch: Callable[[set[str]], None] | None = None,
        workers: int | None = None,
    ) -> RefreshResult:
        """Bring the index up to date with the transcripts below the roots.

        ``pricer_factory()`` gives the :class:`~claude_usage.pricing.Pricer` (made only when a
        cost must be computed); ``on_batch(changed keys)`` is called after each committed batch.
        """
        return self._guarded(lambda: self._refresh(pricer_factory, progress, forget_deleted, on_batch, workers))  # type: ignore[return-value]

    def _refresh(self, pricer_factory, progress, forget_deleted, on_batch, workers, attempt: int = 0) -> RefreshResult:
        began = time.perf_counter()
        result = RefreshResult()
        conflicts = 0
        pricer_holder: list = []

        def pricer():
            if not pricer_holder:
                made = pricer_factory()
                if getattr(made, "store", False) is None:
                    made.store = self  # resolved rates are kept in the index
                pricer_holder.append(made)
            return pricer_holder[0]

        self._reprice_if_needed(pricer)
        plans, vanished = self._plan()
        total_bytes = sum(p.size - p.start for p in plans)
        done_files = done_bytes = 0
        batch: list[tuple[Plan, FileScan]] = []
        batch_bytes = 0
        if progress is not None and plans:
            progress(0, len(plans), 0, total_bytes)
        for plan, scan in scan_many(plans, workers):
            batch.append((plan, scan))
            result.errors.extend(scan.errors)
            read = scan.diagnostics.bytes + scan.tail.bytes
            batch_bytes += read
            done_files += 1
            done_bytes += plan.size - plan.start
            if batch_bytes >= BATCH_BYTES or len(batch) >= BATCH_FILES:
                changed, skipped = self._apply(batch, pricer, on_batch)
                result.changed |= changed
                conflicts += skipped
                batch, batch_bytes = [], 0
            if progress is not None:
                progress(done_files, len(plans), done_bytes, total_bytes)
            result.files_read += 1
            result.bytes_read += read
        if batch:
            changed, skipped = self._apply(batch, pricer, on_batch)
            result.changed |= changed
            conflicts += skipped
        if conflicts and attempt < 5:
            # Another process indexed some of these files meanwhile: plan them again from what it
            # stored (only what is still missing is read).
            again = self._refresh(pricer_factory, None, False, on_batch, workers, attempt + 1)
            result.changed |= again.changed
            result.errors += again.errors
            result.files_read += again.files_read
            result.bytes_read += again.bytes_read
        if forget_deleted:  # also what earlier refreshes kept as history
            vanished += [(row[0], row[1]) for row in self.conn.execute("SELECT id, path FROM files WHERE missing = 1")]
        if vanished:
            result.changed |= self._vanish(vanished, forget_deleted, pricer, on_batch)
        result.files_missing = self.conn.execute("SELECT count(*) FROM files WHERE missing = 1").fetchone()[0]
        if result.bytes_read > BATCH_BYTES:
            self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")  # not left to a later small write
        result.seconds = time.perf_counter() - began
        return result

    def _plan(self) -> tuple[list[Plan], list[tuple[int, str]]]:
        known = {row[1]: row for row in self.conn.execute(
            "SELECT id, path, dev, ino, size, mtime_ns, committed, head, head_length, missing FROM files")}
        plans: list[Plan] = []
        seen: set[str] = set()
        for root in self.roots:
            for source in transcript_files(root):
                path = source.name
                seen.add(path)
                try:
                    st = os.stat(source.path)
                except OSError:
                    st = None
                row = known.get(path)
                size = st.st_size if st else 0
                base = (row[6], row[2], row[3], row[4], row[5]) if row else None
                if row is None or st is None:
                    plans.append(Plan(source, 0, row[0] if row else None, st, size, base))
                    continue
                file_id, _, dev, ino, old_size, mtime_ns, committed, head, head_length, missing = row
                if not missing and (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns) == (dev, ino, old_size, mtime_ns):
                    continue  # unchanged
                start = committed
                if (st.st_dev, st.st_ino) != (dev, ino) or st.st_size < committed:
                    start = 0  # rotated (a new file under the old name) or truncated
                elif st.st_size == old_size and st.st_mtime_ns != mtime_ns:
                    start = 0  # rewritten in place
                elif head_length and not self._same_head(source.path, head, head_length):
                    start = 0  # the beginning changed
                plans.append(Plan(source, start, file_id, st, size, base))
        vanished = [(row[0], path) for path, row in known.items() if path not in seen and not row[9]]
        return plans, vanished

    @staticmethod
    def _same_head(path: Path, head: str | None, length: int) -> bool:
        try:
            with open_regular(path) as handle:
                data = handle.read(length)
        except OSError:
            return False
        return len(data) == length and head_fingerprint(data) == head

    def _keys_of(self, file_id: int, start: int) -> set[str]:
        decode = _RECORD.decode
        return {decode(row[0]).key for row in self.conn.execute(
            "SELECT data FROM records WHERE file_id = ? AND offset >= ?", (file_id, start))}

    def _delete_from(self, file_id: int, start: int) -> None:
        """Drop what was read of a file from byte ``start`` on (to be read again)."""
        self.conn.execute("DELETE FROM records WHERE file_id = ? AND offset >= ?", (file_id, start))
        self.conn.execute("DELETE FROM tool_segments WHERE file_id = ? AND offset >= ?", (file_id, start))

    def _apply(self, batch: list[tuple[Plan, FileScan]], pricer, on_batch) -> tuple[set[str], int]:
        """Store one batch of scans and re-dedupe the keys they touch, in one transaction;
        returns the changed keys and how many scans were dropped because another process had
        stored that file since they were planned.

        Stale parts of the files are dropped first; then the kept request of each touched key is
        chosen among the records still stored (other files) and the new ones.
        """
        affected: set[str] = set()
        skipped = 0
        with self._transaction() as conn:
            current = []
            for plan, scan in batch:
                row = conn.execute("SELECT committed, dev, ino, size, mtime_ns FROM files WHERE path = ?",
                                   (plan.source.name,)).fetchone()
                if (tuple(row) if row else None) == plan.base:
                    current.append((plan, scan))
                else:
                    skipped += 1
            batch = current
            ids = []
            for plan, scan in batch:
                file_id = self._file_row(plan, scan)
                ids.append(file_id)
                affected |= self._keys_of(file_id, plan.start)
                self._delete_from(file_id, plan.start)
            new_records = [r for _, scan in batch for r in scan.records]
            affected.update(r.key for r in new_records)
            kept = self._stored_requests(affected)
            for record in new_records:
                kept.add(record)
            for file_id, (plan, scan) in zip(ids, batch):
                conn.executemany("INSERT INTO records VALUES (?, ?, ?, ?)",
                                 [(file_id, r.offset, key_hash(r.key), _ENCODE(r)) for r in scan.records])
                self._store_tools(file_id, scan)
            self._store_requests(affected, kept, pricer)
        if on_batch is not None and affected:
            on_batch(affected)
        return affected, skipped

    def _store_tools(self, file_id: int, scan: FileScan) -> None:
        """Tool calls, failed results and usage-limit messages of a scan, as one segment for the
        committed lines and one for the unterminated tail (which the next read replaces)."""
        cut = scan.committed_offset
        for start, keep in ((scan.committed_offset - scan.diagnostics.bytes, lambda o: o < cut), (cut, lambda o: o >= cut)):
            calls = [c for c in scan.tool_calls if keep(c.offset)]
            errors = [tool_use_id for tool_use_id, offset in scan.tool_errors if keep(offset)]
            notices = [n for n in scan.limits if keep(n.offset)]
            if calls or errors or notices:
                self.conn.execute("INSERT INTO tool_segments VALUES (?, ?, ?, ?, ?)",
                                  (file_id, start, _ENCODE(calls), _ENCODE(errors), _ENCODE(notices)))

    def _file_row(self, plan: Plan, scan: FileScan) -> int:
        """Insert or update the file's row for a scan; returns its id."""
        conn = self.conn
        source = plan.source
        st = plan.stat
        diag, cwds = scan.diagnostics, scan.cwds
        head, head_length = scan.head, scan.head_length
        row = conn.execute("SELECT id, diag, cwds, head, head_length FROM files WHERE path = ?", (source.name,)).fetchone()
        if row is not None and plan.start > 0:
            committed = _DIAG.decode(row[1]) if row[1] else Diagnostics()
            committed.merge(diag)
            committed.files = 1
            diag = committed
            cwds = merge_cwds(json.loads(row[2]) if row[2] else {}, cwds)
            head, head_length = row[3], row[4]
        size = plan.start + scan.diagnostics.bytes + scan.tail.bytes
        agent = json.dumps(read_agent_meta(source.path)) if source.is_subagent else None
        problems = scan.errors + line_problems(source.name, diag, scan.tail)
        values = (
            source.project, source.fallback_session,
            st.st_dev if st else None, st.st_ino if st else None, size, st.st_mtime_ns if st else None,
            scan.committed_offset, head, head_length,
            _ENCODE(diag), _ENCODE(scan.tail), json.dumps(cwds), json.dumps(scan.tail_cwds), agent,
            json.dumps(problems) if problems else None,
        )
        if row is None:
            cursor = conn.execute(
                "INSERT INTO files (project, fallback_session, dev, ino, size, mtime_ns, committed, head, head_length,"
                " diag, tail_diag, cwds, tail_cwds, agent, problems, path, missing)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,0)",
                (*values, source.name))
            return cursor.lastrowid
        conn.execute(
            "UPDATE files SET project=?, fallback_session=?, dev=?, ino=?, size=?, mtime_ns=?, committed=?, head=?,"
            " head_length=?, diag=?, tail_diag=?, cwds=?, tail_cwds=?, agent=?, problems=?, missing=0 WHERE id=?",
            (*values, row[0]))
        return row[0]

    def _vanish(self, vanished: list[tuple[int, str]], forget: bool, pricer, on_batch) -> set[str]:
        """Mark vanished transcripts missing (their records stay) or, with ``forget``, drop them."""
        affected: set[str] = set()
        with self._transaction() as conn:
            for file_id, _path in vanished:
                if forget:
                    affected |= self._keys_of(file_id, 0)
                    self._delete_from(file_id, 0)
                    conn.execute("DELETE FROM files WHERE id = ?", (file_id,))
                else:
                    conn.execute("UPDATE files SET missing = 1 WHERE id = ?", (file_id,))
            self._store_requests(affected, self._stored_requests(affected), pricer)
        if on_batch is not None and affected:
            on_batch(affected)
        return affected

    def remembered(self, key: str, max_age_s: float, compute: Callable[[], str]) -> str:
        """A value kept in the index for up to ``max_age_s`` seconds (e.g. the machine's zone
        name for the status line, which runs every few seconds): ``compute()`` when there is
        none or it is older, then kept. A busy database only skips the keeping."""
        now = time.time()
        with self.lock:
            row = self.conn.execute("SELECT value FROM meta WHERE key = ?", ("remembered:" + key,)).fetchone()
        if row is not None:
            stamp, _, value = row[0].partition("|")
            try:
                if 0 <= now - float(stamp) < max_age_s:
                    return value
            except ValueError:
                pass
        value = compute()
        try:
            with self.lock:
                self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", ("remembered:" + key, f"{now}|{value}"))
        except sqlite3.OperationalError:
            pass
        return value

    def get_rates(self, key: str) -> tuple[bool, object]:
        """A cached rate resolution of the price data (see :class:`~claude_usage.pricing.Pricer`)."""
        row = self.conn.execute("SELECT data FROM rates WHERE key = ?", (key,)).fetchone()
        return (False, None) if row is None else (True, rates_from_json(row[0]))

    def put_rates(self, key: str, rates: object) -> None:
        """Keep a rate resolution for later runs (written with the transaction under way)."""
        self.conn.execute("INSERT OR REPLACE INTO rates VALUES (?, ?)", (key, rates_to_json(rates)))  # type: ignore[arg-type]

    def _bump_version(self) -> None:
        """Mark the request set changed (the snapshot of an older version is stale)."""
        self.conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'requests_version'")

    def _stored_requests(self, keys: set[str]) -> RequestSet:
        """A dedupe set holding every stored record of ``keys``."""
        kept = RequestSet()
        if not keys:
            return kept
        decode = _RECORD.decode
        hashes = sorted({key_hash(key) for key in keys})
        for at in range(0, len(hashes), _KEYS_PER_QUERY):
            chunk = hashes[at: at + _KEYS_PER_QUERY]
            for (data,) in self.conn.execute(
                    f"SELECT data FROM records WHERE key_hash IN ({','.join('?' * len(chunk))})", chunk):
                record = decode(data)
                if record.key in keys:
                    kept.add(record)
        return kept

    def _store_requests(self, keys: set[str], kept: RequestSet, pricer) -> None:
        """Replace the stored requests of ``keys`` by the ones ``kept`` (the rule of
        :class:`~claude_usage.records.RequestSet`), with their calculated costs."""
        if not keys:
            return
        self._bump_version()
        ordered = sorted(keys)
        for at in range(0, len(ordered), _KEYS_PER_QUERY):
            chunk = ordered[at: at + _KEYS_PER_QUERY]
            self.conn.execute(f"DELETE FROM requests WHERE key IN ({','.join('?' * len(chunk))})", chunk)
        if kept.by_key:
            price = pricer()
            rows = []
            for key, r in kept.by_key.items():
                if key in keys:
                    cost = price.priced(r)  # sets r.fast_unpriced before the record is encoded
                    rows.append((r.key, r.ts_us, r.session_id, _ENCODE(r), cost, int(r.placeholder), int(r.fast_unpriced)))
            self.conn.executemany("INSERT INTO requests VALUES (?, ?, ?, ?, ?, ?, ?)", rows)

    def _reprice_if_needed(self, pricer_factory: Callable[[], object]) -> None:
        """Recompute every stored cost (and fast-unpriced flag) when the price data, the price
        corrections or the overrides changed: from the stored requests, without reading the
        transcripts (they hold everything pricing needs)."""
        stored = self.conn.execute("SELECT value FROM meta WHERE key = 'price_version'").fetchone()
        pricer = pricer_factory()
        version = pricer.version  # type: ignore[attr-defined]
        if stored and stored[0] == version:
            return
        with self._transaction() as conn:
            conn.execute("DELETE FROM rates")  # resolved with the old price data
            rows = conn.execute("SELECT key, data FROM requests").fetchall()
            self._bump_version()
            costs, flagged = [], []
            for key, data in rows:
                record = _RECORD.decode(data)
                was = record.fast_unpriced
                costs.append((pricer.priced(record), key))  # type: ignore[attr-defined]
                if record.fast_unpriced != was:  # the stored record carries the flag: rewrite it
                    flagged.append((_ENCODE(record), int(record.fast_unpriced), key))
            conn.executemany("UPDATE requests SET calc_cost = ? WHERE key = ?", costs)
            conn.executemany("UPDATE requests SET data = ?, fast_unpriced = ? WHERE key = ?", flagged)
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('price_version', ?)", (version,))

    # -- reading ---------------------------------------------------------------------------

    def requests(self, keys: Iterable[str] | None = None) -> list[tuple[UsageRecord, float | None]]:
        """The kept requests (all, or those of ``keys`` that still exist) with their calculated
        costs, in time order."""
        if keys is None:
            rows = self.conn.execute("SELECT data, calc_cost FROM requests ORDER BY ts_us, key").fetchall()
        else:
            ordered = sorted(keys)
            rows = []
            for at in range(0, len(ordered), _KEYS_PER_QUERY):
                chunk = ordered[at: at + _KEYS_PER_QUERY]
                rows += self.conn.execute(
                    f"SELECT data, calc_cost FROM requests WHERE key IN ({','.join('?' * len(chunk))})", chunk).fetchall()
        return _decode_pairs(rows)

    def requests_since(self, since_us: int) -> list[tuple[UsageRecord, float | None]]:
        """The kept requests at or after ``since_us`` (UTC microseconds) with their calculated
        costs, in time order; reads only that range (index on time)."""
        with self.lock:
            rows = self.conn.execute(
                "SELECT data, calc_cost FROM requests WHERE ts_us >= ? ORDER BY ts_us, key", (since_us,)).fetchall()
        return _decode_pairs(rows)

    def latest_time(self) -> int | None:
        """The time (UTC microseconds) of the last kept request, None when there is none."""
        with self.lock:
            return self.conn.execute("SELECT max(ts_us) FROM requests").fetchone()[0]

    def chain_start(self, at_us: int, pause_us: int) -> int | None:
        """The time (UTC microseconds) of the first request after the last pause of at least
        ``pause_us`` that precedes the first request at or after ``at_us`` (the very first
        request when there is no such pause); None when there is no request. Walks the time
        index backwards from ``at_us`` and stops at the pause."""
        with self.lock:
            later = self.conn.execute("SELECT min(ts_us) FROM requests WHERE ts_us >= ?", (at_us,)).fetchone()[0]
            for (ts,) in self.conn.execute(
                    "SELECT ts_us FROM requests WHERE ts_us < ? ORDER BY ts_us DESC", (at_us,)):
                if later is not None and later - ts >= pause_us:
                    return later
                later = ts
            return later

    def times_since(self, since_us: int) -> list[int]:
        """The times (UTC microseconds) of the kept requests at or after ``since_us``, in order."""
        with self.lock:
            return [ts for (ts,) in self.conn.execute(
                "SELECT ts_us FROM requests WHERE ts_us >= ? ORDER BY ts_us, key", (since_us,))]

    def session_requests(self, session_id: str) -> list[tuple[UsageRecord, float | None]]:
        """The kept requests of one session (its subagents included) with their calculated costs."""
        with self.lock:
            rows = self.conn.execute(
                "SELECT data, calc_cost FROM requests WHERE session_id = ? ORDER BY ts_us, key", (session_id,)).fetchall()
        return _decode_pairs(rows)

    def limit_notices(self) -> list[UsageLimitNotice]:
        """The usage-limit messages of every file, once each (only non-empty segments are read)."""
        with self.lock:
            rows = self.conn.execute("SELECT limits FROM tool_segments WHERE length(limits) > 1").fetchall()
        return unique_limit_notices([n for (blob,) in rows for n in _NOTICES.decode(blob)])

    def file_facts(self) -> tuple[Diagnostics, dict[str, str], dict[str, dict], list[str]]:
        """Summed diagnostics (``requests``, ``duplicateLines``, ``placeholderOutputRequests`` and
        ``fastUnpricedRequests`` filled), project paths, subagent metadata and the problems of the
        present files (one warning each), from the files table."""
        diagnostics = Diagnostics()
        cwds: dict[str, dict[str, list]] = {}
        agents: dict[str, dict] = {}
        warnings: list[str] = []
        for path, project, diag, tail, committed_cwds, tail_cwds, agent, missing, problems in self.conn.execute(
                "SELECT path, project, diag, tail_diag, cwds, tail_cwds, agent, missing, problems FROM files ORDER BY path"):
            for blob in (diag, tail):
                if blob:
                    found = _DIAG.decode(blob)
                    if missing:  # a vanished file is no longer skipped or unreadable
                        found.skippedFiles = found.unreadableFiles = 0
                    diagnostics.merge(found)
            if problems and not missing:
                warnings.extend(json.loads(problems))
            counts = cwds.setdefault(project, {})
            for text in (committed_cwds, tail_cwds):
                if text:
                    merge_cwds(counts, json.loads(text))
            if agent:
                agents[path] = json.loads(agent)
            diagnostics.missingFiles += missing
        diagnostics.requests = self.conn.execute("SELECT count(*) FROM requests").fetchone()[0]
        # Counted over the partial indexes of the few flagged requests.
        diagnostics.placeholderOutputRequests = self.conn.execute(
            "SELECT count(*) FROM requests WHERE placeholder = 1").fetchone()[0]
        diagnostics.fastUnpricedRequests = self.conn.execute(
            "SELECT count(*) FROM requests WHERE fast_unpriced = 1").fetchone()[0]
        diagnostics.duplicateLines = diagnostics.usageLines - diagnostics.requests
        paths = {project: cwd for project, counts in cwds.items() if (cwd := best_cwd(counts))}
        return diagnostics, paths, agents, warnings

    def tool_data(self) -> tuple[list[ToolCall], set[str], list[UsageLimitNotice]]:
        """Every tool call once, the ids of failed tool uses, and the usage-limit messages."""
        calls: list[ToolCall] = []
        errors: set[str] = set()
        notices: list[UsageLimitNotice] = []
        with self.lock:
            rows = self.conn.execute("SELECT calls, errors, limits FROM tool_segments").fetchall()
        for data, failed, limits in rows:
            calls.extend(_TOOLS.decode(data))
            errors.update(_ERRORS.decode(failed))
            notices.extend(_NOTICES.decode(limits))
        return unique_tool_calls(calls), errors, unique_limit_notices(notices)

    def _all_requests(self) -> tuple[list[UsageRecord], list[float | None]]:
        """Every kept request and its calculated cost, in time order: from the snapshot (one
        blob, rewritten when the request set has changed) when it is current, else from the
        requests table."""
        conn = self.conn
        conn.execute("BEGIN")
        try:
            version = int(conn.execute("SELECT value FROM meta WHERE key = 'requests_version'").fetchone()[0])
            row = conn.execute("SELECT data FROM snapshot WHERE version = ?", (version,)).fetchone()
            if row is None:
                pairs = self.requests()
                records, costs = [r for r, _ in pairs], [c for _, c in pairs]
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        if row is not None:
            return _SNAPSHOT.decode(row[0])
        try:  # keep the snapshot for the next run, stamped with the version it shows
            conn.execute("INSERT OR REPLACE INTO snapshot VALUES (1, ?, ?)", (version, _ENCODE((records, costs))))
        except sqlite3.OperationalError:
            pass  # busy: the next run writes it
        return records, costs

    def dataset(self) -> Dataset:
        """The whole request set as a :class:`Dataset` (tool data read on first use)."""

        def build() -> Dataset:
            records, calculated = self._all_requests()
            price_version = self._price_version()
            diagnostics, paths, agents, warnings = self.file_facts()
            return Dataset(
                records=records,
                calculated=calculated,
                diagnostics=diagnostics,
                roots=self.roots,
                project_paths=paths,
                warnings=warnings,
                tools=self.tool_data,
                agents=agents,
                price_version=price_version,
                index_path=str(self.path),
            )

        return self._guarded(build)  # type: ignore[return-value]

    def apply_changes(self, dataset: Dataset, changed: set[str]) -> Dataset:
        """``dataset`` updated with the current state of the ``changed`` keys (and fresh file
        facts), without reading the whole request set."""
        with self.lock:
            pairs = self.requests(changed)
            diagnostics, paths, agents, warnings = self.file_facts()
            version = self._price_version()
        return dataset.with_changes(changed, pairs, diagnostics=diagnostics, project_paths=paths, warnings=warnings,
                                    agents=agents, tools=self.tool_data, price_version=version)

    def with_file_facts(self, dataset: Dataset) -> Dataset:
        """``dataset`` with fresh diagnostics, project paths, subagent metadata and warnings
        (after a refresh that read files without changing any request: a line without usage,
        a new FIFO). The requests and their cached views are shared, not copied."""
        with self.lock:
            diagnostics, paths, agents, warnings = self.file_facts()
        return replace(dataset, diagnostics=diagnostics, project_paths=paths, agents=agents, warnings=warnings)

    def _price_version(self) -> str:
        return self.conn.execute("SELECT value FROM meta WHERE key = 'price_version'").fetchone()[0]
