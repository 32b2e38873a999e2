"""Fixtures for the reliability tests (the shared moto/warehouse fixtures come from the root).

``fast_backoff`` keeps botocore's real retry decisions but divides every back-off delay
by ``BACKOFF_DIVISOR``, recording the delay botocore computed, so a test can assert that
back-off happened without sleeping for seconds.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from botocore.retries import standard

from nephos_pipeline_tests.helpers import dynamodb_resource
from nephos_pipeline_tests.reliability.faults import FaultProxy

BACKOFF_DIVISOR = 50.0


def slow_enabled() -> bool:
    return os.environ.get("NEPHOS_RUN_SLOW") == "1"


@dataclass
class Backoff:
    # (attempt number, base scale: 1 s for throttling and 0.025 s for other DynamoDB errors, computed delay s)
    delays: list[tuple[int, float, float]] = field(default_factory=list)


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> Backoff:
    record = Backoff()
    original = standard.ExponentialBackoff.delay_amount

    def delay_amount(self, context):  # noqa: ANN001 - botocore's signature
        delay = original(self, context)
        record.delays.append((context.attempt_number, self._get_base_scale(context), delay))
        return delay / BACKOFF_DIVISOR

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", delay_amount)
    return record


@pytest.fixture
def fault_proxy(dynamodb_server) -> Iterator[FaultProxy]:
    with FaultProxy(dynamodb_server.endpoint_url) as proxy:
        yield proxy


@pytest.fixture
def stack(dynamodb_tables, warehouse):
    """(tables, warehouse, resources) talking to moto directly."""
    t = dynamodb_tables
    return t, warehouse, {"warehouse": warehouse, "dynamodb": dynamodb_resource(t.endpoint_url, t.names)}
