-- `nephos doctor`: one tiny AI_COMPLETE call. Parameters: model, prompt.
SELECT AI_COMPLETE(model => %(model)s, prompt => %(prompt)s, model_parameters => {'temperature': 0, 'max_tokens': 5}) AS response
