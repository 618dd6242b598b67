"""What each worker tells Prometheus at ``/metrics``: counts and durations, nothing else.

No label names or numbers a person, a conversation, a source or a text: labels are fixed,
small sets (an endpoint, a sender role, an error code, a kind of database work). The queue
figures are read from the database when scraped, so every worker reports the same ones
(take ``max``, not ``sum``, across workers); the counters and histograms are this worker's
own (take ``sum``).

The nginx configuration of docs/deployment.md does not pass ``/metrics`` from outside: it
is for the monitoring host on the internal network.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE  # noqa: F401 (re-export)
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

registry = CollectorRegistry(auto_describe=True)

# Latency buckets for a chat: most answers within milliseconds, the target under 50 ms,
# anything past a second is an incident.
_FAST = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

connections_open = Gauge(
    "haven_connections_open",
    "WebSocket connections open on this worker.",
    ["endpoint"],
    registry=registry,
)
messages_stored = Counter(
    "haven_messages_stored",
    "Messages stored and acknowledged by this worker.",
    ["sender"],
    registry=registry,
)
ack_seconds = Histogram(
    "haven_ack_seconds",
    "From a send frame received to its ack sent (stored first).",
    ["sender"],
    buckets=_FAST,
    registry=registry,
)
database_seconds = Histogram(
    "haven_database_seconds",
    "Database work of the sockets: one read, or one writer batch (one commit).",
    ["kind"],
    buckets=_FAST,
    registry=registry,
)
errors = Counter(
    "haven_errors",
    "Error frames sent, and other failures, by kind.",
    ["kind"],
    registry=registry,
)
visitors_waiting = Gauge(
    "haven_visitors_waiting",
    "Conversations waiting for a counsellor (read from the database when scraped).",
    registry=registry,
)
longest_wait_seconds = Gauge(
    "haven_longest_wait_seconds",
    "How long the conversation first in the queue has waited (0 with an empty queue).",
    registry=registry,
)
conversations_live = Gauge(
    "haven_conversations_live",
    "Conversations a counsellor has accepted and not yet ended.",
    registry=registry,
)


def render(*, waiting: int, longest_wait: float, live: int) -> bytes:
    """The text exposition, with the queue figures just read."""
    visitors_waiting.set(waiting)
    longest_wait_seconds.set(longest_wait)
    conversations_live.set(live)
    return generate_latest(registry)
