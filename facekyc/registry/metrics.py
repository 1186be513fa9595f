"""Prometheus metrics: request latency, decisions by outcome and reason, engine stage timings.

Each app gets its own CollectorRegistry so several apps (tests) never clash.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_STAGE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Histogram("facekyc_http_request_duration_seconds", "HTTP request latency",
                                  ["method", "route", "status"], buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.decisions = Counter("facekyc_decisions_total", "Decisions by kind, outcome and reason",
                                 ["kind", "outcome", "reason"], registry=self.registry)
        self.stages = Histogram("facekyc_engine_stage_seconds", "Face engine and service stage timings",
                                ["stage"], buckets=_STAGE_BUCKETS, registry=self.registry)
        self.dedup = Histogram("facekyc_dedup_search_seconds", "1:N duplicate search time",
                               buckets=_STAGE_BUCKETS, registry=self.registry)

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).observe(seconds)

    def decision(self, kind: str, outcome: str, reasons: Iterable[str]) -> None:
        """One count per reason (or reason "none"), so each fired rule is visible."""
        listed = list(reasons) or ["none"]
        for reason in listed:
            self.decisions.labels(kind, outcome, reason).inc()

    def stage(self, name: str, seconds: float) -> None:
        self.stages.labels(name).observe(seconds)

    def engine_timings(self, timings_ms: dict[str, float]) -> None:
        for name, ms in timings_ms.items():
            self.stages.labels(name).observe(ms / 1000.0)
