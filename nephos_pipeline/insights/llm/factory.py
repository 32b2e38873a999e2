"""Pick the narrator from configuration (called by ``nephos_pipeline.resources``).

``NEPHOS_LLM``: ``local`` (default; deterministic text, no model), ``cortex`` (Snowflake
Cortex through the warehouse connection) or ``openai`` (an OpenAI-compatible endpoint such
as a local Ollama). Model and endpoint are settings because model lists change often.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from dagster import EnvVar

from nephos_pipeline.insights.llm.base import Narrator
from nephos_pipeline.insights.llm.cortex import CortexNarrator
from nephos_pipeline.insights.llm.local import LocalNarrator
from nephos_pipeline.insights.llm.openai_compat import OpenAICompatNarrator


def build_narrator(env: Mapping[str, str] | None = None) -> Narrator:
    env = os.environ if env is None else env
    kind = (env.get("NEPHOS_LLM") or "local").strip().lower()
    if kind == "local":
        return LocalNarrator()
    if kind == "cortex":
        return CortexNarrator(
            model=env.get("NEPHOS_LLM_MODEL") or "mistral-large2",
            function=env.get("NEPHOS_CORTEX_FUNCTION") or "AI_COMPLETE",
        )
    if kind == "openai":
        return OpenAICompatNarrator(
            model=env.get("NEPHOS_LLM_MODEL") or "llama3.1",
            base_url=env.get("NEPHOS_LLM_BASE_URL") or "http://127.0.0.1:11434/v1",
            api_key=EnvVar("NEPHOS_LLM_API_KEY") if env.get("NEPHOS_LLM_API_KEY") else None,
        )
    raise ValueError(f"NEPHOS_LLM must be local, cortex or openai, got {kind!r}")
