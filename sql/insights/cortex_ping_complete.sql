-- `nephos doctor`: one tiny COMPLETE call. Parameters: model, prompt.
SELECT SNOWFLAKE.CORTEX.COMPLETE(%(model)s, %(prompt)s) AS response
