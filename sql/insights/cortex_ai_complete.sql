-- Narrate a batch of findings with AI_COMPLETE, one row per prompt, with a JSON schema for
-- the reply. Parameters: model, temperature, max_tokens (bound as literals: the function
-- wants constants), batch (JSON array of {k, prompt}).
SELECT t.value:k::string AS k,
       AI_COMPLETE(
           model => %(model)s,
           prompt => t.value:prompt::string,
           model_parameters => {'temperature': %(temperature)s, 'max_tokens': %(max_tokens)s},
           response_format => {
               'type': 'json',
               'schema': {
                   'type': 'object',
                   'properties': {
                       'title': {'type': 'string'},
                       'description': {'type': 'string'},
                       'recommendations': {'type': 'string'}
                   },
                   'required': ['title', 'description', 'recommendations']
               }
           },
           show_details => TRUE
       ) AS response
FROM TABLE(FLATTEN(input => PARSE_JSON(%(batch)s))) t
ORDER BY t.index
