"""Prometheus metrics served at /metrics, named as upstream's API server names them.

Each server has its own registry, so several servers in one process (tests) do not collide.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

_DURATION_BUCKETS = (
    0.005,
    0.025,
    0.05,
    0.1,
    0.2,
    0.4,
    0.6,
    0.8,
    1.0,
    1.25,
    1.5,
    2,
    3,
    4,
    5,
    6,
    8,
    10,
    15,
    20,
    30,
    45,
    60,
)


class ApiMetrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "apiserver_request_total",
            "Counter of apiserver requests broken out for each verb, resource and HTTP response code.",
            ["verb", "resource", "code"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "apiserver_request_duration_seconds",
            "Response latency distribution in seconds for each verb and resource.",
            ["verb", "resource"],
            buckets=_DURATION_BUCKETS,
            registry=self.registry,
        )
        self.longrunning = Gauge(
            "apiserver_longrunning_requests",
            "Gauge of all active long-running apiserver requests (watches) broken out by verb and resource.",
            ["verb", "resource"],
            registry=self.registry,
        )
        # The labelled children by label values: labels() validates and locks on every call.
        self._children: dict[tuple[str, ...], Any] = {}

    def observe(self, *, verb: str, resource: str, code: int, seconds: float) -> None:
        counted = self._children.get((verb, resource, str(code)))
        if counted is None:
            counted = self._children[(verb, resource, str(code))] = self.requests.labels(
                verb, resource, str(code)
            )
        counted.inc()
        if verb != "WATCH":  # a watch's length says nothing about latency
            timed = self._children.get((verb, resource))
            if timed is None:
                timed = self._children[(verb, resource)] = self.duration.labels(verb, resource)
            timed.observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


def metric_verb(verb: str) -> str:
    """Upstream's metric verbs are upper-case HTTP-ish: GET, LIST, WATCH, POST, PUT, PATCH, DELETE."""
    return {"create": "POST", "update": "PUT", "deletecollection": "DELETE"}.get(verb, verb.upper())
