"""``nephos dynamodb`` for the load test, with moto's Query made partition-local.

moto 5.1.22 answers every Query by sorting *all items of the table* and then filtering on
the hash key (``Table.query`` -> ``Table.all_items``), so one Query costs O(N log N) in the
table's size: ~40 ms at 10 k items, seconds at the 144 k items of a 100-instance day. The
pipeline issues one Query per instance per window, so on moto the cost of an hourly sync
grows with the whole history rather than with the window. Real DynamoDB reads only the
partition. This launcher patches moto (in this process only) so a base-table Query with a
hash key sorts only that partition's items, which is what the result is filtered to anyway;
index queries, Scans and everything else are untouched. The load test measures the
pipeline, not moto's sort.

Usage: ``python -m nephos_pipeline_tests.reliability.fast_moto [nephos dynamodb arguments]``.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

from moto.dynamodb.models.table import Table

_local = threading.local()
_all_items = Table.all_items
_query = Table.query


def _partition_items(self: Table) -> list:
    part = getattr(_local, "partition", None)
    if part is not None and part[0] is self:
        bucket = self.items.get(part[1], {})
        items = list(bucket.values()) if isinstance(bucket, dict) else [bucket]
        return sorted(items, key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)
    return _all_items(self)


def _partition_query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
    index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
    if index_name or hash_key is None:
        return _query(self, hash_key, *args, **kwargs)
    _local.partition = (self, hash_key)
    try:
        return _query(self, hash_key, *args, **kwargs)
    finally:
        _local.partition = None


def apply() -> None:
    Table.all_items = _partition_items  # type: ignore[method-assign]
    Table.query = _partition_query  # type: ignore[method-assign]


if __name__ == "__main__":
    apply()
    from nephos_pipeline.cli.main import main

    sys.exit(main(["dynamodb", *sys.argv[1:]]))
