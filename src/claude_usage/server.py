"""Running the API with uvicorn: bind, warn, serve (DESIGN section 9)."""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path
from typing import Any, Sequence



def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port``; raises OSError (e.g. the port is busy)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP given explicitly: asyncio sets TCP_NODELAY on accepted connections only then
    # (without it, keep-alive answers wait ~40 ms for a delayed ACK).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


_PORT_IN_USE = (98, 48, 10048)  # EADDRINUSE on Linux, macOS, Windows
_NOT_HERE = (99, 49, 10049)  # EADDRNOTAVAIL: an address of no interface of this machine


def bind_problem(host: str, port: int, error: OSError) -> str:
    """One line saying why ``host:port`` could not be bound and which option fixes it: the
    host (a name that does not resolve, an address this machine does not have) or the port
    (in use, or one that needs privileges)."""
    where = f"{host}:{port}"
    if isinstance(error, socket.gaierror):
        return f"cannot listen on {where}: {host!r} is not an address or a known host name (choose another with --host or HOST)"
    if error.errno in _NOT_HERE:
        return f"cannot listen on {where}: {host} is not an address of this machine (choose another with --host or HOST)"
    if error.errno in _PORT_IN_USE:
        return f"cannot listen on {where}: port {port} is already in use (choose another with --port or PORT)"
    reason = error.strerror or str(error)
    if error.errno == 13 and port < 1024:  # EACCES: a privileged port
        return f"cannot listen on {where}: {reason}; ports below 1024 need privileges (choose another with --port or PORT)"
    return f"cannot listen on {where}: {reason} (check --host and --port)"


def served_host_names(host: str, allowed_hosts: Sequence[str] = ()) -> list[str] | None:
    """The ``Host`` names the server answers to besides IP literals (DESIGN 9, DNS rebinding):
    ``host`` itself, ``localhost``, the machine's own names when bound to all interfaces or to
    a non-loopback address, and ``allowed_hosts`` (``--allowed-host``). None (any name) when
    ``allowed_hosts`` holds ``*``."""
    if "*" in allowed_hosts:
        return None
    names = {host, "localhost", *allowed_hosts}
    if not is_loopback(host):
        names |= {socket.gethostname(), socket.getfqdn()}
    return sorted(name.lower() for name in names if name and name not in ("0.0.0.0", "::"))


def own_origins(host: str, port: int) -> list[str]:
    """The origins of this server for CORS: ``http://host:port`` (and the other loopback names
    when bound to loopback)."""
    names = {host}
    if is_loopback(host):
        names |= {"localhost", "127.0.0.1", "[::1]"}
    return sorted(f"http://{name if ':' not in name or name.startswith('[') else f'[{name}]'}:{port}" for name in names)


def _log_to_stderr() -> None:
    """The server's own log (file problems, failed refreshes, the watcher) on stderr."""
    import logging
    import sys

    logger = logging.getLogger("claude_usage")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("claude-usage %(levelname)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def run_server(
    store: Any,
    zone: str,
    host: str,
    port: int,
    notice: str | None,
    console: Any,
    rate_limit: int = 600,
    logs_root: Path | None = None,
    pricer_factory: Any = None,
    heartbeat: float = 15.0,
    allowed_hosts: Sequence[str] = (),
    max_connections: int = 1000,
    autopush: Any = None,
    metrics_public: bool = False,
) -> int:
    """Serve ``store`` (days in ``zone`` unless a request says otherwise) until interrupted,
    with at most ``rate_limit`` requests per minute per client (0 = no limit) and the MCP logs
    of ``logs_root`` (default: ``$MCP_LOGS_PATH`` or the Claude CLI cache dir). The store
    follows the transcripts live (the first refresh in the background, then a file watcher),
    and the answers follow the store, whichever process wrote it (SSE heartbeats every
    ``heartbeat`` seconds). ``allowed_hosts`` are further
    ``Host`` names to answer to (``*``: any; see :func:`served_host_names`); at most
    ``max_connections`` connections are kept open (fewer if the open-file limit is lower), and
    a request's headers must arrive within 10 s. ``autopush`` (``serve --push-to``, a
    :class:`~claude_usage.team.autopush.AutoPush`) pushes to the team store after changes.
    ``metrics_public`` serves ``/metrics`` to other machines' clients too (loopback only otherwise).

    Returns the process exit code: 1 with a one-line error when the address cannot be bound.
    """
    import uvicorn

    from claude_usage.api.app import create_app
    from claude_usage.api.store import DataStore

    _log_to_stderr()
    if not is_loopback(host):
        console.print(f"[yellow]Warning:[/] binding {host}: the API is reachable from other machines.")
    try:
        sock = bind_socket(host, port)
    except OSError as error:
        console.print(f"[red]Error:[/] {bind_problem(host, port, error)}")
        return 1
    bound_port = sock.getsockname()[1]
    from claude_usage.api.live import Live

    state = DataStore(store, zone, notice, logs_root, pricer_factory)
    live = Live(state, pricer_factory, heartbeat, autopush)
    hosts = served_host_names(host, allowed_hosts)
    app = create_app(state, rate_limit=rate_limit, origins=own_origins(host, bound_port), hosts=hosts, live=live,
                     metrics_public=metrics_public)
    shown = f"[{host}]" if ":" in host else host
    following = f"the team database {store.path}" if state.team else "the transcripts"
    console.print(f"claude-usage following {following} live on http://{shown}:{bound_port} "
                  "(API docs at /docs; Ctrl+C to stop)")
    # proxy_headers off: X-Forwarded-For from a local client must not pick its rate-limit key.
    # The protocol adds a header timeout and a cap on open connections to uvicorn's own; the
    # cap stays below the open-file limit, so that the server never runs out of descriptors.
    from claude_usage.api.connections import GuardedHttpProtocol, raise_open_file_limit

    files = raise_open_file_limit(max_connections + 256)
    cap = max_connections if files < 0 else max(1, min(max_connections, files - 128))
    protocol = type("ServerProtocol", (GuardedHttpProtocol,), {"max_connections": cap})
    config = uvicorn.Config(app, log_level="warning", access_log=False, proxy_headers=False,
                            http=protocol, timeout_keep_alive=5)

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            live.hub.close()  # open event streams end, so that the server can stop
            super().handle_exit(sig, frame)

    try:
        Server(config).run(sockets=[sock])
    finally:
        if autopush is not None:
            autopush.stop()
    return 0
