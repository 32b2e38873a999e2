"""What to simulate: the fleet size, the seed and the simulated window.

Kept apart from the generators so the scenario truth, the host catalogue and the signal
model can all depend on it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS

# The scenario hosts' names live here, not in ``scenarios``, so the host catalogue can give
# them fixed baselines without importing the scenario module (which builds hosts itself).
BATCH_WORKER = "batch-worker-01"
PROD_WEB = "prod-web-01"
DB_PRIMARY = "db-primary"
CONTROL = "control-01"
# Order matters: with fewer than four instances the first ones are kept.
SCENARIO_HOSTS: tuple[str, ...] = (BATCH_WORKER, PROD_WEB, DB_PRIMARY, CONTROL)
# Healthy-host shapes: "realistic" (business hours, weekends, bursts, heavy tails, batch
# windows; see ``realistic.py``) or "classic" (one cosine a day plus Gaussian noise).
PROFILES = ("realistic", "classic")


def floor_minute(moment: datetime) -> datetime:
    """Timestamps are minute-aligned so that two runs with the same arguments agree."""
    if moment.tzinfo is None:
        raise ValueError(f"datetime must be timezone-aware (UTC), got naive {moment!r}")
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def to_ms(moment: datetime) -> int:
    """Epoch milliseconds, the contract's timestamp unit."""
    return int(round(moment.timestamp() * 1000))


@dataclass(frozen=True, kw_only=True)
class FleetSpec:
    """A deterministic fleet: the same spec always yields the same items.

    ``start``/``end`` bound the simulated history, half-open ``[start, end)``, at
    one-minute resolution. The scenarios are anchored on ``end`` (the deployment happens
    6 h before it, the disk crosses 90 % 72 h after it), so live mode, which continues
    past ``end``, keeps telling the same story.
    """

    start: datetime
    end: datetime
    instances: int = 8
    seed: int = 42
    scenarios: bool = True
    deploy_at: datetime | None = None
    # Share of minutes an ordinary host fails to report (the contract says gaps happen).
    # Scenario hosts are always complete so their ground truth stays crisp.
    gap_rate: float = 0.001
    profile: str = "realistic"

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", floor_minute(self.start))
        object.__setattr__(self, "end", floor_minute(self.end))
        if self.deploy_at is not None:
            object.__setattr__(self, "deploy_at", floor_minute(self.deploy_at))
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        if self.instances < 1:
            raise ValueError("instances must be >= 1")
        if self.profile not in PROFILES:
            raise ValueError(f"profile must be one of {PROFILES}, got {self.profile!r}")
        if not 0.0 <= self.gap_rate < 1.0:
            raise ValueError("gap_rate must be in [0, 1)")

    @classmethod
    def last_days(cls, days: float, end: datetime | None = None, **kwargs: object) -> FleetSpec:
        """The usual CLI shape: ``days`` of history ending at ``end`` (default: now)."""
        end = floor_minute(end or datetime.now(UTC))
        return cls(start=end - timedelta(days=days), end=end, **kwargs)  # type: ignore[arg-type]

    @property
    def start_ms(self) -> int:
        return to_ms(self.start)

    @property
    def end_ms(self) -> int:
        return to_ms(self.end)
