"""Discovery of unregistered instance ids from the Metrics stream. Pure logic: no Dagster.

The change sensor sees every new metric item. An item whose ``instance_id`` is not in the
Instances table would never be queried by the hourly extract (it queries ids, and this one
is unknown), so the sensor hands such ids to the runs it requests for the hours holding
their items (``raw_metrics`` config). The run queries them and records them in
``METRIC_INSTANCE_IDS``, after which every later sync near those hours queries them too.
Ids seen in an hour that has not closed yet wait in the cursor with that hour.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from nephos_pipeline.orchestration.streams import PARTITION_FMT, Change, partitions_for_record
from nephos_pipeline.tables.contract import ContractError

MAX_IDS_PER_HOUR = 500  # more than this in one hour is a flood of bad ids: the reconciliation finds the rest


def metric_ids_by_hour(changes: Iterable[Change]) -> dict[str, set[str]]:
    """Partition key -> instance ids of the Metrics stream records of that hour."""
    found: dict[str, set[str]] = defaultdict(set)
    for change in changes:
        if change.table_kind != "metrics" or change.resync:
            continue
        try:
            hours = partitions_for_record("metrics", change.record or {})
        except ContractError:
            continue  # the plan counts it as a contract violation
        keys = (change.record or {}).get("dynamodb", {}).get("Keys", {})
        iid = keys.get("instance_id", {}).get("S") if isinstance(keys, Mapping) else None
        if isinstance(iid, str) and iid:
            for hour in hours:
                found[hour.strftime(PARTITION_FMT)].add(iid)
    return dict(found)


def unregistered_by_hour(
    seen: Mapping[str, set[str]],
    registered: set[str],
    carried: Mapping[str, list[str]],
    requested: Iterable[str],
    pending: Iterable[str],
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Split unregistered ids into (ids for the hours requested now, ids to carry in the cursor).

    ``carried`` is what the cursor held from earlier ticks; an id registered since is
    dropped. Hours neither requested nor pending (before the partitions start, too far in
    the future) are not kept.
    """
    merged: dict[str, set[str]] = defaultdict(set)
    for key, ids in carried.items():
        merged[key] |= set(ids)
    for key, ids in seen.items():
        merged[key] |= ids
    unregistered = {k: sorted(ids - registered)[:MAX_IDS_PER_HOUR] for k, ids in merged.items()}
    requested, pending = set(requested), set(pending)
    now = {k: v for k, v in unregistered.items() if v and k in requested}
    later = {k: v for k, v in unregistered.items() if v and k in pending}
    return now, later


def run_config(ids: list[str]) -> dict:
    """The ``raw_metrics`` config that makes a sync query these ids."""
    return {"ops": {"raw_metrics": {"config": {"unregistered_instance_ids": sorted(ids)}}}}
