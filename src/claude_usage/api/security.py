"""Server hardening (DESIGN section 9): security headers and a per-client rate limit.

Both are plain ASGI middlewares, so streamed responses pass through untouched.
"""

from __future__ import annotations

import ipaddress
import json
import time
from collections import OrderedDict
from typing import Any, Awaitable, Callable

# No external origin anywhere. Swagger UI and plotly.js set inline styles, hence 'unsafe-inline'
# for styles only; scripts are files served by this server ('self'; plotly.js needs no
# 'unsafe-eval' for the charts drawn here); images may be blob:/data: URLs made in the page
# (plotly.js draws a chart to PNG through one).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
]

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]


class SecurityHeaders:
    """Adds the CSP, ``nosniff``, frame-deny and no-referrer headers to every HTTP response."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *SECURITY_HEADERS]}
            await send(message)

        await self.app(scope, receive, with_headers)


class HeadAsGet:
    """Answers ``HEAD`` as ``GET`` would, with the same status and headers and no body (RFC 9110
    section 9.3.2), so uptime checks and ``curl -I`` work on every route. A streamed answer (the
    event stream) ends after its headers: the app then sees the client as gone."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        finished = False

        async def headers_only(message: dict) -> None:
            nonlocal finished
            if finished:
                return
            if message["type"] == "http.response.body":
                finished = True
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)


class RateLimit:
    """At most ``per_minute`` requests per client address in any moving minute (``limits``'
    moving-window limiter, in memory); over it, HTTP 429 with the API's error body and
    ``Retry-After``. ``per_minute`` of 0 turns the limit off."""

    def __init__(self, app: Any, per_minute: int):
        from limits import RateLimitItemPerMinute
        from limits.storage import MemoryStorage
        from limits.strategies import MovingWindowRateLimiter

        self.app = app
        self.per_minute = per_minute
        self.item = RateLimitItemPerMinute(max(per_minute, 1))
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.per_minute <= 0:
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        if self.limiter.hit(self.item, client):
            await self.app(scope, receive, send)
            return
        reset = self.limiter.get_window_stats(self.item, client).reset_time
        wait = max(1, int(reset - time.time() + 0.999))
        message = f"Too many requests: at most {self.per_minute} per minute; retry in {wait} s"
        await _json_error(send, 429, "rate_limited", message, [(b"retry-after", str(wait).encode())])

async def _json_error(send: Send, status: int, error: str, message: str, extra: list | None = None) -> None:
    body = json.dumps({"error": error, "message": message}).encode()
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *(extra or [])],
    })
    await send({"type": "http.response.body", "body": body})


def _header_values(scope: Scope, name: bytes) -> list[str]:
    return [value.decode("latin-1") for key, value in scope.get("headers") or [] if key == name]


def _host_name(header: str) -> str:
    """The name of a ``Host`` value, lower-case, without port or IPv6 brackets."""
    header = header.strip().lower()
    return header[1:].partition("]")[0] if header.startswith("[") else header.partition(":")[0]


def _is_ip_literal(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


class TrustedHosts:
    """Answers 400 to requests whose ``Host`` is not a name this server answers to: a web page
    of another site cannot reach it by DNS rebinding (its requests carry that site's name).

    Accepted: IP literals (a page can only carry one as its own origin), and ``hosts`` (the
    name bound to, ``localhost``, the machine's names when bound to all interfaces, and each
    ``--allowed-host``). ``hosts`` of None accepts any name (``--allowed-host '*'``). A
    request with several ``Host`` headers is refused whatever they say.
    """

    def __init__(self, app: Any, hosts: list[str] | None):
        self.app = app
        self.hosts = None if hosts is None else {_host_name(h) for h in hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        values = _header_values(scope, b"host")
        if len(values) > 1:
            await _json_error(send, 400, "bad_host", "Several Host headers in one request; send one")
            return
        header = values[0] if values else ""
        name = _host_name(header)
        if self.hosts is None or name in self.hosts or _is_ip_literal(name):
            await self.app(scope, receive, send)
            return
        hint = "; start the server with --allowed-host NAME to accept it" if name else ""
        await _json_error(send, 400, "bad_host", f"Host {header!r} is not served here{hint}")


class SameOriginWrites:
    """Refuses (403) a request that changes something (any method but GET, HEAD and OPTIONS,
    e.g. ``POST /api/v2/refresh``) when a browser says it comes from another site: an ``Origin``
    other than this server's own (the ``Host`` it was asked for), or ``Sec-Fetch-Site`` other
    than ``same-origin`` or ``none``. Clients that send neither (curl, scripts) are served."""

    SAFE = frozenset({"GET", "HEAD", "OPTIONS"})

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in self.SAFE:
            await self.app(scope, receive, send)
            return
        site = _header_values(scope, b"sec-fetch-site")
        origins = _header_values(scope, b"origin")
        hosts = _header_values(scope, b"host")
        foreign = any(value.strip().lower() not in ("same-origin", "none") for value in site)
        for origin in origins:
            scheme, _, rest = origin.strip().lower().partition("://")
            if scheme not in ("http", "https") or not hosts or rest.rstrip("/") != hosts[0].strip().lower():
                foreign = True
        if not foreign:
            await self.app(scope, receive, send)
            return
        await _json_error(send, 403, "cross_site", f"{scope['method']} from another site's page is refused: "
                          "only this server's own pages (or clients without an Origin header) may change anything")


def cors_middleware() -> type:
    """Starlette's CORS middleware, with the API's error body on a refused preflight."""
    from starlette.middleware.cors import CORSMiddleware
    from starlette.responses import JSONResponse

    class Cors(CORSMiddleware):
        def preflight_response(self, request_headers: Any) -> Any:
            response = super().preflight_response(request_headers)
            if response.status_code != 400:
                return response
            reason = bytes(response.body).decode()
            headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-type")}
            return JSONResponse({"error": "cors_rejected", "message": f"{reason}: only this server's own origin may call it"},
                                status_code=400, headers=headers)

    return Cors


class ResponseCache:
    """Answers a repeated GET of a dataset-derived endpoint from memory: the whole response of
    ``path?query`` is kept until the dataset changes (``store.version``), an official-limits
    observation is recorded (``store.observed``) or the minute turns
    (answers that depend on today stay right). Only complete 200 answers of at most
    :attr:`MAX_ANSWER_BYTES` are kept, at most :attr:`MAX_BYTES` in all (the least recently used
    go first), so no mix of requests can grow the server's memory without bound; live,
    file-reading and streaming endpoints are never cached."""

    UNCACHED = ("/api/health", "/api/v2/events", "/api/v2/refresh", "/api/v2/mcp/logs", "/api/v2/todos",
                "/api/v2/logs/content", "/api/v2/budgets")
    MAX_BYTES = 32 << 20
    MAX_ANSWER_BYTES = 4 << 20

    def __init__(self, app: Any, store: Any):
        self.app = app
        self.store = store
        self.entries: OrderedDict[tuple, tuple[dict, bytes]] = OrderedDict()
        self.bytes = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or scope["method"] != "GET" or not path.startswith("/api/") or path in self.UNCACHED:
            await self.app(scope, receive, send)
            return
        # The data version, and the mark of the official limits the status line recorded.
        marks = (self.store.version, self.store.observed)
        key = (path, scope.get("query_string", b""), marks, int(time.time() // 60))
        hit = self.entries.get(key)
        if hit is not None:  # copies: outer middlewares add their headers to the message
            self.entries.move_to_end(key)
            await send({**hit[0], "headers": list(hit[0]["headers"])})
            await send({"type": "http.response.body", "body": hit[1]})
            return
        parts: list[dict] = []

        async def keep(message: dict) -> None:
            parts.append({**message, "headers": list(message.get("headers", []))}
                         if message["type"] == "http.response.start" else message)
            await send(message)

        await self.app(scope, receive, keep)
        if (len(parts) == 2 and parts[0].get("status") == 200 and not parts[1].get("more_body")
                and key[2] == (self.store.version, self.store.observed)):
            self._keep(key, parts[0], parts[1].get("body", b""))

    def _keep(self, key: tuple, start: dict, body: bytes) -> None:
        if len(body) > self.MAX_ANSWER_BYTES:
            return
        for stale in [k for k in self.entries if k[2] != key[2] or k[3] != key[3]]:
            self.bytes -= len(self.entries.pop(stale)[1])  # older data or an earlier minute
        self.entries[key] = (start, body)
        self.bytes += len(body)
        while self.bytes > self.MAX_BYTES and self.entries:
            self.bytes -= len(self.entries.popitem(last=False)[1][1])
