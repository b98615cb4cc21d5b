"""Prometheus metrics of the pipeline: step durations, outcomes by code, queue depth from the catalogue."""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

from storage.catalogue.models import JobStep, StepState

STEP_SECONDS = Histogram(
    "sohoa_step_duration_seconds",
    "Wall time of one pipeline step attempt",
    ["kind", "outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300),
)
STEP_FAILURES = Counter("sohoa_step_failures_total", "Step attempts that did not succeed", ["kind", "code", "final"])


class QueueDepthCollector:
    """Reads queue depth from the catalogue (the source of truth) at scrape time."""

    def __init__(self, catalogue) -> None:  # type: ignore[no-untyped-def]
        self.catalogue = catalogue

    def describe(self) -> list:
        return []  # no catalogue query at registration time

    def collect(self):  # type: ignore[no-untyped-def]
        depth = GaugeMetricFamily(
            "sohoa_queue_depth", "Steps waiting or running, by queue and state", labels=["queue", "state"]
        )
        with self.catalogue.reading() as s:
            rows = s.execute(
                select(JobStep.queue, JobStep.state, func.count())
                .where(JobStep.state.in_([StepState.PENDING, StepState.RUNNING]))
                .group_by(JobStep.queue, JobStep.state)
            ).all()
        for queue, state, count in rows:
            depth.add_metric([queue, state], count)
        yield depth


def register_queue_depth(catalogue, registry: CollectorRegistry = REGISTRY) -> QueueDepthCollector:  # type: ignore[no-untyped-def]
    collector = QueueDepthCollector(catalogue)
    registry.register(collector)
    return collector
