"""What every store (the embedded SQLite store, the team store on PostgreSQL) answers the same
way through its :meth:`reading` view: the data version and the ``meta`` values."""

from __future__ import annotations

from typing import Any, ContextManager


class StoreReads:
    """Reads shared by the stores; a store provides ``reading()`` (a consistent view with
    ``one(sql, params)``)."""

    def reading(self) -> ContextManager[Any]:  # pragma: no cover - every store defines it
        raise NotImplementedError

    def version(self) -> int:
        """The data version: bumped by every write that changed a request (any process, or any
        machine's push)."""
        with self.reading() as view:
            return int(view.one("SELECT value FROM meta WHERE key = 'version'")[0])

    def meta(self, key: str, default: str | None = None) -> str | None:
        """A value of the ``meta`` table (as committed), ``default`` when there is none."""
        with self.reading() as view:
            row = view.one("SELECT value FROM meta WHERE key = ?", (key,))
        return default if row is None else row[0]
