"""Reaching the team database (DESIGN 12): its URL, connections, one-line errors, redaction.

The URL is a libpq connection string (``postgresql://user:password@host:port/database?sslmode=...``
or ``key=value`` pairs), from ``--team`` or ``$CLAUDE_USAGE_TEAM_URL``; every libpq parameter
passes through. Credentials never reach output: every message that could hold the URL goes
through :func:`redact`, and connection failures become a :class:`TeamError` that names what to fix
without the password.
"""

from __future__ import annotations

import os
import re
from typing import Any

TEAM_URL_ENV = "CLAUDE_USAGE_TEAM_URL"
SCHEMA = "claude_usage"  # the PostgreSQL schema holding every table of team mode
CONNECT_TIMEOUT_S = 10
REPORT_WORK_MEM = "64MB"  # per sort or hash of a query (PostgreSQL's default, 4MB, spills to disk)
_SECRET_KEYS = ("password", "sslpassword")


class TeamError(Exception):
    """A team database that cannot be used, with a one-line message naming what to fix (and no
    credentials). The CLI prints it and exits with code 2."""


def team_url(given: str | None) -> str:
    """The team database URL: ``given``, else ``$CLAUDE_USAGE_TEAM_URL``. Raises
    :class:`TeamError` when neither is set or the text is not a connection string."""
    url = given if given else os.environ.get(TEAM_URL_ENV, "")
    if not url.strip():
        raise TeamError(f"no team database: pass --team postgresql://USER:PASSWORD@HOST:PORT/DATABASE or set {TEAM_URL_ENV}")
    parameters(url)
    return url


def parameters(url: str) -> dict[str, str]:
    """The libpq parameters of ``url`` (raises :class:`TeamError` for text libpq cannot parse)."""
    from psycopg import conninfo

    try:
        return conninfo.conninfo_to_dict(url)
    except Exception as error:  # psycopg.ProgrammingError: libpq's parse error
        reason = redact(str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__, url)
        raise TeamError(f"bad team database URL ({reason}); expected postgresql://USER:PASSWORD@HOST:PORT/DATABASE") from None


def secrets_of(url: str) -> list[str]:
    """The secret values in ``url`` (its password, an SSL key password), longest first."""
    found: list[str] = []
    try:
        from psycopg import conninfo

        found = [value for key, value in conninfo.conninfo_to_dict(url).items() if key in _SECRET_KEYS and value]
    except Exception:
        pass
    match = re.match(r"^[a-z]+://[^:/@]*:([^@]*)@", url)  # a URL libpq could not parse may still hold one
    if match and match.group(1):
        found.append(match.group(1))
    return sorted(set(found), key=len, reverse=True)


def redact(text: str, url: str | None) -> str:
    """``text`` with the URL's credentials replaced by ``***`` (the password in any spelling:
    as given and percent-decoded)."""
    if not url:
        return text
    from urllib.parse import quote, unquote

    for secret in secrets_of(url):
        for spelling in {secret, unquote(secret), quote(secret, safe="")}:
            if spelling:
                text = text.replace(spelling, "***")
    return text


def describe(url: str) -> str:
    """The team database as ``user@host:port/database`` (what messages and ``/api/health``
    show: never the password)."""
    try:
        info = parameters(url)
    except TeamError:
        return "(unparsable URL)"
    user = info.get("user") or os.environ.get("PGUSER") or ""
    host = info.get("host") or info.get("hostaddr") or os.environ.get("PGHOST") or "localhost"
    port = info.get("port") or os.environ.get("PGPORT") or "5432"
    database = info.get("dbname") or os.environ.get("PGDATABASE") or user
    return f"{user + '@' if user else ''}{host}:{port}/{database}"


def explain(error: BaseException, url: str) -> str:
    """A one-line message for a failed connection or query on the team database: what went
    wrong and what to fix, without credentials."""
    where = describe(url)
    text = redact(str(error), url)
    first = text.strip().splitlines()[0] if text.strip() else type(error).__name__
    lower = text.lower()
    if "password authentication failed" in lower or "no password supplied" in lower:
        return f"the team database {where} refused the credentials (wrong user or password; fix the URL, PGPASSWORD or ~/.pgpass)"
    if "connection refused" in lower or "could not connect" in lower or "no route to host" in lower:
        return f"cannot reach the team database at {where}: connection refused (is PostgreSQL running there, and is the port right?)"
    if "timeout expired" in lower or "timed out" in lower:
        return f"cannot reach the team database at {where}: no answer within {CONNECT_TIMEOUT_S} s (host, port or firewall?)"
    if "could not translate host name" in lower or "name or service not known" in lower:
        return f"cannot reach the team database at {where}: unknown host name"
    if "database" in lower and "does not exist" in lower:
        return f"the database of {where} does not exist (create it, or fix the database name in the URL)"
    if "role" in lower and "does not exist" in lower:
        return f"the user of {where} does not exist on that server (fix the user name in the URL)"
    if "permission denied" in lower:
        return f"the team database {where} refused this operation to its user ({first}); see `claude-usage team init` for the roles"
    if "ssl" in lower:
        return f"SSL failed for the team database {where} ({first})"
    return f"the team database {where} failed: {first}"


def connect(url: str, purpose: str = "claude-usage") -> Any:
    """A new autocommit connection to the team database (transactions are explicit), with
    ``search_path`` set to the product's schema. Raises :class:`TeamError` when it cannot be
    made (see :func:`explain`)."""
    import psycopg

    info = parameters(url)
    extra = {}
    if "connect_timeout" not in info:
        extra["connect_timeout"] = CONNECT_TIMEOUT_S
    if "application_name" not in info:
        extra["application_name"] = purpose
    try:
        conn = psycopg.connect(url, autocommit=True, **extra)
    except psycopg.Error as error:
        raise TeamError(explain(error, url)) from None
    try:
        conn.execute(f"SET search_path TO {SCHEMA}")
        # Reports group a few hundred thousand rollup rows: in memory, not sorted on disk.
        conn.execute(f"SET work_mem = '{REPORT_WORK_MEM}'")
        # A report query runs for milliseconds; compiling it (JIT) costs 100-300 ms more.
        conn.execute("SET jit = off")
    except psycopg.Error as error:
        conn.close()
        raise TeamError(explain(error, url)) from None
    _integral_numeric(conn)
    return conn


def _integral_numeric(conn: Any) -> None:
    """Load ``numeric`` values without a fraction as ``int`` (PostgreSQL's SUM of BIGINT is
    numeric; the sums of token counts and cost units are integers)."""
    from decimal import Decimal

    from psycopg.adapt import Loader

    class IntegralNumeric(Loader):
        def load(self, data: Any) -> Any:
            text = bytes(data)
            return int(text) if b"." not in text and b"N" not in text else Decimal(text.decode())

    conn.adapters.register_loader("numeric", IntegralNumeric)
