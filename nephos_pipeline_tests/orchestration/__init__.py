"""Tests for the DynamoDB change sensor and its stream reading."""
