"""The local DynamoDB server (moto) with a Query that reads only the queried partition.

Why: moto's ``Table.query`` collects and sorts *every* item of the table on every call
(``Table.all_items``), so the 1,000 Queries of a 1,000-host hourly sync cost the server
O(hosts^2): more than 25 minutes of its CPU for one hour of data. DynamoDB answers a
Query from the partition, at a cost of the items it returns. For ``bench_scale``'s
1,000-host sync, whose target excludes the server's own time, the server process wraps
``Table.query`` so that, for a base-table Query, ``all_items`` yields that hash key's
items only; moto then sorts, filters and pages them exactly as before, so the answers
are the same items in the same pages (the benchmark checks the loaded row count). Only
this benchmark's server process is patched; the pipeline and every test use moto as is.
"""

from __future__ import annotations

import inspect
import threading

SERVER = (
    "import sys\n"
    "from benchmarks.partition_query import install\n"
    "install()\n"
    "from nephos_pipeline.dynamodb.local_server import LocalDynamoDB\n"
    "s = LocalDynamoDB(port={port}, host='127.0.0.1', region='us-east-1').start()\n"
    "print(s.endpoint_url, flush=True)\n"
    "sys.stdin.read()\n"
    "s.stop()\n"
)


def install() -> None:
    """Wrap moto's ``Table.query`` (in this process) to read the queried partition only."""
    from moto.dynamodb.models.table import Table

    original = Table.query
    signature = inspect.signature(original)
    lock = threading.Lock()  # all_items is swapped on the table object for one call at a time

    def query(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        bound = signature.bind(self, *args, **kwargs).arguments
        if bound.get("index_name") or not self.range_key_attr or bound.get("hash_key") is None:
            return original(self, *args, **kwargs)
        partition = self.items.get(bound["hash_key"], {})
        with lock:
            self.all_items = lambda: list(partition.values())
            try:
                return original(self, *args, **kwargs)
            finally:
                del self.all_items

    Table.query = query
