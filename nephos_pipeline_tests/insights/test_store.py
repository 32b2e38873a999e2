"""The AI_INSIGHTS lifecycle on the embedded warehouse: narrate once, update by fingerprint."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from nephos_pipeline.insights.findings import Finding
from nephos_pipeline.insights.llm.local import LocalNarrator
from nephos_pipeline.insights.store import archive_expired, save_findings

T0 = datetime(2026, 3, 1, 12, 0)


class CountingNarrator(LocalNarrator):
    calls: int = 0

    def narrate(self, findings, warehouse=None):
        object.__setattr__(self, "calls", self.calls + 1)
        return super().narrate(findings, warehouse)


def finding(fp="fp-1", at=T0, z=4.2) -> Finding:
    return Finding(
        kind="anomaly", insight_type="anomaly", fingerprint=fp, severity="high", confidence=0.9,
        affected_instances=("i-1", "it's; DROP TABLE METRICS; --"), subject="prod-web-01", metric="memory_usage",
        window_start=at - timedelta(minutes=15), window_end=at,
        evidence={"value": 95.0, "baseline_center": 48.0, "baseline_spread": 3.0, "z": z, "series": [["x", 1.0]]},
    )


def rows(warehouse):
    df = warehouse.query("SELECT * FROM AI_INSIGHTS ORDER BY FINGERPRINT")
    return df.astype(str)


def test_new_finding_is_narrated_and_stored_with_evidence(warehouse):
    narrator = CountingNarrator()
    result = save_findings(warehouse, narrator, [finding()])
    assert narrator.calls == 1 and len(result.created) == 1
    df = warehouse.query(
        "SELECT INSIGHT_TYPE, SEVERITY, TITLE, EVIDENCE:z::FLOAT AS Z, AFFECTED_INSTANCES[1]::VARCHAR AS I2, "
        "CREATED_AT, EXPIRES_AT, AI_GENERATED FROM AI_INSIGHTS"
    )
    assert df.z[0] == 4.2 and df.i2[0] == "it's; DROP TABLE METRICS; --"
    assert df.created_at[0] == T0 and df.expires_at[0] == T0 + timedelta(days=1)
    assert not df.ai_generated[0] and df.title[0]


def test_repeated_finding_updates_last_seen_and_never_calls_the_llm_again(warehouse):
    narrator = CountingNarrator()
    save_findings(warehouse, narrator, [finding()])
    later = replace(finding(at=T0 + timedelta(hours=1), z=5.0), first_seen_at=T0)
    result = save_findings(warehouse, narrator, [later])
    assert narrator.calls == 1 and result.seen_again == 1 and result.llm_calls == 0
    df = warehouse.query("SELECT CREATED_AT, LAST_SEEN_AT, EXPIRES_AT, EVIDENCE:z::FLOAT AS Z FROM AI_INSIGHTS")
    assert df.last_seen_at[0] == T0 + timedelta(hours=1) and df.z[0] == 5.0
    assert df.created_at[0] == T0 and df.expires_at[0] == T0 + timedelta(hours=25)


def test_rerun_and_older_observations_change_nothing(warehouse):
    narrator = CountingNarrator()
    save_findings(warehouse, narrator, [finding(at=T0 + timedelta(hours=2))])
    before = rows(warehouse)
    save_findings(warehouse, narrator, [finding(at=T0 + timedelta(hours=2))])  # same partition again
    save_findings(warehouse, narrator, [finding(at=T0, z=9.9)])  # an older partition re-run
    assert rows(warehouse).equals(before)


def test_expired_insights_are_archived(warehouse):
    save_findings(warehouse, LocalNarrator(), [finding("a"), finding("b", at=T0 + timedelta(days=3))])
    moved = archive_expired(warehouse, T0 + timedelta(days=2))
    assert moved == 1
    assert warehouse.query("SELECT FINGERPRINT FROM AI_INSIGHTS").fingerprint.tolist() == ["b"]
    assert warehouse.query("SELECT FINGERPRINT FROM AI_INSIGHTS_ARCHIVE").fingerprint.tolist() == ["a"]


def test_a_range_run_creates_at_the_first_observation_like_window_by_window_runs(warehouse, tmp_path):
    from nephos_pipeline.warehouse import LocalWarehouse
    from nephos_pipeline.warehouse.schema import ensure_schema

    hours = [finding(at=T0 + timedelta(hours=h), z=4 + h / 10) for h in range(4)]
    save_findings(warehouse, LocalNarrator(), hours)  # one backfill run over 4 windows
    other = LocalWarehouse(path=str(tmp_path / "one-by-one"))
    ensure_schema(other)
    for f in hours:
        save_findings(other, LocalNarrator(), [f])
    assert rows(warehouse).equals(rows(other))
    assert warehouse.query("SELECT CREATED_AT FROM AI_INSIGHTS").created_at[0] == T0


class FixedLLM(LocalNarrator):
    """An 'LLM' whose words quote z = 4.2 (validated against the evidence it was given)."""

    def narrate(self, findings, warehouse=None):
        from nephos_pipeline.insights.findings import Narrative

        return [Narrative("Memory 4.2σ above normal on prod-web-01", "Memory reached 95% (4.2σ).",
                          "1. Check memory 2. Look for leaks 3. Add an alert", model="m", ai_generated=True)
                for _ in findings]


def test_words_are_refreshed_when_the_evidence_changes(warehouse):
    """Issue #12: titles no longer stay frozen at first sighting while the evidence moves on."""
    save_findings(warehouse, LocalNarrator(), [finding()])
    assert rows(warehouse).title[0] == "Memory 4.2σ above normal on prod-web-01"
    save_findings(warehouse, LocalNarrator(), [replace(finding(at=T0 + timedelta(hours=1), z=6.5), first_seen_at=T0)])
    df = rows(warehouse)
    assert df.title[0] == "Memory 6.5σ above normal on prod-web-01" and "6.5σ" in df.description[0]


def test_llm_words_stay_while_their_numbers_hold_then_give_way(warehouse):
    save_findings(warehouse, FixedLLM(), [finding()])
    same = replace(finding(at=T0 + timedelta(minutes=15)), first_seen_at=T0)  # same numbers, later sighting
    save_findings(warehouse, FixedLLM(), [same])
    df = warehouse.query("SELECT TITLE, AI_GENERATED, MODEL FROM AI_INSIGHTS")
    assert df.ai_generated[0] and df.model[0] == "m" and "4.2σ" in df.title[0]
    moved = replace(finding(at=T0 + timedelta(minutes=30), z=7.9), first_seen_at=T0)  # 4.2 no longer in evidence
    save_findings(warehouse, FixedLLM(), [moved])
    df = warehouse.query("SELECT TITLE, AI_GENERATED, MODEL FROM AI_INSIGHTS")
    assert not df.ai_generated[0] and df.model[0] is None and df.title[0] == "Memory 7.9σ above normal on prod-web-01"
