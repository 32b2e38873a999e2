"""Narrator for any OpenAI-compatible server (vLLM, Ollama, LM Studio, hosted APIs).

One ``POST {base_url}/chat/completions`` per batch with ``urllib`` (no new dependency):
the rules as the system message, all findings as one JSON data block, JSON mode on, and
a reply ``{"narratives": [{"id", "title", "description", "recommendations"}]}``. The
response is read with a byte cap and an overall deadline, because a server that drips
or floods must cost us a timeout, not the run.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any

from pydantic import Field

from nephos_pipeline.insights.findings import Finding
from nephos_pipeline.insights.llm.base import ModelNarrator, NarratorError, Reply, split_tokens
from nephos_pipeline.insights.llm.prompt import batch_messages
from nephos_pipeline.insights.llm.validate import RAW_MAX_BYTES, Rejected, split_batch
from nephos_pipeline.warehouse.base import Warehouse

_CHUNK = 64 * 1024


class OpenAICompatNarrator(ModelNarrator):
    """Narratives from an OpenAI-compatible chat-completions endpoint."""

    base_url: str = Field(description="Server base URL, e.g. http://127.0.0.1:11434/v1 (no trailing /chat/completions).")
    api_key: str | None = Field(default=None, description="Bearer token, if the server needs one.", repr=False)
    json_mode: bool = Field(default=True, description="Send response_format={'type': 'json_object'}.")
    max_total_tokens: int = Field(default=8000, description="Cap on max_tokens for the whole batch call.")
    timeout_s: float = Field(default=60.0, description="Overall deadline for the call, in seconds.")

    backend = "openai"

    def _post(self, body: dict[str, Any], max_bytes: int) -> dict[str, Any]:
        """POST JSON, read at most ``max_bytes`` before the deadline, return the decoded envelope."""
        url = self.base_url.rstrip("/") + "/chat/completions"
        if not url.lower().startswith(("http://", "https://")):
            raise NarratorError("bad_config", "base_url must be http(s)")
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(url, data=json.dumps(body).encode("utf-8"), headers=headers, method="POST")
        deadline = time.monotonic() + float(self.timeout_s)
        chunks: list[bytes] = []
        try:
            with urllib.request.urlopen(request, timeout=float(self.timeout_s)) as response:  # noqa: S310 - scheme checked above
                size = 0
                while chunk := response.read(_CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise NarratorError("too_long", f"response over {max_bytes} bytes")
                    if time.monotonic() > deadline:
                        raise NarratorError("timeout")
                    chunks.append(chunk)
        except NarratorError:
            raise
        except urllib.error.HTTPError as exc:
            raise NarratorError(f"http_{exc.code}") from exc
        except urllib.error.URLError as exc:
            reason = "timeout" if isinstance(exc.reason, TimeoutError) else "unreachable"
            raise NarratorError(reason, type(exc.reason).__name__) from exc
        except TimeoutError as exc:
            raise NarratorError("timeout") from exc
        except (http.client.HTTPException, OSError, ValueError) as exc:
            raise NarratorError("unreachable", type(exc).__name__) from exc
        try:
            envelope = json.loads(b"".join(chunks).decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise NarratorError("invalid_json", "response is not JSON") from exc
        if not isinstance(envelope, dict):
            raise NarratorError("invalid_json", "response is not a JSON object")
        return envelope

    @staticmethod
    def _content(envelope: dict[str, Any]) -> str:
        try:
            content = envelope["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError) as exc:
            raise NarratorError("bad_response", "no choices[0].message.content") from exc
        if not isinstance(content, str) or not content.strip():
            raise NarratorError("empty")
        return content

    def _complete(self, findings: list[Finding], warehouse: Warehouse | None) -> Sequence[Reply]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": batch_messages(findings),
            "temperature": float(self.temperature),
            "max_tokens": min(int(self.max_tokens) * len(findings), int(self.max_total_tokens)),
        }
        if self.json_mode:
            body["response_format"] = {"type": "json_object"}
        envelope = self._post(body, max_bytes=RAW_MAX_BYTES * len(findings) + _CHUNK)
        content = self._content(envelope)
        usage = envelope.get("usage") if isinstance(envelope.get("usage"), dict) else {}
        prompt = split_tokens(usage.get("prompt_tokens"), len(findings))
        completion = split_tokens(usage.get("completion_tokens"), len(findings))
        replies = []
        for item, p, c in zip(split_batch(content, len(findings)), prompt, completion, strict=True):
            if isinstance(item, Rejected):
                replies.append(Reply(failure=item.reason, prompt_tokens=p, completion_tokens=c))
            else:
                replies.append(Reply(raw=item, prompt_tokens=p, completion_tokens=c))
        return replies

    def ping(self, warehouse: Warehouse | None = None) -> tuple[str, float]:
        started = time.monotonic()
        envelope = self._post(
            {"model": self.model, "messages": [{"role": "user", "content": "Reply with the word OK."}], "max_tokens": 5},
            max_bytes=RAW_MAX_BYTES,
        )
        self._content(envelope)
        model = envelope.get("model")
        return (model if isinstance(model, str) and model else self.model), time.monotonic() - started
