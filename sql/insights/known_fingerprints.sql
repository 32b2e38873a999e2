-- Which of this run's findings already have an insight (they are updated, not narrated again).
SELECT t.FINGERPRINT
FROM AI_INSIGHTS t
JOIN STG_FINGERPRINTS s ON s.FINGERPRINT = t.FINGERPRINT
