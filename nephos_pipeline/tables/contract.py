"""The data contract (docs/data-contract.md) as code: typed rows or a reject with a reason.

Works on DynamoDB's low-level AttributeValue form (``{"N": "42"}``) so that a malformed
item (a number sent as a string, NaN, a map of the wrong types) is *seen* as malformed
instead of being coerced, and the raw item can be kept verbatim in REJECTS.
Pure Python: no boto3, no Dagster, no SQL.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from nephos_pipeline import metric_catalogue

METRIC_KEYS = frozenset({"instance_id", "timestamp"})
SEVERITIES = ("low", "medium", "high", "critical")
ALERT_STATUSES = ("open", "acknowledged", "resolved")
# Instance STATUS values: agents write 'running'; 'active' is the older spelling and means
# the same. A live instance is expected to report metrics (the per-instance freshness check
# and the silent-host analysis use LIVE_INSTANCE_STATUSES); the others are not.
LIVE_INSTANCE_STATUSES = ("running", "active")
INSTANCE_STATUSES = (*LIVE_INSTANCE_STATUSES, "pending", "stopping", "stopped", "terminated")
MAX_ID_CHARS = 255
MAX_TEXT_CHARS = 8192  # longer free text (alert messages) is truncated, and counted
MIN_MS = 946_684_800_000  # 2000-01-01
MAX_MS = 4_102_444_800_000  # 2100-01-01
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

Item = Mapping[str, Mapping[str, Any]]


class ContractError(ValueError):
    """One reason an item breaks the contract."""


def _attr_type(attr: Any) -> str:
    if type(attr) is dict:  # what boto3 returns: tested without the Mapping ABC (hot path, ~500k a 1,000-host hour)
        return next(iter(attr)) if len(attr) == 1 else "?"
    if isinstance(attr, Mapping) and len(attr) == 1:
        return next(iter(attr))
    return "?"


def ident(item: Item, name: str, required: bool = True) -> str | None:
    attr = item.get(name)
    if attr is None:
        if required:
            raise ContractError(f"{name}: missing")
        return None
    if _attr_type(attr) != "S":
        raise ContractError(f"{name}: expected S, got {_attr_type(attr)}")
    value = attr["S"]
    if not isinstance(value, str) or not value.strip():
        raise ContractError(f"{name}: empty")
    if len(value) > MAX_ID_CHARS:
        raise ContractError(f"{name}: longer than {MAX_ID_CHARS} characters ({len(value)})")
    if _CONTROL.search(value):
        raise ContractError(f"{name}: contains control characters")
    return value


def number(item: Item, name: str, required: bool = True) -> float | None:
    attr = item.get(name)
    if attr is None:
        if required:
            raise ContractError(f"{name}: missing")
        return None
    kind = _attr_type(attr)
    if kind != "N":
        raise ContractError(f"{name}: expected N, got {kind}")
    raw = attr["N"]
    try:
        # float() rounds a decimal string exactly as float(Decimal(...)) does and accepts a
        # subset of what Decimal accepts; anything else takes the Decimal path, so the
        # verdict on odd input ("sNaN", "NaN12") is unchanged.
        value = float(raw) if type(raw) is str else float(Decimal(str(raw)))
    except (InvalidOperation, ValueError, TypeError):
        try:
            value = float(Decimal(str(raw)))
        except (InvalidOperation, ValueError, TypeError):
            raise ContractError(f"{name}: not a number") from None
    if not math.isfinite(value):
        raise ContractError(f"{name}: not finite")
    return value


def epoch_ms(item: Item, name: str, required: bool = True) -> datetime | None:
    value = number(item, name, required)
    if value is None:
        return None
    if not (MIN_MS <= value < MAX_MS):
        raise ContractError(f"{name}: {value:.0f} is not epoch milliseconds between 2000 and 2100")
    return datetime.fromtimestamp(int(value) / 1000, tz=UTC).replace(tzinfo=None)


def text(item: Item, name: str, required: bool = False) -> tuple[str | None, bool]:
    """A free-text field; returns (value, truncated)."""
    attr = item.get(name)
    if attr is None:
        if required:
            raise ContractError(f"{name}: missing")
        return None, False
    if _attr_type(attr) != "S":
        raise ContractError(f"{name}: expected S, got {_attr_type(attr)}")
    value = str(attr["S"])
    if len(value) > MAX_TEXT_CHARS:
        return value[:MAX_TEXT_CHARS], True
    return value, False


def enum(item: Item, name: str, allowed: tuple[str, ...], required: bool = True) -> str | None:
    value = ident(item, name, required)
    if value is not None and value not in allowed:
        raise ContractError(f"{name}: {value[:40]!r} not one of {'|'.join(allowed)}")
    return value


def is_known_metric(name: str) -> bool:
    """A catalogue metric: its attribute must be a number in its valid range."""
    return metric_catalogue.get(name) is not None


def check_metric_value(name: str, value: float) -> None:
    """The valid range comes from the metric catalogue; unknown metrics have none."""
    metric = metric_catalogue.get(name)
    if metric is None:
        return
    lo, hi = metric.minimum, metric.maximum
    if lo is not None and hi is not None and not (lo <= value <= hi):
        raise ContractError(f"{name}: {value} outside {lo:g}..{hi:g}")
    if lo is not None and value < lo:
        raise ContractError(f"{name}: {value} is below {lo:g}" if lo else f"{name}: {value} is negative")
    if hi is not None and value > hi:
        raise ContractError(f"{name}: {value} is above {hi:g}")
