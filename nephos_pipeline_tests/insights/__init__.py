"""Tests for the insights narrators: deterministic wording, validation, Cortex, OpenAI-compatible."""
