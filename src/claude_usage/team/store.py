"""The team store: the same store interface as the embedded one, on PostgreSQL (DESIGN 12).

Reports take a view of a store (:meth:`TeamStore.reading`), whose ``rows`` and ``one`` run the
portable report SQL; here the ``?`` placeholders become psycopg's and each view is one
``REPEATABLE READ`` read-only transaction (its queries see one state, like SQLite's read
transactions). The rollup code of the embedded store runs unchanged on :class:`PgConnection`.
"""

from __future__ import annotations

import functools
import queue
import threading
from contextlib import contextmanager
from typing import Any, Iterator, Sequence

from claude_usage.store.base import StoreReads
from claude_usage.team.connection import TeamError, connect, describe, explain
from claude_usage.team.schema import LATEST, applied_version

READERS = 4


@functools.lru_cache(maxsize=1024)
def pg_sql(sql: str) -> str:
    """Portable SQL (``?`` placeholders, ``%`` as the modulo operator) in psycopg's spelling."""
    return sql.replace("%", "%%").replace("?", "%s")


class PgConnection:
    """A psycopg connection that takes the embedded store's SQL (see :func:`pg_sql`); what the
    shared rollup code (:mod:`claude_usage.store.rollups`) writes through."""

    dialect = "postgres"

    def __init__(self, conn: Any):
        self.raw = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement; returns the cursor (``fetchone``, ``fetchall``, ``rowcount``)."""
        return self.raw.execute(pg_sql(sql), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement per row of parameters."""
        rows = list(rows)
        if rows:
            with self.raw.cursor() as cursor:
                cursor.executemany(pg_sql(sql), rows)


class PgReader:
    """One consistent view of the team store, with the interface of the embedded store's
    :class:`~claude_usage.store.sqlite.Reader`."""

    dialect = "postgres"

    def __init__(self, conn: Any):
        self.conn = PgConnection(conn)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Every row of a query."""
        return self.conn.execute(sql, params).fetchall()

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple | None:
        """The first row of a query, None when there is none."""
        return self.conn.execute(sql, params).fetchone()


class TeamStore(StoreReads):
    """The team database at ``url`` as a store: reports read it through :meth:`reading`; pushes
    write it (:mod:`claude_usage.team.push`). Opening checks that the schema exists and is one
    this version knows (raises :class:`TeamError` with what to do otherwise). ``roots`` is empty:
    a team store reads no transcripts."""

    dialect = "postgres"
    team = True

    def __init__(self, url: str, purpose: str = "claude-usage"):
        self.url = url
        self.purpose = purpose
        self.roots: list = []
        self.path = describe(url)  # what health and messages show: never the password
        self._pool: queue.LifoQueue = queue.LifoQueue()
        self._made = 0
        self._lock = threading.Lock()
        conn = connect(url, purpose)
        try:
            version = applied_version(conn)
        except Exception as error:
            conn.close()
            raise TeamError(explain(error, url)) from None
        if version is None:
            conn.close()
            raise TeamError(f"the team database {self.path} has no claude-usage schema: run "
                            "`claude-usage team init --team URL` once (as a user that may create it)")
        if version > LATEST:
            conn.close()
            raise TeamError(f"the team database {self.path} has schema {version}; this claude-usage knows up to "
                            f"{LATEST}: upgrade claude-usage")
        if version < LATEST:
            conn.close()
            raise TeamError(f"the team database {self.path} has schema {version} of {LATEST}: run "
                            "`claude-usage team init --team URL` to migrate it")
        self._pool.put(conn)
        self._made = 1

    # -- connections ----------------------------------------------------------------------------

    def _take(self) -> Any:
        try:
            conn = self._pool.get_nowait()
        except queue.Empty:
            with self._lock:
                if self._made < READERS:
                    self._made += 1
                    try:
                        return connect(self.url, self.purpose)
                    except BaseException:
                        self._made -= 1
                        raise
            conn = self._pool.get()
        if conn.closed or conn.broken:
            with self._lock:
                self._made -= 1
            return self._take()
        return conn

    def _give(self, conn: Any) -> None:
        if conn.closed or conn.broken:
            with self._lock:
                self._made -= 1
            return
        self._pool.put(conn)

    @contextmanager
    def connection(self) -> Iterator[Any]:
        """A pooled psycopg connection (autocommit; the caller opens its transactions). A
        failure of the database becomes a :class:`TeamError`."""
        import psycopg

        conn = self._take()
        try:
            yield conn
        except psycopg.Error as error:
            raise TeamError(explain(error, self.url)) from None
        finally:
            self._give(conn)

    @contextmanager
    def reading(self) -> Iterator[PgReader]:
        """A consistent view for a report: a read-only ``REPEATABLE READ`` transaction."""
        with self.connection() as conn:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try:
                yield PgReader(conn)
            finally:
                if not conn.broken:
                    conn.execute("ROLLBACK")

    def close(self) -> None:
        """Close every pooled connection."""
        while True:
            try:
                self._pool.get_nowait().close()
            except queue.Empty:
                break
        self._made = 0

    # -- the store interface the server and commands use ---------------------------------------------

    def check(self, conn: Any = None, level: str = "full") -> str | None:
        """The store's invariants at ``level`` (see :func:`claude_usage.store.rollups.verify`):
        None when they hold, else what is wrong."""
        from claude_usage.store import rollups

        with self.reading() as view:
            return rollups.verify(view.conn, level)
