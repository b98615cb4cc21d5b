"""Prometheus metrics of the API process: requests by route, refusals, citizen lookups."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class ApiMetrics:
    def __init__(self, registry: CollectorRegistry):
        self.requests = Counter(
            "sohoa_http_requests_total",
            "HTTP requests by route and status",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "sohoa_http_request_duration_seconds",
            "Time to the response headers, by route",
            ["method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5, 5, 10, 30),
            registry=registry,
        )

        def counter(name: str, documentation: str, *labels: str) -> Counter:
            return Counter(name, documentation, labels, registry=registry)

        self.rate_limited = counter("sohoa_rate_limited_total", "Requests refused by a rate limit", "limit")
        self.lookups = counter("sohoa_citizen_lookups_total", "Citizen result lookups by outcome", "outcome")
        self.lookup_attack_alerts = counter(
            "sohoa_lookup_attack_alerts_total",
            "Citizen lookups: a result came under attack (failures from many clients) or its proof of work grew",
        )
        self.forged_posts = counter(
            "sohoa_forged_posts_total", "Portal form posts refused as cross-site (CSRF)", "path"
        )
        self.agency_requests = counter("sohoa_agency_requests_total", "Agency document requests by outcome", "outcome")
        self.reuse_lookups = counter(
            "sohoa_reuse_lookups_total",
            "Reuse lookups at intake by outcome (disclosed, none, mismatch, refused, skipped)",
            "outcome",
        )
        self.reuse_alerts = counter(
            "sohoa_reuse_alerts_total",
            "Unusual reuse lookups at intake: a station's day reached the alert volume (volume), was refused "
            "(budget, birth-dates), or gave a birth date other than the one recorded (mismatch)",
            "reason",
        )


class MetricsMiddleware:
    """Count every HTTP request under its route template (never the raw path: ids stay out of labels)."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: dict[str, Any] = {"code": 500, "timed": False}

        def observe() -> None:
            route = scope.get("route")
            name = getattr(route, "path", None) or "unmatched"
            if not status["timed"]:
                status["timed"] = True
                self.metrics.latency.labels(scope["method"], name).observe(time.perf_counter() - started)
                self.metrics.requests.labels(scope["method"], name, str(status["code"])).inc()

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                observe()
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            observe()
