"""Dagster UI metadata built from untrusted text (agent ids, host names, LLM output).

The UI renders Markdown metadata, so every string that came from an agent or a model is
escaped here: shown as written, never interpreted as Markdown or HTML.
"""

from __future__ import annotations

import pandas as pd

_MD_SPECIAL = "\\`*_{}[]()#+!|<>~"


def md_text(value: object, limit: int | None = None) -> str:
    """``value`` as inert Markdown text on one line (optionally cut to ``limit`` characters)."""
    text = str(value)[:limit] if limit else str(value)
    for ch in _MD_SPECIAL:
        text = text.replace(ch, "\\" + ch)
    return " ".join(text.splitlines())


def markdown_table(df: pd.DataFrame) -> str:
    """``df`` as a Markdown table for Dagster metadata, every string cell escaped and kept as written."""
    return df.map(lambda v: md_text(v) if isinstance(v, str) else v).to_markdown(index=False, disable_numparse=True)
