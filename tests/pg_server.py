"""A real PostgreSQL server for the team-mode tests (DESIGN 12: never a mock).

Debian's ``postgresql`` package (installed by ``scripts/test.sh`` when missing): ``initdb`` and
``pg_ctl`` in a temp dir, on 127.0.0.1 and a free port, with password authentication (so that a
wrong password is a real failure). PostgreSQL refuses to run as root: as root the server runs as
the ``postgres`` user. Stopped when the test run ends.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "postgres"
PASSWORD = "s3cret-Pg-pass"  # what the tests look for in every output (it must never appear)


def _bin_dir() -> Path:
    """The directory of ``initdb`` and ``pg_ctl`` (Debian keeps them per major version)."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if not versions:
        raise RuntimeError("PostgreSQL is not installed (Debian package postgresql; scripts/test.sh installs it)")
    return Path(versions[-1]).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PgServer:
    """A running server: ``url(user, password, database)`` builds a connection URL."""

    folder: Path
    port: int
    as_user: list[str]
    bin_dir: Path

    def url(self, user: str = SUPERUSER, password: str = PASSWORD, database: str = "postgres") -> str:
        return f"postgresql://{user}:{password}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A fresh database ``name`` (dropped first when it exists); returns its superuser URL."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(database=name)

    def stop(self) -> None:
        subprocess.run([*self.as_user, str(self.bin_dir / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate",
                        "stop"], capture_output=True)
        shutil.rmtree(self.folder, ignore_errors=True)


def start(settings: dict[str, str] | None = None) -> PgServer:
    """initdb + pg_ctl start in a new temp dir (``settings``: more server settings, e.g. for a
    benchmark); raises RuntimeError with the server's log when it does not come up."""
    bin_dir = _bin_dir()
    folder = Path(tempfile.mkdtemp(prefix="claude-usage-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        import pwd

        entry = pwd.getpwnam("postgres")
        os.chown(folder, entry.pw_uid, entry.pw_gid)
        os.chmod(folder, 0o700)
        as_user = ["runuser", "-u", "postgres", "--"]
    pwfile = folder / "pw"
    pwfile.write_text(PASSWORD + "\n")
    if as_user:
        os.chown(pwfile, pwd.getpwnam("postgres").pw_uid, -1)
    run = lambda *args: subprocess.run([*as_user, *map(str, args)], capture_output=True, text=True, timeout=120)  # noqa: E731
    made = run(bin_dir / "initdb", "-D", folder / "data", "-U", SUPERUSER, "--pwfile", pwfile, "--auth", "scram-sha-256",
               "-E", "UTF8", "--locale", "C.UTF-8", "--no-sync")
    if made.returncode != 0:
        raise RuntimeError(f"initdb failed: {made.stderr}")
    port = _free_port()
    options = (f"-h 127.0.0.1 -p {port} -k {folder} -c fsync=off -c synchronous_commit=off -c full_page_writes=off "
               "-c max_connections=100 -c shared_buffers=64MB")
    options += "".join(f" -c {name}={value}" for name, value in (settings or {}).items())
    started = run(bin_dir / "pg_ctl", "-D", folder / "data", "-l", folder / "log", "-o", options, "-w", "-t", "60", "start")
    if started.returncode != 0:
        log = (folder / "log").read_text() if (folder / "log").exists() else ""
        raise RuntimeError(f"pg_ctl start failed: {started.stderr}\n{log}")
    return PgServer(folder, port, as_user, bin_dir)
