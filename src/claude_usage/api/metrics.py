"""``GET /metrics``: the store in the Prometheus text format (issue 15), made by the
``prometheus-client`` library from the report queries at each scrape.

Counters (cumulative since the first request in the store; a scraper's ``rate()`` and
``increase()`` give use per interval): ``claude_usage_tokens_total{model, project, type}``
(``type``: ``input``, ``output``, ``cache_creation_5m``, ``cache_creation_1h``,
``cache_read``), ``claude_usage_cost_usd_total{model, project}`` (the known cost in USD, cost
mode ``auto``, DESIGN 5), ``claude_usage_requests_total{model, project}`` and
``claude_usage_unpriced_requests_total{model, project}`` (requests without a known price). Gauges:
``claude_usage_store_requests`` (deduplicated requests stored), ``claude_usage_last_activity_timestamp_seconds``
(the latest request, Unix seconds), ``claude_usage_data_files{state}`` (transcripts in the store:
``present`` or ``missing``, i.e. deleted since they were read).

Every family is a function of one consistent view of the store registered with
:func:`metric_family`: adding a family is adding one such function. The sums are SQL aggregates
of the rollups (:mod:`claude_usage.reports`), so the endpoint serves a team server too.

Only loopback clients are served unless the server runs with ``--metrics-public``; others get
403 with the API's error body.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Callable, Iterable

from fastapi import APIRouter, Request, Response
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import CollectorRegistry

from claude_usage import reports
from claude_usage.api.params import ApiError
from claude_usage.api.schemas import ErrorBody
from claude_usage.reports import Query

Family = Callable[[Any], Iterable[Metric]]  # a view of the store -> metric families
FAMILIES: list[Family] = []
_TOKEN_TYPES = (("input", "input_tokens"), ("output", "output_tokens"), ("cache_creation_5m", "cache_creation_5m_tokens"),
                ("cache_creation_1h", "cache_creation_1h_tokens"), ("cache_read", "cache_read_tokens"))


def metric_family(function: Family) -> Family:
    """Register ``function(view)`` (a read view of the store, in the same transaction as every
    other family of the scrape), which returns Prometheus metric families
    (``prometheus_client.core.CounterMetricFamily``, ``GaugeMetricFamily``...)."""
    FAMILIES.append(function)
    return function


@metric_family
def usage_counters(view: Any) -> list[Metric]:
    """Tokens by type, cost, requests and unpriced requests per model and project."""
    labels = ["model", "project"]
    tokens = CounterMetricFamily("claude_usage_tokens", "Tokens of the deduplicated requests, by model, project "
                                 "and token type", labels=[*labels, "type"])
    cost = CounterMetricFamily("claude_usage_cost_usd", "Known cost of the deduplicated requests in USD (cost mode "
                               "auto: the line's costUSD when present, else calculated)", labels=labels)
    requests = CounterMetricFamily("claude_usage_requests", "Deduplicated requests (API responses)", labels=labels)
    unpriced = CounterMetricFamily("claude_usage_unpriced_requests", "Requests whose model has no known price "
                                   "(their cost is not in claude_usage_cost_usd)", labels=labels)
    groups = reports.grouped(view, Query(zone="UTC"), reports.PROJECT, by_model=True)
    for project, totals in sorted(groups.items()):
        for model, sub in sorted((totals.by_model or {}).items()):
            for kind, name in _TOKEN_TYPES:
                tokens.add_metric([model, project, kind], getattr(sub, name))
            cost.add_metric([model, project], round(sub.cost_usd, 10))
            requests.add_metric([model, project], sub.requests)
            unpriced.add_metric([model, project], sub.unpriced_requests)
    return [tokens, cost, requests, unpriced]


@metric_family
def store_gauges(view: Any) -> list[Metric]:
    """How much the store holds and how recent it is."""
    stored = view.one("SELECT value FROM meta WHERE key = 'requests'")
    records = GaugeMetricFamily("claude_usage_store_requests", "Deduplicated requests in the store",
                                value=int(stored[0]) if stored else 0)
    last = view.one("SELECT MAX(last_ts) FROM session_usage")[0]
    latest = GaugeMetricFamily("claude_usage_last_activity_timestamp_seconds",
                               "Time of the latest request (Unix seconds; absent without requests)")
    if last is not None:
        latest.add_metric([], last / 1e6)
    files = GaugeMetricFamily("claude_usage_data_files", "Transcript files in the store: present, or missing "
                              "(deleted since they were read; their requests still count)", labels=["state"])
    counts = dict(view.rows("SELECT missing, COUNT(*) FROM files GROUP BY missing"))
    files.add_metric(["present"], counts.get(0, 0))
    files.add_metric(["missing"], counts.get(1, 0))
    return [records, latest, files]


class StoreCollector:
    """A ``prometheus_client`` collector that reads every registered family from one view of
    the store at scrape time (nothing is kept between scrapes)."""

    def __init__(self, store: Any):
        self.store = store

    def describe(self) -> list[Metric]:
        return []  # the families are known only when read

    def collect(self) -> list[Metric]:
        with self.store.reading() as view:
            return [metric for family in FAMILIES for metric in family(view)]


def metrics_text(store: Any) -> bytes:
    """The families of :data:`FAMILIES` over ``store`` (any store with ``reading()``), in the
    Prometheus text format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(store))
    return generate_latest(registry)


def client_allowed(client: Any, public: bool) -> bool:
    """Whether a client (the ASGI scope's ``(host, port)``, or None) may read ``/metrics``:
    any client when ``public``, else only a loopback address."""
    if public:
        return True
    host = client[0] if client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


router = APIRouter(tags=["integrations"])


@router.get("/metrics", response_class=Response, summary="Usage in the Prometheus text format", responses={
    200: {"description": "The metric families (see the README)", "content": {"text/plain": {"schema": {"type": "string"}}}},
    403: {"model": ErrorBody, "description": "A client from another machine, and the server does not run with --metrics-public"},
})
def metrics(request: Request) -> Response:
    """Tokens, cost and requests per model and project, and the store's state, for Prometheus."""
    if not client_allowed(request.scope.get("client"), getattr(request.app.state, "metrics_public", False)):
        raise ApiError(403, "forbidden", "/metrics answers clients on this machine only; start the server with "
                                         "--metrics-public to serve it to other machines")
    return Response(metrics_text(request.app.state.store.store), media_type=CONTENT_TYPE_LATEST)
