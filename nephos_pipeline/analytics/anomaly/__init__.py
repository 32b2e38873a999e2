"""Anomaly detection shared by the ``anomaly_insights`` asset and ``benchmarks/detection.py``.

``detector.score_ticks`` runs ``sql/analytics/anomaly_scores.sql`` (every baseline, every
tick, set-based), ``detector.flag`` applies one ``DetectorConfig``, and
``incidents.advance`` turns flags into insight lifecycle events (created / updated).
"""

from nephos_pipeline.analytics.anomaly.detector import (
    COMPARED,
    DEFAULT,
    SEED_RULE,
    DetectorConfig,
    flag,
    score_ticks,
    severity_for,
)
from nephos_pipeline.analytics.anomaly.incidents import QUIET_PERIOD, Incident, IncidentEvent, advance
from nephos_pipeline.analytics.anomaly.precision import confidence_for

__all__ = [
    "COMPARED",
    "DEFAULT",
    "QUIET_PERIOD",
    "SEED_RULE",
    "DetectorConfig",
    "Incident",
    "IncidentEvent",
    "advance",
    "confidence_for",
    "flag",
    "score_ticks",
    "severity_for",
]
