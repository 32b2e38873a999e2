"""Nephos batch layer: DynamoDB extracts -> warehouse -> measured, explained insights."""
