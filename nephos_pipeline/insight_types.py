"""The insight-type registry: every fact about an insight type declared once.

The store (how long an insight stays active), the asset checks, the jobs, the freshness
policies, the API (``type`` enum, ``/insights/<plural>`` routes), the OpenAPI document,
the insights page (tabs, icons), the counts sentence and the SQL (which types the API
lists and the validity check accepts, as bound JSON parameters) all read this table. Adding
an insight type is one ``InsightType(...)`` line here plus its analysis, its asset and its
narrative (docs/extending.md, "Add an insight type").

Pure Python: no Dagster, no SQL, no Starlette, so every layer may import it.
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import timedelta

from nephos_pipeline.registry import registered_in


@dataclass(frozen=True)
class InsightType:
    """One value of AI_INSIGHTS.INSIGHT_TYPE and everything derived from it."""

    name: str  # AI_INSIGHTS.INSIGHT_TYPE and Finding.insight_type
    plural: str  # "anomalies": the API route /insights/<plural> and the counts sentence
    lifetime: timedelta  # active for this long after the finding was last seen
    asset: str  # the Dagster asset that writes the rows
    job: str  # the job (and so the schedule) that runs the asset
    partitions: str  # the Partitions attribute the asset is partitioned by
    tab: str | None = None  # the page tab's label; None: not listed by the API or the page
    icon: str = "*"  # shown on the page's cards
    # (warn, fail) for the asset's freshness policy: about two and three missed ticks
    freshness: tuple[timedelta, timedelta] | None = None
    then: tuple[str, ...] = ()  # assets that follow it in the same job (its side effects)

    @property
    def listed(self) -> bool:
        """Served by /insights, counted by /insights/summary and given a page tab."""
        return self.tab is not None

    @property
    def route(self) -> str:
        return f"/insights/{self.plural}"


_H = timedelta(hours=1)
# Declaration order is the order of the API's enum and the page's tabs.
INSIGHT_TYPES: dict[str, InsightType] = {t.name: t for t in (
    InsightType("pattern", "patterns", timedelta(days=3), "pattern_insights", "pattern_job", "hourly_open",
                tab="Patterns", icon="\u2197", freshness=(2 * _H + timedelta(minutes=15), 3 * _H + timedelta(minutes=15))),
    InsightType("anomaly", "anomalies", timedelta(days=1), "anomaly_insights", "anomaly_job", "quarter_hourly",
                tab="Anomalies", icon="\u26a0", freshness=(timedelta(minutes=35), timedelta(minutes=50)),
                then=("batch_alerts",)),
    InsightType("prediction", "predictions", timedelta(days=7), "prediction_insights", "prediction_job", "six_hourly",
                tab="Predictions", icon="\u25f7", freshness=(12 * _H + timedelta(minutes=30), 18 * _H + timedelta(minutes=30))),
    # The executive summary is stored as an insight but not listed: /insights/summary serves it.
    InsightType("summary", "summaries", timedelta(days=1), "insights_summary", "prediction_job", "six_hourly",
                freshness=(12 * _H + timedelta(minutes=30), 18 * _H + timedelta(minutes=30)),
                then=("insights_archive",)),
)}


def jobs() -> dict[str, list[str]]:
    """Job name -> the assets it materializes (each type's asset, then its side effects)."""
    selections: dict[str, list[str]] = {}
    for t in INSIGHT_TYPES.values():
        selections.setdefault(t.job, []).extend([t.asset, *t.then])
    return selections


def get(name: str) -> InsightType:
    """The registry entry for ``name``; a KeyError names a type that was never registered."""
    return INSIGHT_TYPES[name]


def names() -> tuple[str, ...]:
    return tuple(INSIGHT_TYPES)


def listed() -> tuple[InsightType, ...]:
    return tuple(t for t in INSIGHT_TYPES.values() if t.listed)


def listed_names() -> tuple[str, ...]:
    return tuple(t.name for t in listed())


def by_urgency() -> tuple[InsightType, ...]:
    """Listed types, shortest-lived first: the order the counts sentence names them in."""
    return tuple(sorted(listed(), key=lambda t: t.lifetime))


def sql_param(only_listed: bool = False) -> str:
    """Type names as a JSON array for the ``%(listed_types)s``/``%(insight_types)s`` binds."""
    return json.dumps(list(listed_names() if only_listed else names()))


def registered(insight_type: InsightType) -> AbstractContextManager[InsightType]:
    """Add ``insight_type`` for the duration of a block (tests and worked examples)."""
    return registered_in(INSIGHT_TYPES, insight_type.name, insight_type)
