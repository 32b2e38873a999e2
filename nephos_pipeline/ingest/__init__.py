"""Extract from DynamoDB, validate against the data contract, land, and MERGE."""
