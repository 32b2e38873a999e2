"""Direct access to moto's in-memory DynamoDB state: capture, load and change tracking.

Saving a local DynamoDB by Scan and restoring it by BatchWriteItem pushes every item
through HTTP and JSON twice (minutes for ~100k items on 2 cores), and a Scan racing a
write inside moto raises ``dictionary changed size during iteration``. The server runs in
our process, so we read and fill moto's tables directly instead:

* one lock (``LOCK``) serialises moto's DynamoDB request handling with our captures, so a
  capture sees each table between two requests, never in the middle of one;
* moto's three item-writing methods are wrapped to record which item keys changed per
  watched table, so an autosave writes only what changed since the last save.

Everything that knows moto's internals (moto 5.1, pinned) lives in this module.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler

from nephos_pipeline.dynamodb import moto_query

# Reentrant: a request holding it may call other wrapped methods (update_item -> put_item).
LOCK = threading.RLock()
Key = tuple[Any, Any]  # (hash DynamoType, range DynamoType | None)


_watchers: set[Any] = set()  # the open ChangeLogs
_installed = False


def install() -> None:
    """Wrap moto's request handling and item writes (idempotent, process-wide)."""
    global _installed
    with LOCK:
        if _installed:
            return
        DynamoHandler.call_action = _locked(DynamoHandler.call_action)
        Table.put_item = _tracking_table_write(Table.put_item, lambda table, attrs, *a, **k: _key_of(table, attrs))
        Table.delete_item = _tracking_table_write(Table.delete_item, lambda table, h, r, *a, **k: (h, r))
        DynamoDBBackend.update_item = _tracking_update(DynamoDBBackend.update_item)
        moto_query.install()
        _installed = True


def _locked(method: Any) -> Any:
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with LOCK:
            return method(*args, **kwargs)
    return wrapper


def _key_of(table: Table, attrs: dict[str, Any]) -> Key | None:
    try:
        hash_value = DynamoType(attrs[table.hash_key_attr])
        range_value = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
    except (KeyError, TypeError, IndexError):
        return None  # moto rejects such an item itself
    return hash_value, range_value


def _mark(account_id: str, region: str, table_name: str, key: Key | None) -> None:
    for log in _watchers:
        if log.account_id == account_id and log.region == region:
            log.mark(table_name, key)


def _tracking_table_write(method: Any, key_of: Any) -> Any:
    @functools.wraps(method)
    def wrapper(self: Table, *args: Any, **kwargs: Any) -> Any:
        with LOCK:
            result = method(self, *args, **kwargs)
            _mark(self.account_id, self.region_name, self.name, key_of(self, *args, **kwargs))
            return result
    return wrapper


def _tracking_update(method: Any) -> Any:
    @functools.wraps(method)
    def wrapper(self: DynamoDBBackend, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        with LOCK:
            item = method(self, table_name, key, *args, **kwargs)  # updates the item in place
            _mark(self.account_id, self.region_name, table_name, (item.hash_key, item.range_key))
            return item
    return wrapper


# ---- plain data <-> moto items ---------------------------------------------------------

def _plain(value: DynamoType) -> dict[str, Any]:
    """moto's attribute value as plain DynamoDB-JSON (binaries stay base64 text, as moto keeps them)."""
    if value.type == "L":
        return {"L": [_plain(v) for v in value.value]}
    if value.type == "M":
        return {"M": {k: _plain(v) for k, v in value.value.items()}}
    return {value.type: value.value}


def plain_item(item: Item) -> dict[str, Any]:
    return {name: _plain(value) for name, value in item.attrs.items()}


def _value(av: dict[str, Any]) -> DynamoType:
    """``DynamoType(av)`` without its constructor's generic path: ~2x faster for a restore."""
    ((kind, value),) = av.items()
    out = object.__new__(DynamoType)
    if kind == "L":
        value = [_value(v) for v in value]
    elif kind == "M":
        value = {k: _value(v) for k, v in value.items()}
    out.type, out.value = kind, value
    return out


def _item(table: Table, attrs: dict[str, Any]) -> tuple[Key, Item]:
    item = object.__new__(Item)
    # dict.update skips LimitedSizeDict's per-attribute size recount (the items were valid when saved).
    item.attrs = LimitedSizeDict({name: _value(value) for name, value in attrs.items()})
    item.hash_key = item.attrs[table.hash_key_attr]
    item.range_key = item.attrs[table.range_key_attr] if table.range_key_attr else None
    return (item.hash_key, item.range_key), item


def backend(account_id: str | None, region: str) -> DynamoDBBackend:
    return dynamodb_backends[account_id or DEFAULT_ACCOUNT_ID][region]


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """Creating ~10 objects per item triggers the cyclic GC over and over; none are cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# ---- capture and load -------------------------------------------------------------------

@dataclass
class TableCapture:
    """What one table looked like at capture time: all items, or the changes since last time."""

    name: str
    description: dict[str, Any]
    item_count: int
    full: bool
    puts: list[dict[str, Any]] = field(default_factory=list)
    deletes: list[dict[str, Any]] = field(default_factory=list)  # key attributes of removed items


class ChangeLog:
    """The item keys written to one account/region's tables since the last capture.

    One per persistent server, so two servers in one process never take each other's
    changes. ``close()`` it when the server stops.
    """

    def __init__(self, account_id: str | None, region: str) -> None:
        install()
        self.account_id = account_id or DEFAULT_ACCOUNT_ID
        self.region = region
        self.keys: dict[str, set[Key] | None] = {}  # None: capture the table whole
        # A table replaced as a whole object (moto restores a copy after a failed
        # transaction) has a new identity and is captured whole.
        self.identity: dict[str, int] = {}
        with LOCK:
            _watchers.add(self)

    def close(self) -> None:
        with LOCK:
            _watchers.discard(self)

    def mark(self, table_name: str, key: Key | None) -> None:
        keys = self.keys.setdefault(table_name, set())
        if keys is None:
            return  # the whole table is due anyway
        if key is None:
            self.keys[table_name] = None
        else:
            keys.add(key)

    def mark_all(self) -> None:
        """After a failed write of a capture: the next capture takes every table whole."""
        with LOCK:
            self.identity = {}

    def forget(self) -> None:
        """The tables as they are now are what is on disk (right after a restore)."""
        with LOCK:
            self.keys = {}
            self.identity = {name: id(t) for name, t in backend(self.account_id, self.region).tables.items()}

    def capture(self, whole: Callable[[str], bool]) -> list[TableCapture]:
        """Every table: whole if ``whole(name)`` (or replaced, or never captured), else its changes.

        Runs under ``LOCK``, so no request changes a table while it is read; how long it
        holds the lock is proportional to what changed, plus the tables taken whole.
        """
        with LOCK, _no_gc():
            out = []
            for name, table in backend(self.account_id, self.region).tables.items():
                keys = self.keys.get(name, set())
                full = keys is None or whole(name) or self.identity.get(name) != id(table)
                self.identity[name] = id(table)
                cap = TableCapture(name, table.describe()["TableDescription"], len(table), full=full)
                if full:
                    cap.puts = [plain_item(item) for item in _all_items(table)]
                else:
                    for hash_key, range_key in keys:
                        item = table.get_item(hash_key, range_key)
                        if item is not None:
                            cap.puts.append(plain_item(item))
                        else:
                            cap.deletes.append(_key_attrs(table, hash_key, range_key))
                out.append(cap)
            self.keys = {}
        return out


def _all_items(table: Table) -> Iterable[Item]:
    for value in table.items.values():
        if table.range_key_attr:
            yield from value.values()
        else:
            yield value


def _key_attrs(table: Table, hash_key: DynamoType, range_key: DynamoType | None) -> dict[str, Any]:
    attrs = {table.hash_key_attr: _plain(hash_key)}
    if table.range_key_attr and range_key is not None:
        attrs[table.range_key_attr] = _plain(range_key)
    return attrs


def load_items(account_id: str | None, region: str, table_name: str,
               puts: Iterable[dict[str, Any]], deletes: Iterable[dict[str, Any]] = ()) -> None:
    """Put plain items straight into a table, then remove deleted keys (no stream records)."""
    with LOCK, _no_gc():
        table = backend(account_id, region).get_table(table_name)
        for attrs in puts:
            (hash_key, range_key), item = _item(table, attrs)
            if range_key is not None:
                table.items[hash_key][range_key] = item
            else:
                table.items[hash_key] = item
        for attrs in deletes:
            (hash_key, range_key), _ = _item(table, attrs)
            if range_key is not None:
                table.items.get(hash_key, {}).pop(range_key, None)
                if hash_key in table.items and not table.items[hash_key]:
                    del table.items[hash_key]
            else:
                table.items.pop(hash_key, None)
