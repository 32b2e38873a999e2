"""The host catalogue: who is in the fleet, their baselines, and their Instances items.

Every host's parameters come from its own RNG stream ``(seed, index)``, so growing the
fleet from 8 to 100 instances leaves the first 8 hosts exactly as they were.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from nephos_pipeline.simulator.spec import (
    BATCH_WORKER,
    CONTROL,
    DAY_MS,
    DB_PRIMARY,
    MINUTE_MS,
    PROD_WEB,
    SCENARIO_HOSTS,
    FleetSpec,
)

ROLES = ("web", "api", "worker", "cache", "queue")
REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2")
PLANS = {"starter": 2, "standard": 4, "performance": 8, "enterprise": 16}  # plan -> vCPUs
TEAMS = ("platform", "checkout", "search", "data")


@dataclass(frozen=True)
class Host:
    """One monitored instance and the knobs of its baseline behaviour."""

    index: int
    hostname: str
    instance_id: str
    role: str
    region: str
    plan: str
    scenario: str | None
    cpu_base: float
    cpu_amp: float
    mem_base: float
    mem_amp: float
    disk_base: float
    disk_drift_per_day: float
    disk_wobble: float
    peak_hour: float
    net_in: float  # bytes/s at the daily mean
    out_ratio: float
    offset_frac: float  # where in its reporting interval the agent samples
    env: str
    team: str
    created_at_ms: int
    deployed_at_ms: int | None

    @property
    def vcpus(self) -> int:
        return PLANS[self.plan]


def _instance_id(seed: int, hostname: str) -> str:
    return "i-" + hashlib.blake2b(f"{seed}:{hostname}".encode(), digest_size=9).hexdigest()[:17]


def _host(spec: FleetSpec, index: int, hostname: str, scenario: str | None) -> Host:
    rng = np.random.default_rng([spec.seed, index, 0x4057])
    role = hostname.rsplit("-", 1)[0]
    deployed = None
    if scenario is None and rng.random() < 0.5 and spec.end > spec.start:
        # An uneventful deployment: a negative control for deploy-correlation detectors.
        minutes = (spec.end_ms - spec.start_ms) // MINUTE_MS
        deployed = spec.start_ms + int(rng.integers(0, minutes)) * MINUTE_MS
    params: dict[str, Any] = dict(
        role=role,
        region=REGIONS[int(rng.integers(len(REGIONS)))],
        plan=list(PLANS)[int(rng.integers(len(PLANS)))],
        cpu_base=(cpu_base := rng.uniform(15, 32)),
        cpu_amp=cpu_base * rng.uniform(0.35, 0.6),  # keeps the nightly trough off zero
        mem_base=rng.uniform(38, 62),
        mem_amp=rng.uniform(3, 8),
        disk_base=rng.uniform(20, 60),
        disk_drift_per_day=rng.uniform(-0.05, 0.25),
        disk_wobble=rng.uniform(0.1, 0.5),
        peak_hour=rng.uniform(14.0, 17.0),
        net_in=float(10 ** rng.uniform(4.5, 6.5)),
        out_ratio=rng.uniform(0.3, 3.0),
        offset_frac=rng.random(),
        env="prod" if scenario or rng.random() < 0.7 else "staging",
        team=TEAMS[int(rng.integers(len(TEAMS)))],
        created_at_ms=spec.start_ms - int(rng.integers(30, 400)) * DAY_MS,
        deployed_at_ms=deployed,
    )
    # Scenario hosts get fixed, documented baselines so the truth does not depend on the seed.
    if scenario == BATCH_WORKER:
        params.update(role="worker", plan="performance", cpu_base=35.0, cpu_amp=12.0, peak_hour=15.0,
                      mem_base=40.0, mem_amp=5.0)
    elif scenario == PROD_WEB:
        params.update(role="web", plan="standard", cpu_base=25.0, cpu_amp=12.0, peak_hour=15.0,
                      mem_base=47.5, mem_amp=6.5)
    elif scenario == DB_PRIMARY:
        params.update(role="db", plan="enterprise", cpu_base=30.0, cpu_amp=10.0, mem_base=65.0,
                      mem_amp=3.0, disk_drift_per_day=0.0, disk_wobble=0.0)
    elif scenario == CONTROL:
        params.update(role="web", cpu_base=25.0, cpu_amp=12.0, peak_hour=15.0, mem_base=45.0,
                      mem_amp=5.0, disk_base=40.0, disk_drift_per_day=0.0, disk_wobble=0.0)
    return Host(index=index, hostname=hostname, instance_id=_instance_id(spec.seed, hostname),
                scenario=scenario, **params)


def build_hosts(spec: FleetSpec) -> list[Host]:
    """Scenario hosts first (as many as fit), then ordinary ``web-01``, ``api-01``, ..."""
    names: list[tuple[str, str | None]] = []
    if spec.scenarios:
        names = [(name, name) for name in SCENARIO_HOSTS[: spec.instances]]
    for i in range(spec.instances - len(names)):
        names.append((f"{ROLES[i % len(ROLES)]}-{i // len(ROLES) + 1:02d}", None))
    return [_host(spec, index, hostname, scenario) for index, (hostname, scenario) in enumerate(names)]


def instance_item(host: Host, scenario_deployed_ms: int | None = None,
                  updated_at_ms: int | None = None) -> dict[str, Any]:
    """The Instances item exactly as the contract shapes it (epoch-ms timestamps as ``int``).

    ``scenario_deployed_ms`` is the planted deployment (from the scenario truth), used for
    the deployment scenario's host; other hosts keep their own uneventful deployment.
    """
    deployed = host.deployed_at_ms
    if host.scenario == PROD_WEB:
        deployed = scenario_deployed_ms
    updated = updated_at_ms or max(host.created_at_ms, deployed or 0)
    item: dict[str, Any] = {
        "instance_id": host.instance_id,
        "hostname": host.hostname,
        "region": host.region,
        "plan": host.plan,
        "status": "running",
        "tags": {"env": host.env, "role": host.role, "team": host.team},
        "created_at": host.created_at_ms,
        "updated_at": updated,
    }
    if deployed is not None:
        item["last_deployed_at"] = deployed
    return item
