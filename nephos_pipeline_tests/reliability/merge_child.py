"""Child process for the kill test: run one hourly sync, then freeze inside a transaction.

Usage: ``python -m nephos_pipeline_tests.reliability.merge_child '<json>'`` with keys
``warehouse`` (path), ``endpoint``, ``tables`` ([metrics, alerts, instances]),
``selection`` (asset names), ``partition``, ``marker`` (SQL that opens the transaction to freeze in) and ``ready``
(a file to create once frozen). The hook is a monkeypatch applied in this process only:
after the transaction's first statement (the MERGE) has run, uncommitted, the child
writes ``ready`` and sleeps until the parent test SIGKILLs it. No production code has a
hook for this.
"""

from __future__ import annotations

import json
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def main(argv: list[str]) -> int:
    args = json.loads(argv[1])
    from nephos_pipeline.settings import TableNames
    from nephos_pipeline.warehouse import LocalWarehouse
    from nephos_pipeline.warehouse.base import Warehouse
    from nephos_pipeline_tests.helpers import dynamodb_resource
    from nephos_pipeline_tests.reliability.common import materialize

    ready, marker = Path(args["ready"]), args["marker"]
    original = Warehouse.transaction

    class Freezing:
        def __init__(self, cur: Any) -> None:
            self._cur = cur

        def execute(self, sql: str, *params: Any) -> Any:
            out = self._cur.execute(sql, *params)
            if marker in sql:
                ready.write_text(str(os.getpid()))
                time.sleep(600)  # the parent kills us here, inside the open transaction
            return out

        def __getattr__(self, name: str) -> Any:
            return getattr(self._cur, name)

    @contextmanager
    def transaction(self: Warehouse, conn: Any):  # noqa: ANN202
        with original(self, conn) as cur:
            yield Freezing(cur)

    Warehouse.transaction = transaction  # type: ignore[method-assign]
    resources = {"warehouse": LocalWarehouse(path=args["warehouse"]),
                 "dynamodb": dynamodb_resource(args["endpoint"], TableNames(*args["tables"]))}
    materialize(resources, args["selection"], args["partition"])
    return 3  # not reached when the parent kills us; 3 tells the parent the hook never fired


if __name__ == "__main__":
    sys.exit(main(sys.argv))
