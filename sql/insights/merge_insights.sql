-- New findings are inserted with their narrative; a finding seen again moves
-- LAST_SEEN_AT/EXPIRES_AT forward and refreshes its numbers and its words (the writer
-- stages words that are true for the new evidence: the stored LLM text when every number
-- it quotes is still in the evidence, else the deterministic narrative of the new
-- evidence), so a title never describes evidence it no longer has. Matching on FINGERPRINT and
-- updating only when the observation is newer makes every re-run a no-op (and, as lifetimes
-- are fixed per type, a newer LAST_SEEN_AT always means a later EXPIRES_AT).
MERGE INTO AI_INSIGHTS t
USING (
    SELECT STG_INSIGHTS.*, PARSE_JSON(EVIDENCE) AS EVIDENCE_JSON, PARSE_JSON(AFFECTED_INSTANCES)::ARRAY AS AFFECTED_JSON
    FROM STG_INSIGHTS
) s
ON t.FINGERPRINT = s.FINGERPRINT
WHEN MATCHED AND s.LAST_SEEN_AT > t.LAST_SEEN_AT THEN UPDATE SET
    LAST_SEEN_AT = s.LAST_SEEN_AT,
    EXPIRES_AT = s.EXPIRES_AT,
    WINDOW_END = s.WINDOW_END,
    SEVERITY = s.SEVERITY,
    CONFIDENCE_SCORE = s.CONFIDENCE_SCORE,
    EVIDENCE = s.EVIDENCE_JSON,
    TITLE = s.TITLE,
    DESCRIPTION = s.DESCRIPTION,
    RECOMMENDATIONS = s.RECOMMENDATIONS,
    MODEL = s.MODEL,
    AI_GENERATED = s.AI_GENERATED
WHEN NOT MATCHED THEN INSERT (
    INSIGHT_ID, INSIGHT_TYPE, FINGERPRINT, SEVERITY, TITLE, DESCRIPTION, RECOMMENDATIONS, CONFIDENCE_SCORE,
    AFFECTED_INSTANCES, METRIC, WINDOW_START, WINDOW_END, EVIDENCE, MODEL, AI_GENERATED, PROMPT_TOKENS,
    COMPLETION_TOKENS, CREATED_AT, LAST_SEEN_AT, EXPIRES_AT
) VALUES (
    s.INSIGHT_ID, s.INSIGHT_TYPE, s.FINGERPRINT, s.SEVERITY, s.TITLE, s.DESCRIPTION, s.RECOMMENDATIONS,
    s.CONFIDENCE_SCORE, s.AFFECTED_JSON, s.METRIC, s.WINDOW_START, s.WINDOW_END,
    s.EVIDENCE_JSON, s.MODEL, s.AI_GENERATED, s.PROMPT_TOKENS, s.COMPLETION_TOKENS, s.CREATED_AT,
    s.LAST_SEEN_AT, s.EXPIRES_AT
)
