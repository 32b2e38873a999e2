"""Keep library chatter out of the ``nephos`` commands' output (not our warnings, not errors).

Dagster marks APIs we use knowingly as beta/preview (``backfill_policy``), and the local
warehouse's libraries warn about their own internals (silenced where the warehouse opens,
``warehouse/fakesnow_compat.py``). None of it is actionable for a user of ``nephos demo``
or ``nephos backfill``; real problems are raised as errors or logged, not warned.
"""

from __future__ import annotations

import logging
import warnings


def quiet_libraries() -> None:
    import dagster as dg

    for category in (dg.BetaWarning, dg.PreviewWarning, DeprecationWarning):
        warnings.filterwarnings("ignore", category=category)
    # Dagster logs an instance-telemetry line and "no dagster.yaml" hints at INFO/WARNING.
    logging.getLogger("dagster").setLevel(logging.ERROR)
