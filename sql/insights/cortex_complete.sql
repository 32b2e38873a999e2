-- Narrate a batch of findings with SNOWFLAKE.CORTEX.COMPLETE (the older function, for accounts without the newer one).
-- Parameters: model, temperature, max_tokens, batch (JSON array of {k, prompt}).
SELECT t.value:k::string AS k,
       SNOWFLAKE.CORTEX.COMPLETE(
           %(model)s,
           [{'role': 'user', 'content': t.value:prompt::string}],
           {'temperature': %(temperature)s, 'max_tokens': %(max_tokens)s}
       ) AS response
FROM TABLE(FLATTEN(input => PARSE_JSON(%(batch)s))) t
ORDER BY t.index
