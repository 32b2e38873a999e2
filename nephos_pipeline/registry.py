"""The one helper the declaration tables (metric catalogue, insight types) share.

They are plain dicts of frozen dataclasses; a test or a worked example adds an entry for
the duration of a block and the table is exactly as before afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")


@contextmanager
def registered_in(table: MutableMapping[str, T], name: str, entry: T) -> Iterator[T]:
    """``table[name] = entry`` inside the block; the previous entry (or none) restored after."""
    missing = object()
    previous = table.get(name, missing)
    table[name] = entry
    try:
        yield entry
    finally:
        if previous is missing:
            table.pop(name, None)
        else:
            table[name] = previous  # type: ignore[assignment]
