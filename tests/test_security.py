"""Security headers, CORS limited to the server's own origin, and the rate limit (DESIGN 9)."""

from __future__ import annotations

import re

import httpx
import pytest

from conftest import FIXTURES, RunningServer


@pytest.fixture(scope="module")
def server():
    s = RunningServer("--data-dir", str(FIXTURES / "sniffly"))
    yield s
    s.stop()


@pytest.mark.parametrize("path", ["/api/health", "/api/v2/daily", "/api/v2/nothing", "/docs", "/openapi.json"])
def test_security_headers_on_every_answer(server, path):
    headers = httpx.get(server.url + path).headers
    csp = headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert not re.search(r"https?://|\*", csp), "no external source in the CSP"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"


def test_docs_assets_are_local_and_need_no_inline_script(server):
    html = httpx.get(server.url + "/docs").text
    assert "<script>" not in html  # the CSP forbids inline scripts
    for asset in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert asset.startswith("/docs-assets/")
        assert httpx.get(server.url + asset).status_code == 200


def test_cors_allows_only_the_own_origin(server):
    own = server.url
    allowed = httpx.get(server.url + "/api/v2/daily", headers={"Origin": own})
    assert allowed.headers.get("access-control-allow-origin") == own
    foreign = httpx.get(server.url + "/api/v2/daily", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in foreign.headers
    preflight = httpx.options(server.url + "/api/v2/daily", headers={
        "Origin": "http://evil.example", "Access-Control-Request-Method": "GET"})
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
    assert set(preflight.json()) == {"error", "message"}


def test_foreign_host_header_is_refused(server):
    # DNS rebinding: a page of another site resolving its name to 127.0.0.1.
    port = server.url.rsplit(":", 1)[1]
    refused = httpx.get(server.url + "/api/health", headers={"Host": f"evil.example:{port}"})
    assert refused.status_code == 400 and refused.json()["error"] == "bad_host"
    assert httpx.get(f"http://localhost:{port}/api/health").status_code == 200


def test_rate_limit_answers_429_with_the_error_shape():
    with RunningServer("--data-dir", str(FIXTURES / "sniffly"), rate_limit="20") as limited:
        left = 20 - limited.polls  # start-up polls of /api/health count too
        # X-Forwarded-For is not trusted: a changing value does not make a new client.
        statuses = [httpx.get(limited.url + "/api/health", headers={"X-Forwarded-For": f"10.0.0.{i}"}).status_code
                    for i in range(left)]
        over = httpx.get(limited.url + "/api/v2/daily", headers={"X-Forwarded-For": "10.0.0.99"})
    assert left > 0 and statuses == [200] * left
    assert over.status_code == 429
    assert set(over.json()) == {"error", "message"} and over.json()["error"] == "rate_limited"
    assert int(over.headers["retry-after"]) >= 1
    assert over.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", ["/", "/api/health", "/api/v2/daily?limit=5", "/assets/app.js", "/api/v2/daily/1999-01-01"])
def test_head_answers_like_get_without_a_body(server, path):
    got = httpx.get(server.url + path)
    head = httpx.head(server.url + path)
    assert head.status_code == got.status_code  # 200, or 404 for the day without usage
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    # The length of the body as sent (the dashboard's files go gzip-encoded to clients that take it).
    assert int(head.headers["content-length"]) == int(got.headers["content-length"]) == got.num_bytes_downloaded
    assert head.headers.get("content-encoding") == got.headers.get("content-encoding")
    assert head.headers["x-frame-options"] == "DENY"


def test_head_of_the_event_stream_ends_after_its_headers(server):
    head = httpx.head(server.url + "/api/v2/events", timeout=5)
    assert head.status_code == 200 and head.headers["content-type"].startswith("text/event-stream")
    assert httpx.get(server.url + "/api/health").json()["status"] == "ok"  # the server goes on
