"""Prometheus metrics, one registry per app, served as text at GET /metrics.

Counters are bumped where things happen: turns at the edge, votes and
decisions after their transaction commits (the store reports them), calls to
the Bot Connector in the connector. The outbox gauges are read from the
database for each scrape, so they are right after a restart; the lanes gauge
from the process's outbound pipeline.
"""
from __future__ import annotations

from typing import Callable, Iterator

from botbuilder.schema import ActivityTypes
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from .store import Changes
from .store.models import OutboxStats

ACTIVITY_TYPES = frozenset(t.value for t in ActivityTypes)
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4  # what render() writes: the classic text format
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._turns = Counter("pollbot_turns", "Activities from Teams handled, by activity type",
                              ["type"], registry=self.registry)
        self._votes = Counter("pollbot_votes", "Committed vote changes; moving a vote is one removed and one added",
                              ["change"], registry=self.registry)
        self._decisions = Counter("pollbot_decisions", "Committed approvers' decisions", ["verdict"],
                                  registry=self.registry)
        self._calls = Counter("pollbot_outbound_calls", "Calls to the Bot Connector, by operation and HTTP status",
                              ["operation", "status"], registry=self.registry)
        self._throttled = Counter("pollbot_outbound_throttled", "429 answers received from the Bot Connector",
                                  registry=self.registry)
        self._latency = Histogram("pollbot_messages_duration_seconds", "Time to answer POST /api/messages",
                                  buckets=LATENCY_BUCKETS, registry=self.registry)
        self._lanes = Gauge("pollbot_outbound_lanes", "Conversations this process is delivering to now, one lane each",
                            registry=self.registry)
        self._turns_by_type: dict[str, Counter] = {}
        self._outbox = _OutboxGauges()
        self.registry.register(self._outbox)
        for change in ("added", "removed"):
            self._votes.labels(change)
        for verdict in ("approved", "rejected"):
            self._decisions.labels(verdict)

    def turn(self, activity_type: str | None) -> None:
        kind = activity_type if activity_type in ACTIVITY_TYPES else "other"
        counter = self._turns_by_type.get(kind)
        if counter is None:  # labels() takes a lock and builds a key: a few % of a vote's CPU
            counter = self._turns_by_type[kind] = self._turns.labels(kind)
        counter.inc()

    def committed(self, changes: Changes) -> None:
        """What a committed transaction did: {("vote", "added"): 2, ("decision", "approved"): 1}."""
        counters = {"vote": self._votes, "decision": self._decisions}
        for (kind, label), count in changes.items():
            counters[kind].labels(label).inc(count)

    def outbound_call(self, operation: str, status: int | None) -> None:
        """One call to the Bot Connector; status None when no answer came (connection failed, timeout)."""
        self._calls.labels(operation, "error" if status is None else str(status)).inc()
        if status == 429:
            self._throttled.inc()

    def count_lanes(self, lanes: Callable[[], int]) -> None:
        """Where the lanes gauge reads its value at each scrape."""
        self._lanes.set_function(lanes)

    def messages_answered(self, seconds: float) -> None:
        self._latency.observe(seconds)

    def render(self, outbox: OutboxStats | None) -> bytes:
        """The text exposition; without the outbox gauges when the database did not answer (None)."""
        self._outbox.stats = outbox
        try:
            return generate_latest(self.registry)
        finally:
            self._outbox.stats = None


class _OutboxGauges:
    """A collector for the outbox as read just before this scrape."""

    def __init__(self) -> None:
        self.stats: OutboxStats | None = None

    def collect(self) -> Iterator[Metric]:
        if self.stats is None:
            return
        depth = GaugeMetricFamily("pollbot_outbox_depth", "Sends, updates and deletes waiting to go out to Teams; "
                                  "held: for a conversation that refused the bot or is archived", labels=["state"])
        depth.add_metric(["ready"], self.stats.ready)
        depth.add_metric(["held"], self.stats.held)
        yield depth
        yield GaugeMetricFamily("pollbot_outbox_oldest_age_seconds",
                                "How long the oldest ready item has waited (0 when none)",
                                value=self.stats.oldest_ready_age)
