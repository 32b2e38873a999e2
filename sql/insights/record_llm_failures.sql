-- Record failed narrations (one row per finding the model could not narrate).
-- Parameters: rows (JSON array of {fingerprint, model, reason}), failed_at (TIMESTAMP_NTZ, UTC).
INSERT INTO LLM_FAILURES (FINGERPRINT, MODEL, REASON, FAILED_AT)
SELECT f.value:fingerprint::string, f.value:model::string, f.value:reason::string, %(failed_at)s::TIMESTAMP_NTZ
FROM TABLE(FLATTEN(input => PARSE_JSON(%(rows)s))) f
