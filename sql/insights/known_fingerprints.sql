-- Which of this run's findings already have an insight (they are updated, not narrated
-- again), with their stored words, so the writer can tell whether those words still hold
-- for the new evidence.
SELECT t.FINGERPRINT, t.TITLE, t.DESCRIPTION, t.RECOMMENDATIONS, t.AI_GENERATED, t.MODEL
FROM AI_INSIGHTS t
JOIN STG_FINGERPRINTS s ON s.FINGERPRINT = t.FINGERPRINT
