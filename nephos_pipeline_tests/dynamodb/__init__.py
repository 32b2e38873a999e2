"""Tests for the DynamoDB table specs and the local DynamoDB-compatible server."""
