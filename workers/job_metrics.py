"""Prometheus metrics of the pipeline: step durations, outcomes by code, queue depth from the catalogue, and
the free space of the folders the service writes to."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func, select

from sohoa.diskspace import folder_space
from sohoa.settings import Settings
from storage.catalogue.db import Catalogue
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

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue

    def describe(self) -> list[Metric]:
        return []  # no catalogue query at registration time

    def collect(self) -> Iterator[Metric]:
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


def register_queue_depth(catalogue: Catalogue, registry: CollectorRegistry = REGISTRY) -> QueueDepthCollector:
    collector = QueueDepthCollector(catalogue)
    registry.register(collector)
    return collector


class DiskSpaceCollector:
    """Free and total bytes of each watched folder, read at scrape time, and whether it is low.

    Alert on ``sohoa_disk_low == 1`` (or on ``sohoa_disk_free_bytes`` against your own margin): it turns
    to 1 at ``storage.min_free_bytes``, before writes start failing with STORAGE_FULL.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        labels = ["folder"]
        free = GaugeMetricFamily("sohoa_disk_free_bytes", "Bytes free for the service, by folder", labels=labels)
        size = GaugeMetricFamily("sohoa_disk_size_bytes", "Size of the file system, by folder", labels=labels)
        low = GaugeMetricFamily("sohoa_disk_low", "1 while free bytes are under storage.min_free_bytes", labels=labels)
        for folder in folder_space(self.settings):
            free.add_metric([folder.name], folder.free_bytes)
            size.add_metric([folder.name], folder.total_bytes)
            low.add_metric([folder.name], int(folder.low))
        threshold = GaugeMetricFamily("sohoa_disk_min_free_bytes", "storage.min_free_bytes: the low-space mark")
        threshold.add_metric([], self.settings.storage.min_free_bytes)
        yield from (free, size, low, threshold)


def register_disk_space(settings: Settings, registry: CollectorRegistry = REGISTRY) -> DiskSpaceCollector:
    collector = DiskSpaceCollector(settings)
    registry.register(collector)
    return collector
