"""A Query on the local DynamoDB server reads its partition, not the whole table.

Why: moto's ``Table.query`` gathers (and sorts) every item of the table on every call
(``Table.all_items``) before it keeps the queried hash key's items. The extract reads
Metrics with one Query per instance and hour, so a 10-day backfill of 8 hosts (1,920
Queries over 115k items) spent most of its time in the server walking the table, and a
1,000-host hourly sync cost the server O(hosts^2). DynamoDB answers a Query from the
partition, at a cost of the items it returns; this brings the local server closer to
that.

How: for a Query on the base table (no index) with a hash key, ``all_items`` returns that
partition's items for the duration of the call, in the calling thread only; moto then
sorts, compares the range key, filters, projects and pages them exactly as before, so the
answer is the same items in the same pages (tested against moto's own Query). Everything
else (indexes, Scan, other threads) sees moto unchanged. The pipeline never sees any of
this: it only changes how fast the local server answers.
"""

from __future__ import annotations

import functools
import inspect
import threading
from typing import Any

from moto.dynamodb.models.table import Table

_partition = threading.local()


def install() -> None:
    """Wrap ``Table.query`` and ``Table.all_items`` (call once; ``moto_state.install`` does)."""
    query, all_items = Table.query, Table.all_items
    signature = inspect.signature(query)

    @functools.wraps(all_items)
    def partition_or_all_items(self: Table) -> Any:
        table, items = getattr(_partition, "current", (None, None))
        return list(items) if table is self else all_items(self)

    @functools.wraps(query)
    def partition_query(self: Table, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs).arguments
        hash_key = bound.get("hash_key")
        if bound.get("index_name") or not self.range_key_attr or hash_key is None:
            return query(self, *args, **kwargs)
        _partition.current = (self, self.items.get(hash_key, {}).values())
        try:
            return query(self, *args, **kwargs)
        finally:
            _partition.current = (None, None)

    partition_query.reads_partition = True  # type: ignore[attr-defined]
    Table.all_items = partition_or_all_items
    Table.query = partition_query
