"""Reconciliation: every Metrics item in DynamoDB is loaded or rejected, counted per instance and day."""
