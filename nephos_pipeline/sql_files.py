"""Load the Snowflake-dialect ``.sql`` files shipped with the package.

The files live in the repository's top-level ``sql/`` folder (so a DBA can run them as-is)
and are installed as the ``nephos_pipeline.sql`` package, so a wheel runs exactly them.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from sqlglot import tokens
from sqlglot.dialects.snowflake import Snowflake


@cache
def load_sql(name: str, package: str = "nephos_pipeline.sql") -> str:
    """The text of ``sql/<name>`` (e.g. ``"ddl/metrics.sql"``), or of ``name`` in another package."""
    node = resources.files(package)
    for part in name.split("/"):
        node = node.joinpath(part)
    return node.read_text(encoding="utf-8")


def split_statements(script: str) -> list[str]:
    """Split a script on top-level semicolons using Snowflake's tokenizer.

    A tokenizer rather than ``str.split(';')`` so semicolons inside strings or comments
    (``'; DROP TABLE ...'``) never cut a statement.
    """
    tokenizer = Snowflake().tokenizer()
    statements: list[str] = []
    start = 0
    for token in tokenizer.tokenize(script):
        if token.token_type == tokens.TokenType.SEMICOLON:
            text = script[start : token.start].strip()
            if _has_code(text):
                statements.append(text)
            start = token.end + 1
    tail = script[start:].strip()
    if _has_code(tail):
        statements.append(tail)
    return statements


def _has_code(text: str) -> bool:
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("--")]
    return bool(lines)
