"""LLM narrators: Local (deterministic, default), Snowflake Cortex, OpenAI-compatible.

Every narrator makes at most one backend call per batch of findings and returns one
narrative per finding; model output is validated and replaced by the deterministic
narrative (with ``failure`` set) whenever it cannot be trusted.
"""

from nephos_pipeline.insights.llm.base import Narrator, NarratorError, Reply
from nephos_pipeline.insights.llm.cortex import LIST_MODELS_SQL, LIST_MODELS_SQL_LEGACY, CortexNarrator
from nephos_pipeline.insights.llm.local import LocalNarrator
from nephos_pipeline.insights.llm.openai_compat import OpenAICompatNarrator

__all__ = [
    "LIST_MODELS_SQL",
    "LIST_MODELS_SQL_LEGACY",
    "CortexNarrator",
    "LocalNarrator",
    "Narrator",
    "NarratorError",
    "OpenAICompatNarrator",
    "Reply",
]
