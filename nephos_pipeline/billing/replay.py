"""Replay a day of schedules and the change sensor on measured job profiles.

Each schedule launches its job at its cron times; a sensor is a ``Launch`` with an offset
(the change sensor's sync of a closed hour, ``offset_s`` after it: before
``orchestration/coverage.py`` it duplicated the schedule's sync every hour; now it syncs
only late data, which a replayed day has none of). Runs go
through one queue, one at a time (the local instance's run coordinator; in production a
Dagster pool of 1 for the warehouse jobs), runs launched together in order of their
``dagster/priority``. Each run starts ``run_start_s`` after it is dequeued (a run worker
process loading the code), and sends its recorded statements at their recorded offsets.
The warehouse-bound statements become busy intervals, and ``rules.resumes`` bills them.
Snowflake checks for idle warehouses every ``poll_s`` at a phase we cannot know, so the
day is billed at ``PHASES`` evenly spaced phases and the mean is reported (``resumes``,
drawn in the timeline, are those of the first phase).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from nephos_pipeline.billing import rules
from nephos_pipeline.billing.statements import JobProfile

DAY_S = 86_400
PHASES = 6


@dataclass(frozen=True)
class Launch:
    """A schedule (or the sensor) launching ``job`` at ``cron`` (minute hour * * *)."""

    name: str
    job: str
    cron: str
    priority: int = 0
    offset_s: float = 0.0  # seconds after the cron minute (the sensor's delay)


@dataclass
class Run:
    name: str
    job: str
    launched_s: float
    start_s: float
    end_s: float


@dataclass
class DayReplay:
    runs: list[Run] = field(default_factory=list)
    intervals: list[tuple[float, float, str]] = field(default_factory=list)
    resumes: list[rules.Resume] = field(default_factory=list)
    billed_by_phase: list[float] = field(default_factory=list)
    resumes_by_phase: list[int] = field(default_factory=list)

    @property
    def billed_s(self) -> float:
        """Seconds billed, the mean over the suspension poll's phases."""
        if self.billed_by_phase:
            return sum(self.billed_by_phase) / len(self.billed_by_phase)
        return sum(r.billed_s for r in self.resumes)

    @property
    def resume_count(self) -> float:
        """Resumes a day, the mean over the poll's phases."""
        if self.resumes_by_phase:
            return sum(self.resumes_by_phase) / len(self.resumes_by_phase)
        return float(len(self.resumes))

    @property
    def busy_s(self) -> float:
        return sum(b - a for a, b, _ in self.intervals)

    def credits(self, credits_per_hour: float = rules.XSMALL_CREDITS_PER_HOUR) -> float:
        return rules.credits(self.billed_s, credits_per_hour)


def cron_minutes(cron: str) -> list[int]:
    """Minutes of the day a ``minute hour * * *`` cron fires at (``*``, ``*/n``, lists)."""
    fields = cron.split()
    if len(fields) != 5 or fields[2:] != ["*", "*", "*"]:
        raise ValueError(f"only 'minute hour * * *' crons are replayed, got {cron!r}")
    minutes, hours = _expand(fields[0], 60), _expand(fields[1], 24)
    return sorted(h * 60 + m for h in hours for m in minutes)


def _expand(spec: str, size: int) -> list[int]:
    out: set[int] = set()
    for part in spec.split(","):
        if part == "*":
            out.update(range(size))
        elif part.startswith("*/"):
            out.update(range(0, size, int(part[2:])))
        else:
            value = int(part)
            if not 0 <= value < size:
                raise ValueError(f"cron field {part!r} out of range")
            out.add(value)
    return sorted(out)


def replay_day(launches: Sequence[Launch], profiles: Mapping[str, JobProfile], run_start_s: float = 5.0,
               auto_suspend_s: float = rules.DEFAULT_AUTO_SUSPEND_S, poll_s: float = 0.0) -> DayReplay:
    """One UTC day of runs, busy intervals and billed resumes. ``profiles`` is keyed by job;
    ``poll_s`` is Snowflake's suspension check (0: suspend exactly ``auto_suspend_s`` after)."""
    events = sorted(((60.0 * m + launch.offset_s, -launch.priority, i, launch)
                     for i, launch in enumerate(launches) for m in cron_minutes(launch.cron)),
                    key=lambda e: e[:3])
    day = DayReplay()
    free_at = 0.0
    for at, _, _, launch in events:
        profile = profiles[launch.job]
        start = max(at, free_at) + run_start_s
        end = start + profile.wall_s
        day.runs.append(Run(launch.name, launch.job, at, start, end))
        day.intervals += [(start + s.offset_s, start + s.offset_s + s.seconds, launch.job)
                          for s in profile.warehouse_statements]
        free_at = end
    busy = [(a, b) for a, b, _ in day.intervals]
    for k in range(PHASES if poll_s > 0 else 1):
        got = rules.resumes(busy, auto_suspend_s, poll_s=poll_s, phase_s=k * poll_s / PHASES)
        day.resumes = day.resumes or got
        day.billed_by_phase.append(sum(r.billed_s for r in got))
        day.resumes_by_phase.append(len(got))
    return day
